// The one redaction of secrets in free-form JSON (audit details, logged bodies): every member
// whose name looks secret loses its value, at any depth. A name looks secret when, lower-cased
// without '-', '_' and '.', it contains password, passwd, passphrase, secret, token,
// authorization, cookie, credential, apikey or privatekey, or ends in "key" (clientKey,
// ingestKey, X-Api-Key; but not a member named just "key"). Every value of a member named
// "headers" is a secret too (webhook headers carry credentials under any name).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace bysans {

inline constexpr const char* kRedacted = "[redacted]";

bool LooksSecret(std::string_view member_name);

// Replaces secret values (strings, numbers, objects, arrays; not true/false/null) with
// kRedacted. Subtrees nested deeper than 64 levels are replaced too (never recursed into).
void RedactSecrets(nlohmann::json& doc);

// The same for a text: a JSON object or array comes back redacted (dumped again); any other
// text is returned unchanged.
std::string RedactSecretsInText(std::string_view text);

}  // namespace bysans
