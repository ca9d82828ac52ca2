// WriterShare (store/postgres/writer_share.h): a node uses max(1, writers / nodes alive) writers,
// a device goes to writer (id mod writers in use), and a device keeps the writer of its batches
// still on their way when that number changes, so its batches are committed in order.
#include "store/postgres/writer_share.h"

#include <gtest/gtest.h>

namespace bysans::pg {
namespace {

TEST(WriterShareTest, ANodeUsesItsShareOfTheWriters) {
  WriterShare share(4);
  EXPECT_EQ(share.in_use(), 4u);
  share.SetNodes(2);
  EXPECT_EQ(share.in_use(), 2u);
  share.SetNodes(3);
  EXPECT_EQ(share.in_use(), 1u);
  share.SetNodes(9);
  EXPECT_EQ(share.in_use(), 1u) << "at least one";
  share.SetNodes(0);
  EXPECT_EQ(share.in_use(), 4u) << "no node lease seen: alone";
  share.SetNodes(1);
  EXPECT_EQ(share.in_use(), 4u);
}

TEST(WriterShareTest, DevicesSpreadOverTheWritersInUse) {
  WriterShare share(2);
  EXPECT_EQ(share.Take(10), 0u);
  EXPECT_EQ(share.Take(11), 1u);
  share.Finished(10);
  share.Finished(11);
  share.SetNodes(2);
  EXPECT_EQ(share.Take(11), 0u) << "one writer in use";
  share.Finished(11);
}

TEST(WriterShareTest, ADeviceKeepsItsWriterWhileItsBatchesAreOnTheirWay) {
  WriterShare share(2);
  EXPECT_EQ(share.Take(7), 1u);
  EXPECT_EQ(share.Take(7), 1u);
  share.SetNodes(2);  // one writer in use from now on
  EXPECT_EQ(share.Take(7), 1u) << "two batches of 7 are still at writer 1";
  EXPECT_EQ(share.Take(9), 0u) << "a device with nothing on its way goes by the new count";
  share.Finished(7);
  share.Finished(7);
  EXPECT_EQ(share.Take(7), 1u) << "one still on its way";
  share.Finished(7);
  share.Finished(7);
  EXPECT_EQ(share.Take(7), 0u) << "all done: by the new count";
  share.Finished(7);
  share.Finished(9);
  share.SetNodes(1);  // the other node died: both writers again
  EXPECT_EQ(share.Take(7), 1u);
  share.Finished(7);
}

TEST(WriterShareTest, OneWriterIsAlwaysTheFirst) {
  WriterShare share(1);
  share.SetNodes(3);
  EXPECT_EQ(share.in_use(), 1u);
  EXPECT_EQ(share.Take(5), 0u);
  share.Finished(5);
  share.Finished(5);  // more than taken: harmless
  EXPECT_EQ(share.Take(6), 0u);
}

}  // namespace
}  // namespace bysans::pg
