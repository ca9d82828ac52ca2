// Cross-site request forgery defence for requests a browser authenticates by
// itself (the session cookie). SameSite alone is not enough: a same-site page
// still sends the cookie, and a cross-site form or fetch() of a "simple"
// request needs no CORS preflight. bysans grants no CORS, so a request that
// needs a preflight (a JSON content type, PUT/PATCH/DELETE) can only come from
// its own pages; the checks below refuse everything else.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "http/message.h"

namespace bysans::http {

// GET, HEAD and OPTIONS change nothing.
bool IsSafeMethod(std::string_view method);

// The lower-case "type/subtype" of a Content-Type value, without parameters
// ("Application/JSON; charset=utf-8" → "application/json"); "" when empty.
std::string MediaType(std::string_view content_type);

// application/json or application/<anything>+json (parameters allowed).
bool IsJsonMediaType(std::string_view content_type);

// For a request authenticated by the session cookie. Ok for safe methods.
// Otherwise:
//  - kPermissionDenied when `Sec-Fetch-Site` says cross-site or same-site, or
//    `Origin` is present and names another host than the request's `Host`
//    (the scheme is not compared: TLS may end at a reverse proxy);
//  - kUnsupportedMedia for a body sent with another content type than
//    application/json;
//  - kPermissionDenied for a POST without a body unless it carries
//    Content-Type: application/json, or `Origin` / `Sec-Fetch-Site` shows it
//    comes from our own origin (a bodiless POST is the one write a cross-site
//    page can send without a preflight; PUT, PATCH and DELETE always need one).
Status CheckCookieRequest(const Request& req);

}  // namespace bysans::http
