// lwm2m/operation.h: paths, validation, the CoAP request of each kind, the state machine.
#include "lwm2m/operation.h"

#include <gtest/gtest.h>

namespace bysans::lwm2m {
namespace {

TEST(Lwm2mOperation, PathsAndValidation) {
  EXPECT_EQ(*ParsePath("/3/0/4"), (std::vector<int>{3, 0, 4}));
  EXPECT_EQ(*ParsePath("/3303"), (std::vector<int>{3303}));
  for (const char* bad : {"", "/", "3/0", "/3//4", "/3/0/x", "/3/0/4/0/1", "/70000", "/3/0/"})
    EXPECT_FALSE(ParsePath(bad).ok()) << bad;
  EXPECT_TRUE(ValidateOperation(Lwm2mOpKind::kRead, "/3", "").ok());
  EXPECT_FALSE(ValidateOperation(Lwm2mOpKind::kRead, "/3", "x").ok());
  EXPECT_TRUE(ValidateOperation(Lwm2mOpKind::kWrite, "/1/0/1", "60").ok());
  EXPECT_FALSE(ValidateOperation(Lwm2mOpKind::kWrite, "/1/0", "60").ok());
  EXPECT_FALSE(ValidateOperation(Lwm2mOpKind::kWrite, "/1/0/1", std::string(513, 'x')).ok());
  EXPECT_TRUE(ValidateOperation(Lwm2mOpKind::kExecute, "/3/0/4", "").ok());
  EXPECT_FALSE(ValidateOperation(Lwm2mOpKind::kExecute, "/3/0/4/1", "").ok());
  EXPECT_EQ(*ParseKind("execute"), Lwm2mOpKind::kExecute);
  EXPECT_EQ(*ParseKind("observe"), Lwm2mOpKind::kObserve);
  EXPECT_EQ(*ParseKind("cancel-observe"), Lwm2mOpKind::kCancelObserve);
  EXPECT_FALSE(ParseKind("discover").ok());
  EXPECT_TRUE(ValidateOperation(Lwm2mOpKind::kObserve, "/3303/0", "").ok());
  EXPECT_TRUE(ValidateOperation(Lwm2mOpKind::kCancelObserve, "/3/0/9", "").ok());
  EXPECT_FALSE(ValidateOperation(Lwm2mOpKind::kObserve, "/3303/0", "x").ok());
  EXPECT_FALSE(ValidateOperation(Lwm2mOpKind::kObserve, "3303", "").ok());
  Lwm2mOperation obs;
  obs.kind = Lwm2mOpKind::kObserve;
  obs.path = "/3303/0";
  coap::OutgoingRequest req = RequestFor(obs);
  EXPECT_EQ(req.method, coap::Method::kGet);
  EXPECT_EQ(req.path, (std::vector<std::string>{"3303", "0"}));
  EXPECT_EQ(req.accept, 112);
  EXPECT_TRUE(req.keep_for_notifications);
}

TEST(Lwm2mOperation, RequestOfEachKind) {
  Lwm2mOperation op;
  op.path = "/3/0/13";
  op.kind = Lwm2mOpKind::kRead;
  auto read = RequestFor(op);
  EXPECT_EQ(read.method, coap::Method::kGet);
  EXPECT_EQ(read.path, (std::vector<std::string>{"3", "0", "13"}));
  EXPECT_TRUE(read.payload.empty());
  op.kind = Lwm2mOpKind::kWrite;
  op.value = "1700000000";
  auto write = RequestFor(op);
  EXPECT_EQ(write.method, coap::Method::kPut);
  EXPECT_EQ(write.content_format, 0);
  EXPECT_EQ(write.payload, "1700000000");
  op.kind = Lwm2mOpKind::kExecute;
  op.path = "/3/0/4";
  op.value = "";
  auto exec = RequestFor(op);
  EXPECT_EQ(exec.method, coap::Method::kPost);
  EXPECT_EQ(exec.content_format, -1);
}

// A binary answer (CBOR, TLV) is kept as hex: the result is JSON text in the API and a text column
// on PostgreSQL, both of which refuse bytes that are not UTF-8.
TEST(Lwm2mOperation, ABinaryAnswerIsKeptAsHexText) {
  EXPECT_EQ(ResultText("21.5"), "21.5");
  EXPECT_EQ(ResultText("Grøn"), "Grøn");
  EXPECT_EQ(ResultText(std::string("\xbf\x00\x19", 3)), "hex:bf0019");
  EXPECT_EQ(ResultText(std::string("a\0b", 3)), "hex:610062") << "NUL is not text";
  EXPECT_EQ(ResultText(std::string(2000, 'x')).size(), 1024u);
  Lwm2mOperation op;
  ASSERT_TRUE(MarkSent(op, 1).ok());
  ASSERT_TRUE(MarkAnswered(op, {205, 60, std::string("\xa1\x01\xfb", 3), ""}, 2).ok());
  EXPECT_EQ(op.result_payload, "hex:a101fb");
}

TEST(Lwm2mOperation, StateMachine) {
  Lwm2mOperation op;
  EXPECT_FALSE(MarkAnswered(op, {204, -1, "", ""}, 1).ok()) << "not sent yet";
  ASSERT_TRUE(MarkSent(op, 10).ok());
  EXPECT_EQ(op.state, Lwm2mOpState::kSent);
  EXPECT_FALSE(MarkSent(op, 11).ok());
  ASSERT_TRUE(MarkAnswered(op, {205, 0, "bysans", ""}, 20).ok());
  EXPECT_EQ(op.state, Lwm2mOpState::kDone);
  EXPECT_EQ(op.result_code, 205);
  EXPECT_EQ(op.result_payload, "bysans");
  EXPECT_EQ(op.updated_ms, 20);
  EXPECT_FALSE(MarkFailed(op, "late", 30).ok()) << "a finished operation never changes";
  EXPECT_EQ(op.state, Lwm2mOpState::kDone);

  Lwm2mOperation lost;
  ASSERT_TRUE(MarkSent(lost, 1).ok());
  ASSERT_TRUE(MarkAnswered(lost, {0, -1, "", "no answer"}, 2).ok());
  EXPECT_EQ(lost.state, Lwm2mOpState::kFailed);
  EXPECT_EQ(lost.error, "no answer");
  Lwm2mOperation refused;  // a 4.04 from the device is an answer: done, result 404
  ASSERT_TRUE(MarkSent(refused, 1).ok());
  ASSERT_TRUE(MarkAnswered(refused, {404, -1, "", ""}, 2).ok());
  EXPECT_EQ(refused.state, Lwm2mOpState::kDone);
  EXPECT_EQ(refused.result_code, 404);
  Lwm2mOperation queued;
  ASSERT_TRUE(MarkFailed(queued, "device gone", 3).ok());
  EXPECT_EQ(queued.state, Lwm2mOpState::kFailed);
}

}  // namespace
}  // namespace bysans::lwm2m
