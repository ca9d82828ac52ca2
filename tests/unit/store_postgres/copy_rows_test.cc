// Binary COPY (store/postgres/copy_rows.h) against a real PostgreSQL: every field type the
// series writer sends comes back as sent, a unique clash is pqxx's unique_violation and leaves
// the transaction usable after its savepoint, and a row of the wrong width is never sent.
#include "store/postgres/copy_rows.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <pqxx/pqxx>
#include <stdexcept>

#include "store/postgres/sql_text.h"
#include "unit/store_postgres/shared_postgres.h"

namespace bysans::pg {
namespace {

using testing::SharedPostgres;

const std::vector<std::string> kCols = {"a", "b", "c", "d", "e", "f", "g"};

std::string AllBytes() {
  std::string s;
  for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
  return s;
}

TEST(CopyRowsTest, EveryFieldTypeComesBackAsSent) {
  const std::string url = SharedPostgres::NewDatabase();
  ASSERT_FALSE(url.empty());
  pqxx::connection c(url);
  pqxx::work w(c);
  w.exec(
      "CREATE TABLE t (n int, a bigint, b integer, c smallint, d double precision, e text, "
      "f bytea, g text)");
  const std::string text = "tab\there\nnew line \\ back\"slash 7:x °C µg/m³";
  const double nums[] = {std::numeric_limits<double>::quiet_NaN(), -0.1 - 0.2,
                         -std::numeric_limits<double>::infinity(), 1e-300};
  CopyRows(w, "t", {"n", "a", "b", "c", "d", "e", "f", "g"}, 4, [&](size_t i, CopyRow& row) {
    row.Int4(static_cast<int32_t>(i));
    if (i == 0) {
      row.Int8(std::numeric_limits<int64_t>::min()).Int4(std::numeric_limits<int32_t>::max());
      row.Int2(std::numeric_limits<int16_t>::min()).Float8(nums[i]).Bytes(text).Bytes(AllBytes());
      row.Null();
    } else {
      row.Int8(std::numeric_limits<int64_t>::max() - static_cast<int64_t>(i)).Int4(-1);
      row.Int2(static_cast<int16_t>(i)).Float8(nums[i]).Bytes("").Bytes("").Bytes("x");
    }
  });
  pqxx::result r = w.exec(
      "SELECT a::text, b::text, c::text, d, e, encode(f, 'hex'), g IS NULL, g FROM t ORDER BY n");
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0][0].as<std::string>(), "-9223372036854775808");
  EXPECT_EQ(r[0][1].as<std::string>(), "2147483647");
  EXPECT_EQ(r[0][2].as<std::string>(), "-32768");
  EXPECT_TRUE(std::isnan(r[0][3].as<double>()));
  EXPECT_EQ(r[0][4].as<std::string>(), text);
  std::string hex;
  AppendHex(hex, AllBytes());
  EXPECT_EQ(r[0][5].as<std::string>(), hex);
  EXPECT_TRUE(r[0][6].as<bool>());
  EXPECT_EQ(r[1][0].as<std::string>(), "9223372036854775806");
  EXPECT_EQ(r[1][1].as<std::string>(), "-1");
  EXPECT_EQ(r[1][3].as<double>(), nums[1]);  // every bit of the double
  EXPECT_EQ(r[2][3].as<double>(), nums[2]);
  EXPECT_EQ(r[3][3].as<double>(), nums[3]);
  EXPECT_EQ(r[1][4].as<std::string>(), "");
  EXPECT_EQ(r[1][5].as<std::string>(), "");
  EXPECT_FALSE(r[1][6].as<bool>());
  EXPECT_EQ(r[1][7].as<std::string>(), "x");
}

TEST(CopyRowsTest, AUniqueClashIsAUniqueViolationAndTheTransactionGoesOnAfterItsSavepoint) {
  const std::string url = SharedPostgres::NewDatabase();
  ASSERT_FALSE(url.empty());
  pqxx::connection c(url);
  pqxx::work w(c);
  w.exec("CREATE TABLE u (k bigint PRIMARY KEY, v text NOT NULL)");
  auto copy = [&](std::vector<int64_t> keys) {
    CopyRows(w, "u", {"k", "v"}, keys.size(),
             [&](size_t i, CopyRow& row) { row.Int8(keys[i]).Bytes("v"); });
  };
  copy({1, 2});
  w.exec("SAVEPOINT s");
  EXPECT_THROW(copy({3, 1}), pqxx::unique_violation);
  w.exec("ROLLBACK TO SAVEPOINT s");
  copy({3});
  // A NULL in a NOT NULL column: another constraint, with its SQLSTATE, not a unique clash.
  w.exec("SAVEPOINT s2");
  try {
    CopyRows(w, "u", {"k", "v"}, 1, [](size_t, CopyRow& row) { row.Int8(4).Null(); });
    ADD_FAILURE() << "a NULL in a NOT NULL column was copied";
  } catch (const pqxx::unique_violation&) {
    ADD_FAILURE() << "a NOT NULL violation reported as a unique clash";
  } catch (const pqxx::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "23502");
  }
  w.exec("ROLLBACK TO SAVEPOINT s2");
  w.commit();
  pqxx::work r(c);
  EXPECT_EQ(r.exec("SELECT string_agg(k::text, ',' ORDER BY k) FROM u")[0][0].as<std::string>(),
            "1,2,3");
}

TEST(CopyRowsTest, ARowOfTheWrongWidthIsRefusedBeforeAnythingIsSent) {
  EXPECT_THROW(CopyStream(kCols.size(), 1, [](size_t, CopyRow& row) { row.Int8(1); }),
               std::logic_error);
  // The stream: signature, flags, header extension, one tuple of one field, the trailer.
  const std::string s = CopyStream(1, 1, [](size_t, CopyRow& row) { row.Int2(-2); });
  const std::string want(
      "PGCOPY\n\377\r\n\0"
      "\0\0\0\0"
      "\0\0\0\0"
      "\0\1"
      "\0\0\0\2"
      "\377\376"
      "\377\377",
      11 + 4 + 4 + 2 + 4 + 2 + 2);
  EXPECT_EQ(s, want);
}

}  // namespace
}  // namespace bysans::pg
