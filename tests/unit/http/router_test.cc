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

}  // namespace
}  // namespace bysans::http
