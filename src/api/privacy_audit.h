// Privacy by design on the read side (issue 18): reads of the readings and messages of an
// application whose data class is not `none` are written to the audit log (who, what, when, from
// where; repeated reads folded per minute by ReadAuditCounter), and exports of `personal` and
// `sensitive` data are for the organisation's admins only.
#pragma once

#include <string>
#include <string_view>

#include "api/common.h"

namespace bysans::api {

// The data class of the application a device belongs to.
Result<DataClass> DataClassOf(ApiContext& ctx, const Device& d);

// Records that `p` read `what` ("readings", "latest", "observations", ...) of `object_type`
// `object_id` (a device or application of organisation `org_id`) holding data of class `c`:
// nothing for DataClass::kNone; otherwise an audit entry "read" unless the same caller read the
// same thing within the minute (then only counted; the next entry carries the count as
// "folded").
void AuditPersonalRead(ApiContext& ctx, const auth::Principal& p, const http::Request& req,
                       Id org_id, std::string_view object_type, Id object_id, DataClass c,
                       std::string_view what);

// kPermissionDenied unless `p` is an admin of `org_id` when the data is `personal` or
// `sensitive` (exports of such data are for admins only); Ok for the other classes.
Status RequireExportRole(const auth::Principal& p, Id org_id, DataClass c);

}  // namespace bysans::api
