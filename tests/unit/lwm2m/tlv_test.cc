// lwm2m/tlv.h: the bounded TLV reader (Core §7.4.3) — nesting, lengths, and refusing truncated,
// oversized or misplaced entries.
#include "lwm2m/tlv.h"

#include <gtest/gtest.h>

#include <string>

#include "bytes.h"

namespace bysans::lwm2m {
namespace {

TEST(Lwm2mTlv, ReadsAResourceWithAShortLength) {
  // 0xE4: resource, 16-bit id, length 4; id 0x1644 = 5700; float 21.5.
  // The entries view the input, so it must outlive them.
  const std::string input = Bytes({0xE4, 0x16, 0x44, 0x41, 0xAC, 0x00, 0x00});
  auto e = ParseTlv(input);
  ASSERT_TRUE(e.ok()) << e.status().message();
  ASSERT_EQ(e->size(), 1u);
  EXPECT_EQ((*e)[0].type, TlvType::kResource);
  EXPECT_EQ((*e)[0].id, 5700);
  auto f = TlvFloat((*e)[0].value);
  ASSERT_TRUE(f.ok());
  EXPECT_DOUBLE_EQ(*f, 21.5);
}

TEST(Lwm2mTlv, ReadsNestedInstancesAndMultipleResources) {
  // Object instance 0 (0x08: 8-bit length follows) of 9 bytes: resource 9 = 87 (0xC1 09 57),
  // multiple resource 7 (0x86 07, length 6 in type) holding instances 0 = 1 and 1 = 2.
  std::string inner = Bytes({0xC1, 0x09, 0x57, 0x86, 0x07, 0x41, 0x00, 0x01, 0x41, 0x01, 0x02});
  std::string data = Bytes({0x08, 0x00, static_cast<int>(inner.size())}) + inner;
  auto e = ParseTlv(data);
  ASSERT_TRUE(e.ok()) << e.status().message();
  ASSERT_EQ(e->size(), 1u);
  const TlvEntry& inst = (*e)[0];
  EXPECT_EQ(inst.type, TlvType::kObjectInstance);
  ASSERT_EQ(inst.children.size(), 2u);
  EXPECT_EQ(inst.children[0].id, 9);
  EXPECT_EQ(*TlvInteger(inst.children[0].value), 87);
  const TlvEntry& multi = inst.children[1];
  EXPECT_EQ(multi.type, TlvType::kMultipleResource);
  ASSERT_EQ(multi.children.size(), 2u);
  EXPECT_EQ(multi.children[1].type, TlvType::kResourceInstance);
  EXPECT_EQ(*TlvInteger(multi.children[1].value), 2);
}

TEST(Lwm2mTlv, RefusesTruncatedInput) {
  // Header says 4 bytes of value, 2 present.
  auto e = ParseTlv(Bytes({0xE4, 0x16, 0x44, 0x41, 0xAC}));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Code::kInvalidArgument);
  EXPECT_NE(e.status().message().find("byte 0"), std::string::npos);
  // The identifier itself cut off.
  EXPECT_FALSE(ParseTlv(Bytes({0xE4, 0x16})).ok());
  // A 24-bit length cut off.
  EXPECT_FALSE(ParseTlv(Bytes({0xD8, 0x01, 0x00})).ok());
  // A nested entry running past its parent.
  EXPECT_FALSE(ParseTlv(Bytes({0x03, 0x00, 0xC4, 0x01, 0x00})).ok());
}

TEST(Lwm2mTlv, RefusesOversizedLengthsAndTooManyEntries) {
  // A 24-bit length of 16 MB on a 6-byte input.
  auto e = ParseTlv(Bytes({0xD8, 0x01, 0xFF, 0xFF, 0xFF, 0x00}));
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("truncated"), std::string::npos);
  std::string many;
  for (int i = 0; i < 1001; ++i) many += Bytes({0xC0, 0x01});  // empty resources
  auto m = ParseTlv(many);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("1000"), std::string::npos);
  std::string thousand;
  for (int i = 0; i < 1000; ++i) thousand += Bytes({0xC0, 0x01});
  EXPECT_TRUE(ParseTlv(thousand).ok());
}

TEST(Lwm2mTlv, RefusesMisplacedEntries) {
  // An object instance inside an object instance.
  EXPECT_FALSE(ParseTlv(Bytes({0x02, 0x00, 0x00, 0x00})).ok());
  // A resource instance directly inside an object instance.
  EXPECT_FALSE(ParseTlv(Bytes({0x03, 0x00, 0x41, 0x00, 0x01})).ok());
  // A resource inside a multiple resource.
  EXPECT_FALSE(ParseTlv(Bytes({0x83, 0x07, 0xC1, 0x00, 0x01})).ok());
  // A resource instance at the top (a Read of /3/0/7/1) is fine.
  EXPECT_TRUE(ParseTlv(Bytes({0x41, 0x01, 0x02})).ok());
  EXPECT_TRUE(ParseTlv("").ok());
}

TEST(Lwm2mTlv, NumbersBySize) {
  EXPECT_EQ(*TlvInteger(Bytes({0xFF})), -1);
  EXPECT_EQ(*TlvInteger(Bytes({0x80, 0x00})), -32768);
  EXPECT_EQ(*TlvInteger(Bytes({0x00, 0x01, 0x00, 0x00})), 65536);
  EXPECT_EQ(*TlvInteger(Bytes({0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})), INT64_MAX);
  EXPECT_FALSE(TlvInteger(Bytes({0x00, 0x00, 0x01})).ok());
  EXPECT_FALSE(TlvInteger("").ok());
  EXPECT_DOUBLE_EQ(*TlvFloat(Bytes({0x40, 0x35, 0x80, 0, 0, 0, 0, 0})), 21.5);
  EXPECT_FALSE(TlvFloat(Bytes({0x41, 0xAC})).ok());
}

}  // namespace
}  // namespace bysans::lwm2m
