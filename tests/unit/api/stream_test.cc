// The live stream (api/stream.cc): alarm changes stored in the RuleStore
// (raised by the rules runtime, acknowledged / cleared by hand) reach the
// streams of the alarm's organisation only.
#include <future>
#include <set>
#include <string>
#include <vector>

#include "api_fixture.h"
#include "store/rule_store.h"

namespace bysans::testing {
namespace {

class StreamTest : public ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    MakeUser("root@example.dk", "Root-pass-for-tests-1", true);
    root_ = Login("root@example.dk", "Root-pass-for-tests-1");
    org_a_ = MakeOrg("a");
    org_b_ = MakeOrg("b");
    User viewer = MakeUser("viewer@a.dk", "Viewer-pass-for-a-1", false);
    Reply r = Call("PUT", Org(org_a_) + "/members/" + std::to_string(viewer.id), root_,
                   json{{"role", "viewer"}});
    EXPECT_EQ(r.status, 200) << r.raw;
    viewer_a_ = Login("viewer@a.dk", "Viewer-pass-for-a-1");
  }

  static std::string Org(Id id) { return "/api/v1/organizations/" + std::to_string(id); }

  Id MakeOrg(const std::string& n) {
    Reply r = Call("POST", "/api/v1/organizations", root_, json{{"name", "org-" + n}});
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.body.value("id", Id{0});
  }

  // Opens the organisation's stream; the response's stream function yields
  // what is queued for this subscriber.
  http::Response Open(Id org, const Creds& c) {
    http::Request req;
    req.method = "GET";
    req.target = req.path = Org(org) + "/stream";
    req.headers.Set("cookie", c.cookie);
    req.remote_addr = "192.0.2.10";
    std::promise<http::Response> p;
    auto f = p.get_future();
    router_.Dispatch(req, [&p](http::Response r) { p.set_value(std::move(r)); });
    EXPECT_EQ(f.wait_for(std::chrono::seconds(60)), std::future_status::ready);
    return f.get();
  }

  // The data of the "alarm" events in a chunk of the stream.
  static std::vector<json> AlarmEvents(const std::string& text) {
    std::vector<json> out;
    const std::string head = "event: alarm\ndata: ";
    for (size_t pos = 0; (pos = text.find(head, pos)) != std::string::npos;) {
      size_t start = pos + head.size();
      size_t end = text.find("\n\n", start);
      out.push_back(json::parse(text.substr(start, end - start), nullptr, false));
      pos = end;
    }
    return out;
  }

  static std::string Pull(http::Response& r) {
    std::string all;
    for (int i = 0; i < 3; ++i) {
      std::string chunk;
      r.stream(chunk);
      all += chunk;
    }
    return all;
  }

  AlarmRecord Raise(Id org) {
    AlarmRecord a;
    a.org_id = org;
    a.rule_id = 1;
    a.device_id = 1;
    a.state = "active";
    a.raised_ms = clock_.NowMs();
    a.doc = json{{"severity", "critical"}, {"message", "hot in org " + std::to_string(org)}}.dump();
    auto created = store_->rules().CreateAlarm(a, {});
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? *created : a;
  }

  Creds root_, viewer_a_;
  Id org_a_ = 0, org_b_ = 0;
};

TEST_F(StreamTest, AlarmEventsReachOnlyTheAlarmsOrganisation) {
  http::Response a = Open(org_a_, viewer_a_);
  ASSERT_EQ(a.status, 200);
  ASSERT_TRUE(a.stream);
  http::Response b = Open(org_b_, root_);
  ASSERT_EQ(b.status, 200);
  Pull(a);
  Pull(b);

  AlarmRecord in_a = Raise(org_a_);
  AlarmRecord in_b = Raise(org_b_);
  in_a.state = "acknowledged";
  ASSERT_TRUE(store_->rules().UpdateAlarm(in_a, {}).ok());
  in_a.state = "cleared";
  ASSERT_TRUE(store_->rules().UpdateAlarm(in_a, {}).ok());

  std::vector<json> got_a = AlarmEvents(Pull(a));
  std::vector<json> got_b = AlarmEvents(Pull(b));
  auto has = [](const std::vector<json>& evs, Id id, const std::string& event) {
    for (const json& e : evs)
      if (e.value("id", Id{0}) == id && e.value("event", "") == event) return true;
    return false;
  };
  auto ids = [](const std::vector<json>& evs) {
    std::set<Id> out;
    for (const json& e : evs) out.insert(e.value("id", Id{0}));
    return out;
  };
  EXPECT_TRUE(has(got_a, in_a.id, "raised"));
  EXPECT_TRUE(has(got_a, in_a.id, "acknowledged"));
  EXPECT_TRUE(has(got_a, in_a.id, "cleared"));
  EXPECT_EQ(ids(got_a), std::set<Id>{in_a.id}) << "only org A's alarm reaches A's stream";
  ASSERT_EQ(got_a.size(), 3u);
  EXPECT_EQ(got_a[0].value("severity", ""), "critical");
  EXPECT_EQ(got_a[2].value("state", ""), "cleared");

  EXPECT_TRUE(has(got_b, in_b.id, "raised"));
  EXPECT_EQ(ids(got_b), std::set<Id>{in_b.id}) << "only org B's alarm reaches B's stream";
}

TEST_F(StreamTest, AnotherOrganisationsStreamIsNotFound) {
  EXPECT_EQ(Open(org_b_, viewer_a_).status, 404);
  EXPECT_EQ(Call("GET", Org(org_a_) + "/stream").status, 401);
}

}  // namespace
}  // namespace bysans::testing
