#include "api/geocode.h"

#include <memory>
#include <mutex>

#include "act/geocode.h"
#include "api/common.h"
#include "core/token_bucket.h"

namespace bysans::api {
namespace {

constexpr size_t kMinQuery = 2, kMaxQuery = 200;
constexpr long kTimeoutMs = 5000;

// Whether the caller may place a device somewhere: an editor or admin of some organisation (or of
// some of its applications), or a global admin.
bool MayPlaceDevices(const auth::Principal& p) {
  if (p.global_admin) return true;
  for (const auto& [org, role] : p.roles)
    if (role >= Role::kEditor) return true;
  return false;
}

struct Limiter {
  std::mutex mu;
  KeyedTokenBucket<std::string> buckets{2, 20};  // per caller: 2 a second, bursts of 20
};

}  // namespace

void RegisterGeocodeRoutes(http::Router& router, ApiContext& ctx, std::string url_template,
                           const OutboundPolicy& outbound) {
  auto limiter = std::make_shared<Limiter>();
  AddAuthed(router, ctx, "GET", "/api/v1/geocode",
            "Places (label, latitude, longitude) for an address text, from the configured geocoder",
            [&ctx, url_template, outbound, limiter](
                http::Request& req, const auth::Principal& p) -> Result<http::Response> {
              if (url_template.empty())
                return NotFound("the address search is off (web.geocoder_url)");
              if (!MayPlaceDevices(p))
                return PermissionDenied("the address search is for editors and admins");
              const std::string* q = req.Query("q");
              if (q == nullptr || q->size() < kMinQuery || q->size() > kMaxQuery)
                return InvalidArgument("query parameter 'q' must be " + std::to_string(kMinQuery) +
                                       " to " + std::to_string(kMaxQuery) + " bytes of text");
              {
                std::lock_guard lock(limiter->mu);
                if (!limiter->buckets.Allow(p.name, ctx.clock.NowMs()))
                  return Status(Code::kRateLimited, "too many address searches; wait a moment");
              }
              BYSANS_ASSIGN_OR_RETURN(auto places,
                                      act::Geocode(url_template, *q, outbound, kTimeoutMs));
              nlohmann::json items = nlohmann::json::array();
              for (const act::Place& pl : places)
                items.push_back({{"label", pl.label}, {"lat", pl.lat}, {"lon", pl.lon}});
              return Json(200, {{"items", items}});
            });
}

}  // namespace bysans::api
