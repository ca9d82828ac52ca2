// Files, processes and logs of a running server (issue 14, findings 19 and 22): what bysans and
// its broker write is readable by the service user only; the supervised Mosquitto runs
// unprivileged and holds none of bysans' sockets; every line of a JSON log is JSON.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include "integration/mqtt_fixture.h"
#include "security_fixture.h"

namespace bysans::testing {
namespace {

mode_t ModeOf(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? st.st_mode & 07777 : 07777;
}

// The inode of the TCP socket listening on `port` (from /proc/net/tcp[6]), 0 when none.
std::string ListeningSocketInode(int port) {
  char hex_port[8];
  std::snprintf(hex_port, sizeof hex_port, ":%04X", port);
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      f >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
      if (state == "0A" && local.size() > 5 && local.substr(local.size() - 5) == hex_port)
        return inode;
    }
  }
  return {};
}

// The socket inodes among a process's open descriptors.
std::set<std::string> SocketInodes(int pid) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::string target = fs::read_symlink(e.path(), ec).string();
    if (target.rfind("socket:[", 0) == 0) out.insert(target.substr(8, target.size() - 9));
  }
  return out;
}

int UidOf(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Uid:", 0) == 0) return std::stoi(line.substr(4));
  }
  return -1;
}

class FilesSecurityTest : public ServerTest {};

TEST_F(FilesSecurityTest, DataFilesAreForTheServiceUserOnlyAndTheBrokerHoldsNoneOfItsSockets) {
  const fs::path data = server_->data_dir();
  ASSERT_TRUE(WaitFor([&] { return fs::exists(data / "mqtt.url"); })) << server_->log();
  // Legitimate use still works: the API answers and the database is in WAL mode.
  ASSERT_EQ(admin_->Get("/api/v1/organizations").status, 200);
  std::vector<std::string> names = {"http.url", "mqtt.url", "secret.key", "mqtt-service.secret",
                                    "mqtt-integrator.secret"};
  if (!FreshStoreUrl())  // on the PostgreSQL leg the database is not a file here
    names.insert(names.end(), {"bysans.db", "bysans.db-wal", "bysans.db-shm"});
  for (const std::string& name : names) {
    ASSERT_TRUE(fs::exists(data / name)) << name;
    EXPECT_EQ(ModeOf(data / name) & 077, 0u) << name << " is " << std::oct << ModeOf(data / name);
  }
  // The data directory: nothing for others (the broker's group may only search it).
  EXPECT_EQ(ModeOf(data) & 067, 0u) << std::oct << ModeOf(data);
  // The broker's folder: nothing for others; its group (the broker's user, when run by root)
  // may read its configuration but change nothing outside its persistence.
  const fs::path broker_dir = data / "mosquitto";
  EXPECT_EQ(ModeOf(broker_dir) & 027, 0u) << std::oct << ModeOf(broker_dir);
  EXPECT_EQ(ModeOf(broker_dir / "persistence"), 0700u);
  for (const char* name : {"mosquitto.conf", "passwords", "acl", "mosquitto.log"})
    EXPECT_EQ(ModeOf(broker_dir / name) & 037, 0u)
        << name << " is " << std::oct << ModeOf(broker_dir / name);
  struct stat conf {};
  ASSERT_EQ(::stat((broker_dir / "mosquitto.conf").c_str(), &conf), 0);
  EXPECT_EQ(conf.st_uid, ::geteuid()) << "the broker's configuration belongs to bysans' user";

  const int broker_pid = std::stoi(ReadLine(broker_dir / "mosquitto.pid"));
  ASSERT_GT(broker_pid, 0);
  // Run by root (as CI is), the broker is not root once it has started.
  if (::geteuid() == 0) {
    EXPECT_TRUE(WaitFor([&] { return UidOf(broker_pid) > 0; }, 10))
        << "mosquitto runs as uid " << UidOf(broker_pid);
  }
  const int http_port = std::stoi(server_->url().substr(server_->url().rfind(':') + 1));
  const std::string http_inode = ListeningSocketInode(http_port);
  ASSERT_FALSE(http_inode.empty());
  std::set<std::string> broker_sockets = SocketInodes(broker_pid);
  ASSERT_FALSE(broker_sockets.empty()) << "cannot read /proc/" << broker_pid << "/fd";
  EXPECT_EQ(broker_sockets.count(http_inode), 0u) << "the broker holds bysans' HTTP socket";
  // Nothing but its log on 0-2 and its own sockets: no file of bysans.
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(broker_pid) + "/fd", ec)) {
    std::string target = fs::read_symlink(e.path(), ec).string();
    EXPECT_EQ(target.find("bysans.db"), std::string::npos) << target;
    EXPECT_EQ(target.find("server.log"), std::string::npos) << target;
  }
}

// A data directory of an earlier version (files 0644, broker folders 0755) is tightened at the
// next start.
TEST_F(FilesSecurityTest, FilesLeftReadableByAnEarlierVersionAreTightenedAtStart) {
  const fs::path data = server_->data_dir();
  ASSERT_TRUE(WaitFor([&] { return fs::exists(data / "mqtt.url"); })) << server_->log();
  ASSERT_EQ(server_->Terminate(), 0) << server_->log();
  std::vector<fs::path> loosened = {data / "secret.key", data / "mqtt-service.secret",
                                    data / "mosquitto", data / "mosquitto" / "persistence",
                                    data / "mosquitto" / "passwords"};
  if (!FreshStoreUrl()) loosened.push_back(data / "bysans.db");  // PostgreSQL leg: no such file
  for (const fs::path& p : loosened)
    ASSERT_EQ(::chmod(p.c_str(), fs::is_directory(p) ? 0755 : 0644), 0) << p;
  ASSERT_TRUE(server_->Start()) << server_->log();
  WaitFor(
      [&] {  // the broker's folder is tightened when MQTT starts, after HTTP
        for (const fs::path& p : loosened)
          if ((ModeOf(p) & 027) != 0) return false;
        return true;
      },
      30);
  for (const fs::path& p : loosened)
    EXPECT_EQ(ModeOf(p) & 027, 0u) << p << " is " << std::oct << ModeOf(p);
  // And the server works on it.
  HttpClient admin(server_->url());
  EXPECT_EQ(admin.Login(ServerProcess::kAdminEmail, ServerProcess::kAdminPassword).status, 200);
}

class JsonLogTest : public ServerTest {
 protected:
  void SetUp() override {
    server_env_ = {"BYSANS_LOG_FORMAT=json"};
    server_args_ = {"--demo"};
    ServerTest::SetUp();
  }
};

// Finding 22: start-up lines with quotes ("Demo Kommune") stay valid JSON.
TEST_F(JsonLogTest, EveryLogLineIsJson) {
  ASSERT_TRUE(WaitFor([&] { return server_->log().find("Demo Kommune") != std::string::npos; }))
      << server_->log();
  std::istringstream log(server_->log());
  std::string line;
  int lines = 0, with_quotes = 0;
  while (std::getline(log, line)) {
    ++lines;
    json j = json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "not JSON: " << line;
    ASSERT_TRUE(j.contains("msg") && j.contains("level") && j.contains("ts")) << line;
    if (j["msg"].get<std::string>().find('"') != std::string::npos) ++with_quotes;
  }
  EXPECT_GE(lines, 5);
  EXPECT_GE(with_quotes, 1);
}

}  // namespace
}  // namespace bysans::testing
