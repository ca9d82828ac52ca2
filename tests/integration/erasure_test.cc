// Erasure through the API (issue 18): deleting a device removes its raw payloads and its
// readings from the store (SQLite: the database file and its WAL; PostgreSQL: every row), not
// only from the API's answers, while the server keeps serving. On both stores.
#include <chrono>
#include <thread>

#include "integration/backend_fixture.h"
#include "integration/store_contents.h"

namespace bysans::testing {
namespace {

class ErasureTest : public BackendServerTest {
 protected:
  bool InStore(const std::string& marker) const {
    return StoreHolds(server_->data_dir(), server_env_, marker);
  }
};
BYSANS_ON_BOTH_STORES(ErasureTest);

TEST_P(ErasureTest, DeletingADeviceErasesItsPayloadsFromTheStore) {
  DeviceHandle citizen = CreateHttpDevice("Erasure Kommune");
  auto other =
      admin_->PostJson("/api/v1/applications/" + std::to_string(citizen.app_id) + "/devices",
                       {{"name", "Lokale 2"}, {"transport", "http"}});
  ASSERT_EQ(other.status, 201) << other.body;
  const std::string other_key = other.Json().value("apiKey", "");
  // In the raw payload and, as a string reading, in the device's series.
  const std::string marker = "cpr-0101901234-MARKER-e3b0c442";
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Ingest(citizen.ingest_key,
                     R"({"note":")" + marker + R"(","fall":)" + std::to_string(i) + "}")
                  .status,
              204);
    ASSERT_EQ(Ingest(other_key, R"({"co2":)" + std::to_string(500 + i) + "}").status, 204);
  }
  ASSERT_TRUE(InStore(marker)) << "the test must see the marker first";

  auto del = admin_->Request("DELETE", "/api/v1/devices/" + std::to_string(citizen.device_id));
  ASSERT_EQ(del.status, 204) << del.body;
  EXPECT_TRUE(WaitFor([&] { return !InStore(marker); }, 20))
      << "the deleted device's payload or readings are still in the store";
  // The other device's messages are all there, and the server keeps ingesting.
  auto msgs = admin_->Get("/api/v1/devices/" + std::to_string(other.Json().value("id", 0)) +
                          "/messages?limit=100");
  ASSERT_EQ(msgs.status, 200) << msgs.body;
  const json page = msgs.Json();
  EXPECT_EQ(page["items"].size(), 5u) << msgs.body;
  EXPECT_EQ(Ingest(other_key, R"({"co2": 600})").status, 204);
}

}  // namespace
}  // namespace bysans::testing
