#include "core/redact.h"

#include <array>
#include <cctype>

namespace bysans {
namespace {

constexpr int kMaxDepth = 64;

bool Redactable(const nlohmann::json& v) { return !v.is_null() && !v.is_boolean(); }

void RedactAll(nlohmann::json& v) {  // every value of a "headers" object
  if (v.is_object()) {
    for (auto& [k, member] : v.items()) {
      if (Redactable(member)) member = kRedacted;
    }
  } else if (Redactable(v)) {
    v = kRedacted;
  }
}

void Redact(nlohmann::json& v, int depth) {
  if (!v.is_object() && !v.is_array()) return;
  if (depth >= kMaxDepth) {
    v = kRedacted;
    return;
  }
  if (v.is_array()) {
    for (auto& e : v) Redact(e, depth + 1);
    return;
  }
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it.key() == "headers") {
      RedactAll(it.value());
    } else if (LooksSecret(it.key())) {
      if (Redactable(it.value())) it.value() = kRedacted;
    } else {
      Redact(it.value(), depth + 1);
    }
  }
}

}  // namespace

bool LooksSecret(std::string_view member_name) {
  std::string n;
  for (char c : member_name) {
    if (c == '-' || c == '_' || c == '.') continue;
    n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  static constexpr std::array<const char*, 10> kWords = {
      "password",      "passwd", "passphrase", "secret", "token",
      "authorization", "cookie", "credential", "apikey", "privatekey"};
  for (const char* w : kWords) {
    if (n.find(w) != std::string::npos) return true;
  }
  return n.size() > 3 && n.compare(n.size() - 3, 3, "key") == 0;
}

void RedactSecrets(nlohmann::json& doc) { Redact(doc, 0); }

std::string RedactSecretsInText(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || (text[first] != '{' && text[first] != '[')) {
    return std::string(text);
  }
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded()) return std::string(text);
  RedactSecrets(doc);
  return doc.dump();
}

}  // namespace bysans
