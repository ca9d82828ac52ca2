// Receive-updates for entities, the broker-free part (sta/entity_changes.h): which Thing
// properties changed, when a location is a new history entry.
#include "sta/entity_changes.h"

#include <gtest/gtest.h>

namespace bysans::sta {
namespace {

TEST(EntityChangesTest, ChangedThingProperties) {
  Device a;
  a.name = "x";
  Device b = a;
  EXPECT_TRUE(ChangedThingProperties(a, b).empty());
  b.name = "y";
  EXPECT_EQ(ChangedThingProperties(a, b), std::vector<std::string>{"name"});
  b = a;
  b.tags = {"t"};
  EXPECT_EQ(ChangedThingProperties(a, b), std::vector<std::string>{"properties"});
  b = a;
  b.metadata["room"] = "1";
  EXPECT_EQ(ChangedThingProperties(a, b), std::vector<std::string>{"properties"});
  b = a;
  b.location = Location{1, 2};  // not a Thing property: its own topics
  EXPECT_TRUE(ChangedThingProperties(a, b).empty());
}

TEST(EntityChangesTest, OnlyANewLocationIsAChange) {
  Device a, b;
  EXPECT_FALSE(LocationChanged(a, b));
  b.location = Location{1, 2};
  EXPECT_TRUE(LocationChanged(a, b));
  a.location = Location{1, 2};
  EXPECT_FALSE(LocationChanged(a, b));  // the same
  b.location = Location{1, 3};
  EXPECT_TRUE(LocationChanged(a, b));
  b.location.reset();
  EXPECT_FALSE(LocationChanged(a, b));  // removed: no history entry
}

}  // namespace
}  // namespace bysans::sta
