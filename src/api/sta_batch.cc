// POST /sta/v1.1/$batch (OGC 18-088 11.2, JSON batch format): the requests of the body run one
// after the other through the router as the caller (the same credentials and CSRF headers, so
// each is authorised as if sent alone), a request waiting for the previous one's answer (an
// Observation's after its commit). "$<id>" at the start of a url names the entity an earlier
// request created. A request whose dependsOn failed is answered 424 without running.
// Answers 200 {"responses": [{id, status, headers?, body?}]}.
#include "api/sta_batch.h"

#include <future>
#include <map>
#include <memory>
#include <set>

#include "api/common.h"
#include "sta/batch.h"

namespace bysans::api {
namespace {

constexpr std::string_view kRoot = "/sta/v1.1";

class BatchRun : public std::enable_shared_from_this<BatchRun> {
 public:
  BatchRun(const http::Router& router, const http::Request& outer, http::Responder respond,
           std::vector<sta::BatchRequest> requests, std::string base)
      : router_(router),
        outer_headers_(outer.headers),
        remote_addr_(outer.remote_addr),
        tls_(outer.tls),
        respond_(std::move(respond)),
        requests_(std::move(requests)),
        base_(std::move(base)) {}

  void Step() {
    while (next_ < requests_.size()) {
      const sta::BatchRequest& r = requests_[next_];
      bool blocked = false;
      for (const std::string& d : r.depends_on) blocked |= failed_.count(d) > 0;
      auto url = sta::ResolveBatchUrl(r.url, created_);
      if (blocked || !url.ok()) {
        http::Response resp = blocked ? http::ErrorResponse(424, "failed_dependency",
                                                            "a request it depends on failed")
                                      : http::ErrorResponse(url.status());
        Record(std::move(resp));
        continue;
      }
      auto sub = std::make_shared<http::Request>();
      sub->method = r.method;
      sub->target = std::string(kRoot) + "/" + *url;
      const size_t q = sub->target.find('?');
      sub->path = http::PercentDecode(std::string_view(sub->target).substr(0, q), false);
      if (q != std::string::npos)
        sub->query = http::ParseQuery(std::string_view(sub->target).substr(q + 1));
      for (const auto& [name, value] : outer_headers_.all())
        if (name != "content-length" && name != "Content-Length") sub->headers.Add(name, value);
      if (!r.body.is_null()) {
        sub->headers.Set("Content-Type", "application/json");
        sub->body = r.body.dump();
      }
      sub->remote_addr = remote_addr_;
      sub->tls = tls_;
      subs_.push_back(sub);
      // Waited for here, on the batch's own thread: an answer may come from the store's writer
      // thread (an Observation's commit), which must not run the next request (a write that
      // waits for the writer, such as a deletion, would wait for itself; ingest would stall).
      auto answer = std::make_shared<std::promise<http::Response>>();
      auto got = answer->get_future();
      router_.Dispatch(*sub, [answer](http::Response resp) { answer->set_value(std::move(resp)); });
      Record(got.get());
    }
    respond_(Json(200, {{"responses", std::move(responses_)}}));
  }

 private:
  void Record(http::Response resp) {
    const sta::BatchRequest& r = requests_[next_++];
    json out = {{"id", r.id}, {"status", resp.status}};
    const std::string& location = resp.headers.Get("Location");
    if (!location.empty()) {
      out["headers"] = {{"location", location}};
      if (location.rfind(base_ + "/", 0) == 0) created_[r.id] = location.substr(base_.size() + 1);
    }
    if (!resp.body.empty()) {
      json body = json::parse(resp.body, nullptr, false);
      out["body"] = body.is_discarded() ? json(resp.body) : std::move(body);
    }
    if (resp.status >= 400) failed_.insert(r.id);
    responses_.push_back(std::move(out));
  }

  const http::Router& router_;
  http::Headers outer_headers_;
  std::string remote_addr_;
  bool tls_;
  http::Responder respond_;
  std::vector<sta::BatchRequest> requests_;
  std::string base_;
  size_t next_ = 0;
  json responses_ = json::array();
  std::map<std::string, std::string> created_;  // request id -> "Things(7)"
  std::set<std::string> failed_;
  std::vector<std::shared_ptr<http::Request>> subs_;  // alive until the batch ends
};

}  // namespace

void RegisterStaBatchRoute(http::Router& router, ApiContext& ctx) {
  router.Add(
      "POST", std::string(kRoot) + "/$batch",
      [&ctx, &router](http::Request& req, const http::Responder& respond) {
        WithPrincipal(ctx, req, respond, [&](const auth::Principal&) {
          auto body = ParseJsonObject(req);
          if (!body.ok()) {
            respond(http::ErrorResponse(body.status()));
            return;
          }
          auto requests = sta::ParseBatch(*body);
          if (!requests.ok()) {
            respond(http::ErrorResponse(requests.status()));
            return;
          }
          auto run = std::make_shared<BatchRun>(router, req, respond, std::move(*requests),
                                                BaseUrl(ctx, req) + std::string(kRoot));
          run->Step();
        });
      },
      "SensorThings API 1.1 batch requests (JSON batch format): up to 100 requests run in order "
      "as the caller; $<id> names an entity created earlier in the batch");
}

}  // namespace bysans::api
