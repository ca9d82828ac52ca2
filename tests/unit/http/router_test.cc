#include "http/router.h"

#include <gtest/gtest.h>

namespace bysans::http {
namespace {

std::string Call(Router& r, const std::string& method, const std::string& path, int* status,
                 std::map<std::string, std::string>* params = nullptr) {
  Request req;
  req.method = method;
  req.path = path;
  std::string body;
  r.Dispatch(req, [&](Response resp) {
    *status = resp.status;
    body = resp.body;
  });
  if (params) *params = req.params;
  return body;
}

TEST(RouterTest, RestSegmentTakesTheRemainingPath) {
  Router r;
  r.Add("GET", "/sta/v1.1", [](Request&, Responder respond) {
    respond(Response{200, {}, "root"});
  });
  r.Add("GET", "/sta/v1.1/{*path}", [](Request& req, Responder respond) {
    respond(Response{200, {}, req.Param("path")});
  });
  int status = 0;
  EXPECT_EQ(Call(r, "GET", "/sta/v1.1", &status), "root");
  EXPECT_EQ(Call(r, "GET", "/sta/v1.1/Things(1)", &status), "Things(1)");
  EXPECT_EQ(Call(r, "GET", "/sta/v1.1/Things(1)/Datastreams/$ref", &status),
            "Things(1)/Datastreams/$ref");
  Call(r, "POST", "/sta/v1.1/Things", &status);
  EXPECT_EQ(status, 405);
  Call(r, "GET", "/sta/v1.0/Things", &status);
  EXPECT_EQ(status, 404);
}

// A route's own body limit (POST /sta/v1.1/CreateObservations) applies to that method and exact
// path only, with or without a query; every other request keeps the server's.
TEST(RouterTest, BodyLimitPerRoute) {
  Router r;
  EXPECT_EQ(r.MaxBodyLimit(), 0u);
  r.SetBodyLimit("POST", "/sta/v1.1/CreateObservations", 8u << 20);
  EXPECT_EQ(r.MaxBodyLimit(), 8u << 20);
  EXPECT_EQ(r.BodyLimit("POST", "/sta/v1.1/CreateObservations", 1000), 8u << 20);
  EXPECT_EQ(r.BodyLimit("POST", "/sta/v1.1/CreateObservations?x=1", 1000), 8u << 20);
  EXPECT_EQ(r.BodyLimit("PUT", "/sta/v1.1/CreateObservations", 1000), 1000u);
  EXPECT_EQ(r.BodyLimit("POST", "/sta/v1.1/Observations", 1000), 1000u);
  EXPECT_EQ(r.BodyLimit("POST", "/sta/v1.1/CreateObservations/x", 1000), 1000u);
}

}  // namespace
}  // namespace bysans::http
