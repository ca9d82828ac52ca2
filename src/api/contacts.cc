// Responsible contacts (issue 20): GET/PUT the contacts of an application or a device, and a
// device's effective list (its own, then its application's, each saying where it came from).
// Viewers read, editors and admins replace a list. Contacts are personal data: every read is in
// the audit log (folded per caller and minute, api/privacy_audit.h).
#include "api/common.h"
#include "api/privacy_audit.h"
#include "model/contact.h"
#include "store/contact_store.h"

namespace bysans::api {
namespace {

json ContactToJson(const Contact& c) {
  return {{"name", c.name}, {"email", c.email}, {"phone", c.phone}, {"role", c.role}};
}

json ListJson(const std::vector<Contact>& list) {
  json items = json::array();
  for (const Contact& c : list) items.push_back(ContactToJson(c));
  return {{"items", std::move(items)}};
}

// The body {"items": [{name, email, phone, role}, ...]}, validated (phones normalised).
Result<std::vector<Contact>> ParseContacts(const http::Request& req) {
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(body, {"items"}));
  auto items = body.find("items");
  if (items == body.end() || !items->is_array()) {
    return InvalidArgument("field 'items' must be an array of contacts");
  }
  std::vector<Contact> out;
  for (const json& item : *items) {
    if (!item.is_object()) return InvalidArgument("field 'items' must hold objects");
    BYSANS_RETURN_IF_ERROR(RejectUnknownFields(item, {"name", "email", "phone", "role"}));
    Contact c;
    for (auto [field, target] : {std::pair{"name", &c.name}, std::pair{"email", &c.email},
                                 std::pair{"phone", &c.phone}, std::pair{"role", &c.role}}) {
      BYSANS_ASSIGN_OR_RETURN(auto v, OptString(item, field));
      if (v) *target = std::move(*v);
    }
    out.push_back(std::move(c));
    if (out.size() > kMaxContactsPerObject) break;  // ValidateContacts names the limit
  }
  BYSANS_RETURN_IF_ERROR(ValidateContacts(out));
  return out;
}

// The application or device named in the path, for a caller of at least `min`.
struct Owner {
  ContactOwner kind;
  Id id = 0;
  Id org_id = 0;
  Id app_id = 0;          // a device's application
  const char* type = "";  // "application" | "device" (audit object type)
};

Result<Owner> LoadOwner(ApiContext& ctx, const http::Request& req, const auth::Principal& p,
                        ContactOwner kind, Role min) {
  if (kind == ContactOwner::kApplication) {
    BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "appId"));
    BYSANS_ASSIGN_OR_RETURN(Application app, LoadApplication(ctx, p, id, min));
    return Owner{kind, app.id, app.org_id, app.id, "application"};
  }
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, id, min));
  return Owner{kind, d.id, d.org_id, d.app_id, "device"};
}

void AuditRead(ApiContext& ctx, const auth::Principal& p, const http::Request& req,
               const Owner& o) {
  AuditPersonalRead(ctx, p, req, o.org_id, o.type, o.id, DataClass::kPersonal, "contacts");
}

Result<http::Response> Get(ApiContext& ctx, ContactOwner kind, http::Request& req,
                           const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Owner o, LoadOwner(ctx, req, p, kind, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(auto list, ctx.store.contacts().ListContacts(kind, o.id));
  AuditRead(ctx, p, req, o);
  return Json(200, ListJson(list));
}

Result<http::Response> Put(ApiContext& ctx, ContactOwner kind, http::Request& req,
                           const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Owner o, LoadOwner(ctx, req, p, kind, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(auto list, ParseContacts(req));
  BYSANS_RETURN_IF_ERROR(ctx.store.contacts().ReplaceContacts(kind, o.id, list));
  Audit(ctx, p, req, o.org_id, "update", std::string(o.type) + "_contacts", std::to_string(o.id),
        std::to_string(list.size()) + " contact(s)");
  return Json(200, ListJson(list));
}

Result<http::Response> GetEffective(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Owner d, LoadOwner(ctx, req, p, ContactOwner::kDevice, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(auto own, ctx.store.contacts().ListContacts(ContactOwner::kDevice, d.id));
  BYSANS_ASSIGN_OR_RETURN(auto app,
                          ctx.store.contacts().ListContacts(ContactOwner::kApplication, d.app_id));
  json items = json::array();
  for (const EffectiveContact& e : Effective(own, app)) {
    json c = ContactToJson(e.contact);
    c["source"] = ContactSourceName(e.source);
    c["sourceId"] = e.source == ContactSource::kDevice ? d.id : d.app_id;
    items.push_back(std::move(c));
  }
  AuditRead(ctx, p, req, d);
  return Json(200, json{{"items", std::move(items)}});
}

}  // namespace

void RegisterContactRoutes(http::Router& router, ApiContext& ctx) {
  struct Group {
    ContactOwner kind;
    std::string path;
    const char* noun;
  };
  for (const Group& g :
       {Group{ContactOwner::kApplication, "/api/v1/applications/{appId}/contacts",
              "an application's"},
        Group{ContactOwner::kDevice, "/api/v1/devices/{id}/contacts", "a device's own"}}) {
    auto bind = [&ctx, kind = g.kind](auto fn) {
      return [&ctx, kind, fn](http::Request& req, const auth::Principal& p) {
        return fn(ctx, kind, req, p);
      };
    };
    AddAuthed(router, ctx, "GET", g.path,
              std::string("The responsible contacts of ") + g.noun + " (audited read)", bind(Get));
    AddAuthed(router, ctx, "PUT", g.path,
              std::string("Replace the contacts of ") + g.noun + " (editors)", bind(Put));
  }
  AddAuthed(
      router, ctx, "GET", "/api/v1/devices/{id}/contacts/effective",
      "A device's contacts and its application's, with their source (audited read)",
      [&ctx](http::Request& req, const auth::Principal& p) { return GetEffective(ctx, req, p); });
}

}  // namespace bysans::api
