// lwm2m/registration.h: Register and Update queries, CoRE link-format payloads.
#include "lwm2m/registration.h"

#include <gtest/gtest.h>

namespace bysans::lwm2m {
namespace {

TEST(Lwm2mRegistration, RegisterQueryWithDefaultsAndQueueMode) {
  auto r = ParseRegisterQuery({"ep=meter-1", "k=secret", "lt=300", "lwm2m=1.1", "b=U", "Q"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->endpoint, "meter-1");
  EXPECT_EQ(r->lifetime_s, 300);
  EXPECT_EQ(r->version, "1.1");
  EXPECT_EQ(r->binding, "U");
  EXPECT_TRUE(r->queue_mode);
  // 1.0 style "UQ"; defaults: lifetime 86400, binding U, no queue.
  EXPECT_TRUE(ParseRegisterQuery({"ep=x", "b=UQ"})->queue_mode);
  auto d = ParseRegisterQuery({"ep=x"});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->lifetime_s, 86400);
  EXPECT_FALSE(d->queue_mode);
  EXPECT_EQ(d->version, "");
}

TEST(Lwm2mRegistration, RegisterQueryErrorsNameTheParameter) {
  auto no_ep = ParseRegisterQuery({"lt=30"});
  EXPECT_EQ(no_ep.status().code(), Code::kInvalidArgument);
  EXPECT_NE(no_ep.status().message().find("ep"), std::string::npos);
  EXPECT_FALSE(ParseRegisterQuery({"ep="}).ok());
  EXPECT_FALSE(ParseRegisterQuery({"ep=" + std::string(129, 'x')}).ok());
  for (const char* lt : {"lt=0", "lt=-5", "lt=abc", "lt=10s", "lt=99999999999"})
    EXPECT_FALSE(ParseRegisterQuery({"ep=x", lt}).ok()) << lt;
  EXPECT_FALSE(ParseRegisterQuery({"ep=x", "lwm2m=2.0"}).ok());
  EXPECT_FALSE(ParseRegisterQuery({"ep=x", "b=S"}).ok()) << "SMS only: not served";
  EXPECT_FALSE(ParseRegisterQuery({"ep=x", "b=UX"}).ok());
}

TEST(Lwm2mRegistration, UpdateQueryHasOnlyWhatIsGiven) {
  auto none = ParseUpdateQuery({});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->lifetime_s);
  EXPECT_FALSE(none->binding);
  EXPECT_FALSE(none->queue_mode);
  auto u = ParseUpdateQuery({"lt=120", "b=UQ", "k=key"});
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(*u->lifetime_s, 120);
  EXPECT_EQ(*u->binding, "U");
  EXPECT_TRUE(*u->queue_mode);
  EXPECT_FALSE(*ParseUpdateQuery({"b=U"})->queue_mode);
  EXPECT_FALSE(ParseUpdateQuery({"ep=other"}).ok());
  EXPECT_FALSE(ParseUpdateQuery({"lt=x"}).ok());
}

TEST(Lwm2mRegistration, LinkFormatObjectsAndInstances) {
  auto l =
      ParseLinkFormat(R"(</>;rt="oma.lwm2m";ct=11543,</1/0>,</3/0>,</3303/0>,</3304/1>,</3428>)");
  ASSERT_TRUE(l.ok()) << l.status().message();
  std::vector<ObjectLink> want = {{1, 0}, {3, 0}, {3303, 0}, {3304, 1}, {3428, -1}};
  EXPECT_EQ(*l, want);
  EXPECT_EQ(ObjectsText(*l), "/1/0,/3/0,/3303/0,/3304/1,/3428");
  // An alternate root path; attributes with commas inside quotes; whitespace between links.
  auto alt = ParseLinkFormat(
      "</lwm2m>;rt=\"oma.lwm2m\",</lwm2m/3/0>;ver=\"1,1\",\n </lwm2m/3303/0>;ver=1.1");
  ASSERT_TRUE(alt.ok()) << alt.status().message();
  EXPECT_EQ(ObjectsText(*alt), "/3/0,/3303/0");
  EXPECT_TRUE(ParseLinkFormat("")->empty());
}

TEST(Lwm2mRegistration, MalformedLinkFormatIsRefusedWithThePosition) {
  for (const char* bad : {"3303/0", "</3303/0", "</abc/0>", "</3303/x>", "</70000/0>",
                          "</3303/0/5700/1/2>", "</3303/0>junk", "<3303/0>", "</3303/0>;a=\"x"}) {
    auto r = ParseLinkFormat(bad);
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("byte"), std::string::npos) << r.status().message();
  }
  std::string many;
  for (int i = 0; i < 1001; ++i) many += "</3/0>,";
  EXPECT_FALSE(ParseLinkFormat(many).ok());
}

}  // namespace
}  // namespace bysans::lwm2m
