#include "core/encoding.h"

#include <gtest/gtest.h>

namespace bysans {
namespace {

TEST(Base64, RoundTripsEveryLengthAndByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= all.size(); n += 7) {
    std::string s = all.substr(0, n);
    auto back = DecodeBase64(EncodeBase64(s));
    ASSERT_TRUE(back.ok()) << n;
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(EncodeBase64("\x01\x02\xff"), "AQL/");
  EXPECT_EQ(EncodeBase64("\x01"), "AQ==");
}

TEST(Base64, AcceptsUrlSafeAlphabetAndMissingPadding) {
  EXPECT_EQ(*DecodeBase64("AQL_"), std::string("\x01\x02\xff", 3));
  EXPECT_EQ(*DecodeBase64("AQ"), std::string("\x01", 1));
  EXPECT_EQ(*DecodeBase64(""), "");
}

TEST(Base64, RefusesBadCharactersAndLengths) {
  EXPECT_EQ(DecodeBase64("A").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(DecodeBase64("AQ*=").status().code(), Code::kInvalidArgument);
  EXPECT_FALSE(DecodeBase64("a b=").ok());
}

TEST(Hex, DecodesBothCasesAndRefusesBadInput) {
  EXPECT_EQ(*DecodeHex("0102ff"), std::string("\x01\x02\xff", 3));
  EXPECT_EQ(*DecodeHex("0A0b"), std::string("\x0a\x0b", 2));
  EXPECT_FALSE(DecodeHex("012").ok());
  EXPECT_FALSE(DecodeHex("0g").ok());
  EXPECT_TRUE(IsHex("0a0B"));
  EXPECT_FALSE(IsHex(""));
  EXPECT_FALSE(IsHex("abc"));
  EXPECT_FALSE(IsHex("zz"));
}

TEST(PercentEncode, KeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(PercentEncode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(PercentEncode("+45 20&x=y/ø"), "%2B45%2020%26x%3Dy%2F%C3%B8");
  EXPECT_EQ(PercentEncode(std::string("\0\n", 2)), "%00%0A");
  EXPECT_EQ(PercentEncode(""), "");
}

TEST(Utf8, WellFormedTextIsValidAndKeptAsItIs) {
  for (std::string_view s :
       {std::string_view(""), std::string_view("plain"), std::string_view("Måler °C ✓ 🌡")}) {
    EXPECT_TRUE(IsValidUtf8(s, false)) << s;
    EXPECT_EQ(ToValidUtf8(s, false), s);
  }
  const std::string nul("a\0b", 3);
  EXPECT_TRUE(IsValidUtf8(nul));
  EXPECT_EQ(ToValidUtf8(nul), nul);
}

TEST(Utf8, EachByteThatStartsNoSequenceBecomesAReplacementCharacter) {
  const std::string r = "\xEF\xBF\xBD";  // U+FFFD
  struct Case {
    std::string in, out;
  };
  const Case cases[] = {
      {std::string("a\0b", 3), "a" + r + "b"},  // U+0000, not allowed
      {"k\xff", "k" + r},                       // never in UTF-8
      {"\xC3", r},                              // truncated two-byte sequence
      {"\xC0\xAF", r + r},                      // overlong '/'
      {"\xED\xA0\x80", r + r + r},              // a surrogate
      {"\xF4\x90\x80\x80", r + r + r + r},      // above U+10FFFF
      {"\xE2\x82"
       "x",
       r + r + "x"},                             // continuation missing
      {"ok \xC3\xA5 \x80", "ok \xC3\xA5 " + r},  // a stray continuation byte
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(IsValidUtf8(c.in, false)) << c.in;
    const std::string fixed = ToValidUtf8(c.in, false);
    EXPECT_EQ(fixed, c.out) << c.in;
    EXPECT_TRUE(IsValidUtf8(fixed, false)) << c.in;
  }
}

// The check goes eight ASCII bytes at a time: what it refuses or replaces is found wherever it
// falls in such a block, and text that ends inside one is checked to its last byte.
TEST(Utf8, EveryPositionInAndAfterAsciiRunsIsChecked) {
  const std::string r = "\xEF\xBF\xBD";
  for (size_t len = 0; len <= 20; ++len) {
    for (size_t at = 0; at < len; ++at) {
      std::string s(len, 'a');
      s[at] = '\0';
      EXPECT_TRUE(IsValidUtf8(s)) << len << " " << at;
      EXPECT_FALSE(IsValidUtf8(s, false)) << len << " " << at;
      EXPECT_EQ(ToValidUtf8(s, false), s.substr(0, at) + r + s.substr(at + 1)) << len << " " << at;
      s[at] = '\xff';
      EXPECT_FALSE(IsValidUtf8(s)) << len << " " << at;
      EXPECT_EQ(ToValidUtf8(s), s.substr(0, at) + r + s.substr(at + 1)) << len << " " << at;
      s.replace(at, 1, "\xC3\xA5");  // å: valid amid ASCII
      EXPECT_TRUE(IsValidUtf8(s, false)) << len << " " << at;
      EXPECT_EQ(ToValidUtf8(s, false), s);
    }
    const std::string cut = std::string(len, 'a') + "\xC3";
    EXPECT_FALSE(IsValidUtf8(cut)) << len;
    EXPECT_EQ(ToValidUtf8(cut), std::string(len, 'a') + r);
  }
}

}  // namespace
}  // namespace bysans
