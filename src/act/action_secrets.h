// Secrets of rule actions: the SMTP "password" (of "email" and "notify_contacts") and every
// webhook header value. They are
// write-only in the API and sealed at rest (core/secret_box.h) in rule definitions and so in
// the outbox rows copied from them; they are opened only when an action is delivered.
//
// Forms of one action object:
//   API in    {"password": "..."}              {"headers": {"Authorization": "...", "X": null}}
//   stored    {"passwordSealed": "<base64>"}   {"headersSealed": {"Authorization": "<base64>"}}
//   API out   {"hasPassword": true}            {"headerNames": ["Authorization", "X"]}
//   delivery  {"password": "..."}              {"headers": {"Authorization": "..."}}
// Definitions written before sealing (clear "password"/"headers") are read as they are and
// sealed at the rule's next change.
#pragma once

#include <nlohmann/json.hpp>

#include "core/secret_box.h"
#include "core/status.h"
#include "store/rule_store.h"

namespace bysans::act {

// Output-only and stored-only members of an action (accepted by the rule validation).
inline constexpr const char* kHasPassword = "hasPassword";
inline constexpr const char* kHeaderNames = "headerNames";
inline constexpr const char* kPasswordSealed = "passwordSealed";
inline constexpr const char* kHeadersSealed = "headersSealed";
// Output-only, for readers who may not see a webhook's whole URL (ActionsForApi); refused in.
inline constexpr const char* kUrlHidden = "urlHidden";

// The API form of stored actions: no secret, clear or sealed. A webhook URL may carry a
// credential in its path or query (Slack, Teams and Discord put the token there): with
// `with_urls` false (callers who may only read the rule), it is cut to its server,
// "https://hooks.example/…", and the action says "urlHidden": true.
nlohmann::json ActionsForApi(const nlohmann::json& stored, bool with_urls = true);

// The stored form of the actions of a create or change request (already validated):
// secrets given are sealed; a secret not given again (no "password" member, no "headers"
// member, a header whose value is null) keeps the one of `previous` (the stored actions: the one
// at the same index with the same type and server, else another of the same type and server —
// reordered actions —, else the one at the same index with the same type) while the action's
// target (scheme, host and port of its URL) is unchanged. When the target changed, a secret not
// given again is InvalidArgument (so a stored credential never follows a URL to another server).
// "password": null or "" removes the password. Stored-only members in `incoming` are
// InvalidArgument.
Result<nlohmann::json> ActionsForStore(const nlohmann::json& incoming,
                                       const nlohmann::json& previous, const SecretBox& box);

// Seals clear secrets of stored actions written before sealing (idempotent).
Result<nlohmann::json> SealStoredActions(nlohmann::json stored, const SecretBox& box);

// Seals, once at start-up, the clear secrets of rule definitions written before sealing (the
// rules' "actions"); rules already sealed are not written. Returns how many were sealed.
Result<int> SealClearRuleSecrets(RuleStore& rules, const SecretBox& box);

// The delivery form of one stored action (or outbox spec): sealed secrets opened. `box` may
// be null when nothing is sealed.
Result<nlohmann::json> OpenActionSecrets(nlohmann::json spec, const SecretBox* box);

}  // namespace bysans::act
