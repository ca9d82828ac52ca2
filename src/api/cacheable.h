// Answers the public side may let caches keep (api/open_data_public.cc, api/dashboard_public.cc):
// Cache-Control for a minute, Vary: Host (links follow it) and a weak ETag of the body; 304 with
// an empty body when the caller's If-None-Match already names it.
#pragma once

#include "http/message.h"

namespace bysans::api {

http::Response Cacheable(const http::Request& req, http::Response r);

}  // namespace bysans::api
