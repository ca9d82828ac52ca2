#include "model/contact.h"

#include <gtest/gtest.h>

namespace bysans {
namespace {

TEST(NormalizePhone, AcceptsInternationalFormsAndRemovesSeparators) {
  EXPECT_EQ(NormalizePhone("+45 12 34 56 78").value(), "+4512345678");
  EXPECT_EQ(NormalizePhone("0045 12-34.56(78)").value(), "+4512345678");
  EXPECT_EQ(NormalizePhone("+4520000001").value(), "+4520000001");
}

TEST(NormalizePhone, RefusesWhatIsNotE164) {
  for (const char* bad : {"", "12345678", "+45", "+45 12ab5678", "+1234567890123456",
                          "++4512345678", "+45\n12345678"}) {
    EXPECT_FALSE(NormalizePhone(bad).ok()) << bad;
  }
}

TEST(IsEmailShape, OneAddress) {
  EXPECT_TRUE(IsEmailShape("drift@aarhus.dk"));
  for (const char* bad : {"", "a", "@aarhus.dk", "drift@", "drift@aarhus", "a@b@c.dk",
                          "drift @aarhus.dk", "a@b.dk,c@d.dk", "<a@b.dk>", "a@b.dk."}) {
    EXPECT_FALSE(IsEmailShape(bad)) << bad;
  }
}

TEST(ValidateContacts, NormalisesPhonesAndNamesTheBadEntry) {
  std::vector<Contact> list = {{"Tilsyn", "", "+45 20 00 00 01", "tilsynsførende"},
                               {"Drift", "drift@aarhus.dk", "", ""}};
  ASSERT_TRUE(ValidateContacts(list).ok());
  EXPECT_EQ(list[0].phone, "+4520000001");

  list.push_back({"Ingen", "", "", ""});
  Status s = ValidateContacts(list);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("contacts[2]"), std::string::npos) << s.message();

  std::vector<Contact> unnamed = {{"", "a@b.dk", "", ""}};
  EXPECT_FALSE(ValidateContacts(unnamed).ok());
  std::vector<Contact> long_role = {{"X", "a@b.dk", "", std::string(kMaxContactField + 1, 'r')}};
  EXPECT_FALSE(ValidateContacts(long_role).ok());
  std::vector<Contact> control = {{"X\r\nBcc: y", "a@b.dk", "", ""}};
  EXPECT_FALSE(ValidateContacts(control).ok());
  std::vector<Contact> many(kMaxContactsPerObject + 1, Contact{"X", "a@b.dk", "", ""});
  EXPECT_FALSE(ValidateContacts(many).ok());
  many.pop_back();
  EXPECT_TRUE(ValidateContacts(many).ok());
}

TEST(Effective, DeviceFirstThenApplicationWithoutRepeatingAPerson) {
  const Contact dev{"Drift", "drift@aarhus.dk", "+4520000001", ""};
  const Contact app{"Tilsyn", "", "+4520000002", "tilsynsførende"};
  auto list = Effective({dev}, {dev, app});
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].contact, dev);
  EXPECT_EQ(list[0].source, ContactSource::kDevice);
  EXPECT_EQ(list[1].contact, app);
  EXPECT_EQ(list[1].source, ContactSource::kApplication);
  EXPECT_STREQ(ContactSourceName(list[1].source), "application");
  EXPECT_TRUE(Effective({}, {}).empty());
}

}  // namespace
}  // namespace bysans
