#include "act/action_secrets.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "act/outbox.h"

namespace bysans::act {
namespace {

using json = nlohmann::json;

std::string TypeOf(const json& a) { return a.is_object() ? a.value("type", "") : ""; }

// Actions with an SMTP password: "email", and "notify_contacts" for its e-mails.
bool HasSmtpPassword(const std::string& type) {
  return type == "email" || type == "notify_contacts";
}

// The stored password of an action, sealed (a clear one of an old definition is sealed now);
// "" when it has none.
Result<std::string> SealedPassword(const json& a, const SecretBox& box) {
  if (a.contains(kPasswordSealed) && a[kPasswordSealed].is_string()) {
    return a[kPasswordSealed].get<std::string>();
  }
  if (a.contains("password") && a["password"].is_string() &&
      !a["password"].get_ref<const std::string&>().empty()) {
    return box.SealText(a["password"].get<std::string>());
  }
  return std::string();
}

// The stored header values of an action, sealed (clear ones of an old definition sealed now).
Result<json> SealedHeaders(const json& a, const SecretBox& box) {
  json out = json::object();
  if (a.contains(kHeadersSealed) && a[kHeadersSealed].is_object()) out = a[kHeadersSealed];
  if (a.contains("headers") && a["headers"].is_object()) {
    for (const auto& [name, value] : a["headers"].items()) {
      if (!value.is_string()) continue;
      BYSANS_ASSIGN_OR_RETURN(out[name], box.SealText(value.get<std::string>()));
    }
  }
  return out;
}

// The stored action that `action` (at `index` of a request) replaces: the one at the same index
// if it has the same type and server, else an unused one of the same type and server (actions
// reordered), else the one at the same index if it has the same type (its server changed).
const json* PreviousOf(const json& previous, size_t index, const json& action,
                       std::vector<bool>* used) {
  if (!previous.is_array()) return nullptr;
  const std::string type = TypeOf(action);
  const std::string target = TargetKeyOf(action.value("url", ""));
  auto same = [&](size_t j, bool need_target) {
    return j < previous.size() && !(*used)[j] && TypeOf(previous[j]) == type &&
           (!need_target || TargetKeyOf(previous[j].value("url", "")) == target);
  };
  std::optional<size_t> found;
  if (same(index, true)) {
    found = index;
  } else {
    for (size_t j = 0; j < previous.size() && !found; ++j) {
      if (same(j, true)) found = j;
    }
    if (!found && same(index, false)) found = index;
  }
  if (!found) return nullptr;
  (*used)[*found] = true;
  return &previous[*found];
}

Status Changed(const std::string& field) {
  return InvalidArgument("field '" + field +
                         "' must be given again: the action's server (scheme, host or port) "
                         "changed, and a stored secret is never sent to another server");
}

}  // namespace

json ActionsForApi(const json& stored, bool with_urls) {
  json out = json::array();
  if (!stored.is_array()) return out;
  for (json a : stored) {
    if (!a.is_object()) continue;
    std::string type = TypeOf(a);
    if (HasSmtpPassword(type)) {
      bool has =
          a.contains(kPasswordSealed) || (a.contains("password") && a["password"].is_string() &&
                                          !a["password"].get_ref<const std::string&>().empty());
      a.erase("password");
      a.erase(kPasswordSealed);
      a[kHasPassword] = has;
    } else if (type == "webhook") {
      std::set<std::string> names;
      for (const char* member : {"headers", kHeadersSealed}) {
        if (!a.contains(member) || !a[member].is_object()) continue;
        for (const auto& [name, value] : a[member].items()) names.insert(name);
      }
      a.erase("headers");
      a.erase(kHeadersSealed);
      a[kHeaderNames] = names;
      if (!with_urls && a.contains("url")) {
        a["url"] = TargetKeyOf(a["url"].is_string() ? a["url"].get<std::string>() : "") + "/…";
        a[kUrlHidden] = true;
      }
    }
    out.push_back(std::move(a));
  }
  return out;
}

Result<json> ActionsForStore(const json& incoming, const json& previous, const SecretBox& box) {
  if (!incoming.is_array()) return InvalidArgument("field 'actions' must be an array");
  json out = json::array();
  std::vector<bool> used(previous.is_array() ? previous.size() : 0, false);
  for (size_t i = 0; i < incoming.size(); ++i) {
    json a = incoming[i];
    const std::string p = "actions[" + std::to_string(i) + "].";
    if (!a.is_object())
      return InvalidArgument("field 'actions[" + std::to_string(i) + "]' must be an object");
    for (const char* stored_only : {kPasswordSealed, kHeadersSealed}) {
      if (a.contains(stored_only)) {
        return InvalidArgument("field '" + p + stored_only + "' is not a known field");
      }
    }
    a.erase(kHasPassword);
    a.erase(kHeaderNames);
    const std::string type = TypeOf(a);
    const json* prev = PreviousOf(previous, i, a, &used);
    const bool same_target =
        prev != nullptr && TargetKeyOf(prev->value("url", "")) == TargetKeyOf(a.value("url", ""));
    if (HasSmtpPassword(type)) {
      if (a.contains("password")) {
        if (a["password"].is_string() && !a["password"].get_ref<const std::string&>().empty()) {
          BYSANS_ASSIGN_OR_RETURN(a[kPasswordSealed],
                                  box.SealText(a["password"].get<std::string>()));
        }
        a.erase("password");  // null or "": no password
      } else if (prev != nullptr) {
        BYSANS_ASSIGN_OR_RETURN(std::string old, SealedPassword(*prev, box));
        if (!old.empty()) {
          if (!same_target) return Changed(p + "password");
          a[kPasswordSealed] = old;
        }
      }
    } else if (type == "webhook") {
      json old = json::object();
      if (prev != nullptr) {
        BYSANS_ASSIGN_OR_RETURN(old, SealedHeaders(*prev, box));
      }
      json sealed = json::object();
      if (a.contains("headers") && a["headers"].is_object()) {
        for (const auto& [name, value] : a["headers"].items()) {
          if (value.is_null()) {  // keep the stored value
            std::string field = p;
            field.append("headers.").append(name);
            if (!old.contains(name)) {
              return InvalidArgument("field '" + field +
                                     "' is null but no value is stored to keep");
            }
            if (!same_target) return Changed(field);
            sealed[name] = old[name];
          } else {
            BYSANS_ASSIGN_OR_RETURN(sealed[name], box.SealText(value.get<std::string>()));
          }
        }
        a.erase("headers");
      } else if (!old.empty()) {
        if (!same_target) return Changed(p + "headers");
        sealed = old;
      }
      if (!sealed.empty()) a[kHeadersSealed] = sealed;
    }
    out.push_back(std::move(a));
  }
  return out;
}

Result<json> SealStoredActions(json stored, const SecretBox& box) {
  if (!stored.is_array()) return stored;
  for (json& a : stored) {
    std::string type = TypeOf(a);
    if (HasSmtpPassword(type) && a.contains("password")) {
      BYSANS_ASSIGN_OR_RETURN(std::string sealed, SealedPassword(a, box));
      a.erase("password");
      if (!sealed.empty()) a[kPasswordSealed] = sealed;
    } else if (type == "webhook" && a.contains("headers")) {
      BYSANS_ASSIGN_OR_RETURN(json sealed, SealedHeaders(a, box));
      a.erase("headers");
      if (!sealed.empty()) a[kHeadersSealed] = sealed;
    }
  }
  return stored;
}

Result<int> SealClearRuleSecrets(RuleStore& rules, const SecretBox& box) {
  BYSANS_ASSIGN_OR_RETURN(std::vector<RuleRecord> all, rules.ListAllRules());
  int sealed = 0;
  for (RuleRecord& rec : all) {
    json def = json::parse(rec.definition, nullptr, false);
    if (!def.is_object() || !def.contains("actions")) continue;
    BYSANS_ASSIGN_OR_RETURN(json actions, SealStoredActions(def["actions"], box));
    if (actions == def["actions"]) continue;
    def["actions"] = std::move(actions);
    rec.definition = def.dump();
    BYSANS_RETURN_IF_ERROR(rules.UpdateRule(rec));
    ++sealed;
  }
  return sealed;
}

Result<json> OpenActionSecrets(json spec, const SecretBox* box) {
  if (!spec.is_object()) return spec;
  const bool sealed = spec.contains(kPasswordSealed) || spec.contains(kHeadersSealed);
  if (!sealed) return spec;
  if (box == nullptr) return FailedPrecondition("the action's secrets cannot be opened here");
  if (spec.contains(kPasswordSealed)) {
    BYSANS_ASSIGN_OR_RETURN(spec["password"],
                            box->UnsealText(spec.value(kPasswordSealed, std::string())));
    spec.erase(kPasswordSealed);
  }
  if (spec.contains(kHeadersSealed) && spec[kHeadersSealed].is_object()) {
    if (!spec.contains("headers") || !spec["headers"].is_object()) spec["headers"] = json::object();
    for (const auto& [name, value] : spec[kHeadersSealed].items()) {
      if (!value.is_string()) continue;
      BYSANS_ASSIGN_OR_RETURN(spec["headers"][name], box->UnsealText(value.get<std::string>()));
    }
  }
  spec.erase(kHeadersSealed);
  return spec;
}

}  // namespace bysans::act
