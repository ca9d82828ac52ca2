#include "mqtt/broker.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "mqtt/broker_probe.h"

namespace bysans::mqtt {
namespace fs = std::filesystem;

namespace {

std::string Base64(const unsigned char* data, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<size_t>(len));
  return out;
}

bool HasBadChar(std::string_view s, std::string_view bad) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || bad.find(c) != std::string_view::npos) return true;
  }
  return false;
}

// Written as `path`.tmp (0600; with `group` >= 0: 0640 and that group), then renamed.
Status WriteFileAtomically(const std::string& path, const std::string& content, int group = -1) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Internal(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
    f << content;
    f.flush();
    if (!f) return Internal(fmt::format("cannot write {}", tmp));
  }
  ::chmod(tmp.c_str(), 0600);
  if (group >= 0 && (::chown(tmp.c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(group)) != 0 ||
                     ::chmod(tmp.c_str(), 0640) != 0)) {
    return Internal(
        fmt::format("cannot let the broker's group read {}: {}", tmp, std::strerror(errno)));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Internal(fmt::format("cannot rename {}: {}", tmp, ec.message()));
  return Status::Ok();
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with code {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  }
  return fmt::format("ended with wait status {}", status);
}

// Resolves a user name to uid/gid; false when there is no such user.
bool LookUpUser(const std::string& name, int& uid, int& gid) {
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr)
    return false;
  uid = static_cast<int>(pw.pw_uid);
  gid = static_cast<int>(pw.pw_gid);
  return true;
}

// True when a process of uid/gid (not root) may search directory `st`.
bool Searchable(const struct stat& st, int uid, int gid) {
  if (static_cast<int>(st.st_uid) == uid) return (st.st_mode & S_IXUSR) != 0;
  if (static_cast<int>(st.st_gid) == gid) return (st.st_mode & S_IXGRP) != 0;
  return (st.st_mode & S_IXOTH) != 0;
}

}  // namespace

BrokerUser DeviceBrokerUser(std::string username, std::string password,
                            const std::string& device_id) {
  BrokerUser u;
  u.username = std::move(username);
  u.password = std::move(password);
  // .../up/senml-cbor: the payload is a SenML pack in CBOR (RFC 8428 §6; mqtt/README.md).
  u.publish_topics = {"devices/" + device_id + "/up", "devices/" + device_id + "/up/senml-cbor"};
  u.subscribe_topics = {"devices/" + device_id + "/down"};
  return u;
}

Result<std::string> HashBrokerPasswordWithSalt(std::string_view password, std::string_view salt,
                                               int iterations) {
  if (iterations < 1) return InvalidArgument("PBKDF2 iterations must be positive");
  unsigned char hash[64];
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, EVP_sha512(), sizeof(hash),
                        hash) != 1) {
    return Internal("PBKDF2-SHA512 failed");
  }
  return fmt::format("$7${}${}${}", iterations,
                     Base64(reinterpret_cast<const unsigned char*>(salt.data()), salt.size()),
                     Base64(hash, sizeof(hash)));
}

Result<std::string> HashBrokerPassword(std::string_view password, Random& random, int iterations) {
  std::string salt(12, '\0');
  random.Fill(salt.data(), salt.size());
  return HashBrokerPasswordWithSalt(password, salt, iterations);
}

Result<uint16_t> PickFreePort(const std::string& address) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Internal(fmt::format("socket: {}", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  if (::inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    return InvalidArgument("not an IPv4 address: " + address);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    ::close(fd);
    return Internal(fmt::format("bind {}:0: {}", address, std::strerror(err)));
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return static_cast<uint16_t>(ntohs(addr.sin_port));
}

BrokerSupervisor::BrokerSupervisor(BrokerOptions options) : opts_(std::move(options)) {
  if (opts_.random == nullptr) {
    owned_random_ = std::make_unique<SystemRandom>();
    opts_.random = owned_random_.get();
  }
  if (::geteuid() == 0) {
    for (const std::string& name : opts_.run_as_user.empty()
                                       ? std::vector<std::string>{"mosquitto", "nobody"}
                                       : std::vector<std::string>{opts_.run_as_user}) {
      if (LookUpUser(name, broker_uid_, broker_gid_)) {
        broker_user_ = name;
        break;
      }
    }
  }
}

Status BrokerSupervisor::WriteOwnedFile(const std::string& path, const std::string& content) const {
  // Readable by the broker's group when it runs as its own user; never writable by it.
  return WriteFileAtomically(path, content, broker_gid_);
}

Status BrokerSupervisor::PrepareUnprivileged() {
  if (broker_user_.empty()) {
    spdlog::warn("mqtt broker: no user 'mosquitto' or 'nobody'; the broker runs as root");
    return Status::Ok();
  }
  const auto gid = static_cast<gid_t>(broker_gid_);
  std::error_code ec;
  const fs::path dir = fs::absolute(opts_.dir, ec);
  // The directory above (bysans' data directory, 0700): search permission for the broker's
  // group only, so it reaches its own directory and nothing else.
  const fs::path parent = dir.parent_path();
  struct stat st {};
  if (::stat(parent.c_str(), &st) == 0 && !Searchable(st, broker_uid_, broker_gid_) &&
      st.st_uid == ::geteuid()) {
    if (::chown(parent.c_str(), static_cast<uid_t>(-1), gid) != 0 ||
        ::chmod(parent.c_str(), (st.st_mode & 07707) | S_IXGRP) != 0) {
      return Internal(fmt::format("cannot let the broker's user {} search {}: {}", broker_user_,
                                  parent.string(), std::strerror(errno)));
    }
  }
  for (fs::path p = parent; !p.empty() && p != p.root_path(); p = p.parent_path()) {
    if (::stat(p.c_str(), &st) != 0 || !Searchable(st, broker_uid_, broker_gid_)) {
      spdlog::warn("mqtt broker: {} is not searchable by user {}; the broker runs as root",
                   p.string(), broker_user_);
      broker_user_.clear();
      broker_uid_ = broker_gid_ = -1;
      return Status::Ok();
    }
  }
  return Status::Ok();
}

Status BrokerSupervisor::RestrictDirectory() const {
  // Run by root, the broker's user may read its configuration (group, 0640) but not change it
  // — a broker that could rewrite mosquitto.conf would be root again at its next start — and
  // owns only its persistence. Also fixes what earlier versions left readable (0644, 0755).
  const bool shared = broker_uid_ >= 0;
  const int owner = static_cast<int>(::geteuid());
  const int group = shared ? broker_gid_ : static_cast<int>(::getegid());
  auto set = [&](const fs::path& p, int uid, int gid, mode_t mode) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) return Status::Ok();
    if (::chown(p.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(gid)) != 0 ||
        ::chmod(p.c_str(), mode) != 0) {
      return Internal(
          fmt::format("cannot set the owner or mode of {}: {}", p.string(), std::strerror(errno)));
    }
    return Status::Ok();
  };
  const fs::path dir = opts_.dir;
  BYSANS_RETURN_IF_ERROR(set(dir, owner, group, shared ? 0750 : 0700));
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name == "persistence") continue;
    const bool readable = name == "mosquitto.conf" || name == "passwords" || name == "acl";
    BYSANS_RETURN_IF_ERROR(set(entry.path(), owner,
                               readable ? group : static_cast<int>(::getegid()),
                               readable && shared ? 0640 : 0600));
  }
  if (ec) return Internal(fmt::format("cannot list {}: {}", dir.string(), ec.message()));
  const int data_uid = shared ? broker_uid_ : owner;
  BYSANS_RETURN_IF_ERROR(set(dir / "persistence", data_uid, group, 0700));
  for (auto it = fs::recursive_directory_iterator(dir / "persistence", ec);
       !ec && it != fs::end(it); it.increment(ec)) {
    BYSANS_RETURN_IF_ERROR(set(it->path(), data_uid, group, it->is_directory() ? 0700 : 0600));
  }
  if (ec)
    return Internal(fmt::format("cannot list {}/persistence: {}", dir.string(), ec.message()));
  return Status::Ok();
}

BrokerSupervisor::~BrokerSupervisor() { Stop(); }

uint16_t BrokerSupervisor::port() const {
  std::lock_guard lk(mu_);
  return opts_.port;
}

int BrokerSupervisor::pid() const {
  std::lock_guard lk(mu_);
  return pid_;
}

int BrokerSupervisor::restarts() const {
  std::lock_guard lk(mu_);
  return restarts_;
}

std::string BrokerSupervisor::log_path() const { return opts_.dir + "/mosquitto.log"; }

std::string BrokerSupervisor::pid_path() const { return opts_.dir + "/mosquitto.pid"; }

Status BrokerSupervisor::WriteConfig() {
  std::string conf;
  conf += "# Written by bysans (src/mqtt/broker.cc); rewritten at every start.\n";
  conf += "per_listener_settings false\n";
  conf += fmt::format("listener {} {}\n", opts_.port, opts_.bind_address);
  // A client's id is its user name: no client can take over another's session.
  if (opts_.client_id_is_username) conf += "use_username_as_clientid true\n";
  conf += "allow_anonymous false\n";
  conf += fmt::format("password_file {}/passwords\n", opts_.dir);
  conf += fmt::format("acl_file {}/acl\n", opts_.dir);
  conf += "persistence true\n";
  conf += fmt::format("persistence_location {}/persistence/\n", opts_.dir);
  conf += "persistence_file mosquitto.db\n";
  conf += fmt::format("autosave_interval {}\n", opts_.autosave_interval_s);
  if (!opts_.persistent_client_expiration.empty()) {
    conf += fmt::format("persistent_client_expiration {}\n", opts_.persistent_client_expiration);
  }
  // "No bound" is written as INT_MAX, not Mosquitto's own 0: with max_queued_messages 0,
  // Mosquitto 2.0.11 disconnects ("Bad socket read/write") a client whose QoS 1 publish the
  // ACL denies, and that client's next publish goes unacknowledged (tests/integration/
  // mqtt_test.cc WrongPasswordAndCrossDevicePublishingAreRefused).
  conf += fmt::format("max_queued_messages {}\n", opts_.max_queued_messages > 0
                                                      ? opts_.max_queued_messages
                                                      : std::numeric_limits<int>::max());
  conf += "max_queued_bytes 0\n";
  conf += fmt::format("max_inflight_messages {}\n", opts_.max_inflight_messages);
  conf += fmt::format("max_inflight_bytes {}\n", opts_.max_inflight_bytes);
  if (opts_.max_packet_size > 0) conf += fmt::format("max_packet_size {}\n", opts_.max_packet_size);
  conf += "queue_qos0_messages false\n";
  conf += "set_tcp_nodelay true\n";
  conf += "log_dest stderr\n";
  conf += "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
  conf += "connection_messages true\n";
  conf += "log_timestamp true\n";
  // Run by root, the broker is started as its own user (SpawnLocked); for the record (Mosquitto
  // ignores it when not started as root).
  if (::geteuid() == 0)
    conf += fmt::format("user {}\n", broker_user_.empty() ? "root" : broker_user_);
  return WriteOwnedFile(opts_.dir + "/mosquitto.conf", conf);
}

Status BrokerSupervisor::SetCredentials(const std::vector<BrokerUser>& users) {
  std::lock_guard reload(reload_mu_);
  // A user of this reload only: once the broker accepts it, it has read the new files.
  BrokerUser probe;
  probe.username = "bysans-probe-" + opts_.random->Id();
  probe.password = opts_.random->Token(18);
  std::string passwords;
  std::string acl = "# Written by bysans (src/mqtt/broker.cc); replaced on every change.\n";
  std::vector<const BrokerUser*> all;
  all.reserve(users.size() + 1);
  for (const BrokerUser& u : users) all.push_back(&u);
  all.push_back(&probe);
  for (const BrokerUser* up : all) {
    const BrokerUser& u = *up;
    if (u.username.empty() || HasBadChar(u.username, ": \t#")) {
      return InvalidArgument(
          fmt::format("broker user name '{}' is empty or has ':', space, "
                      "'#' or control characters",
                      u.username));
    }
    std::string hash = u.password_hash;
    if (hash.empty()) {
      auto h = HashBrokerPassword(u.password, *opts_.random);
      if (!h.ok()) return h.status();
      hash = std::move(h).value();
    } else if (hash.rfind("$7$", 0) != 0 && hash.rfind("$6$", 0) != 0) {
      return InvalidArgument("password_hash must be a Mosquitto $7$ or $6$ hash");
    }
    if (HasBadChar(hash, ": \t")) return InvalidArgument("password_hash has invalid characters");
    passwords += u.username + ":" + hash + "\n";
    acl += "\nuser " + u.username + "\n";
    if (u.is_service) {
      acl += "topic readwrite #\ntopic readwrite $share/#\ntopic read $SYS/#\n";
      continue;
    }
    for (const std::string& t : u.publish_topics) {
      if (t.empty() || HasBadChar(t, "")) return InvalidArgument("bad ACL topic: " + t);
      acl += "topic write " + t + "\n";
    }
    for (const std::string& t : u.subscribe_topics) {
      if (t.empty() || HasBadChar(t, "")) return InvalidArgument("bad ACL topic: " + t);
      acl += "topic read " + t + "\n";
    }
  }
  bool running = false;
  {
    std::lock_guard lk(mu_);
    std::error_code ec;
    std::filesystem::create_directories(opts_.dir, ec);
    BYSANS_RETURN_IF_ERROR(WriteOwnedFile(opts_.dir + "/passwords", passwords));
    BYSANS_RETURN_IF_ERROR(WriteOwnedFile(opts_.dir + "/acl", acl));
    if (pid_ > 0) running = ::kill(pid_, SIGHUP) == 0;
  }
  if (!running) return Status::Ok();  // read at the next start
  return WaitReloaded(probe.username, probe.password);
}

Status BrokerSupervisor::WaitReloaded(const std::string& user, const std::string& password) const {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(opts_.reload_timeout_ms);
  const std::string host = opts_.bind_address == "0.0.0.0" ? "127.0.0.1" : opts_.bind_address;
  std::string last = "not tried";
  while (std::chrono::steady_clock::now() < deadline) {
    Result<int> code = ProbeConnect(host, port(), user, password, 2000);
    if (code.ok() && *code == 0) return Status::Ok();
    last = code.ok() ? fmt::format("CONNACK {}", *code) : code.status().message();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Unavailable(fmt::format("the broker did not take up new credentials within {} ms ({})",
                                 opts_.reload_timeout_ms, last));
}

int BrokerSupervisor::SpawnLocked() {
  const std::string conf = opts_.dir + "/mosquitto.conf";
  const std::string log = log_path();
  std::vector<char*> argv = {const_cast<char*>(opts_.mosquitto_path.c_str()),
                             const_cast<char*>("-c"), const_cast<char*>(conf.c_str()), nullptr};
  rlimit files{};
  const int max_fd = ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY
                         ? static_cast<int>(std::min<rlim_t>(files.rlim_cur, 1 << 20))
                         : 65536;
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    spdlog::error("mqtt broker: fork failed: {}", std::strerror(errno));
    return -1;
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls.
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      if (fd > 2) ::close(fd);
    }
    // Nothing of bysans' (listening sockets, database, connections) reaches the broker.
    if (::close_range(3, ~0U, 0) != 0) {
      for (int i = 3; i < max_fd; ++i) ::close(i);
    }
    // Run by root: the broker's own user from the start (not Mosquitto's `user`, which drops
    // later and so clears the parent-death signal: a broker orphaned by a killed bysans would
    // keep its port and its credentials).
    if (broker_uid_ >= 0 &&
        (::setgroups(0, nullptr) != 0 || ::setgid(static_cast<gid_t>(broker_gid_)) != 0 ||
         ::setuid(static_cast<uid_t>(broker_uid_)) != 0)) {
      _exit(126);
    }
    // Die with the supervising thread (set after the uid change, which clears it).
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) _exit(0);  // bysans ended before this line
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  spdlog::info("mqtt broker: started {} (pid {}) on {}:{}", opts_.mosquitto_path, pid,
               opts_.bind_address, opts_.port);
  // For operators and tests (Mosquitto writes its own pid file only when daemonised).
  Status st = WriteFileAtomically(pid_path(), std::to_string(pid) + "\n");
  if (!st.ok()) spdlog::warn("mqtt broker: {}", st.message());
  return pid;
}

Status BrokerSupervisor::Start() {
  {
    std::lock_guard lk(mu_);
    if (started_) return FailedPrecondition("broker supervisor already started");
    if (opts_.dir.empty()) return InvalidArgument("broker directory (mqtt.broker_dir) is empty");
    if (::access(opts_.mosquitto_path.c_str(), X_OK) != 0) {
      return FailedPrecondition(
          fmt::format("cannot execute {} (install the mosquitto package)", opts_.mosquitto_path));
    }
    std::error_code ec;
    std::filesystem::create_directories(opts_.dir + "/persistence", ec);
    if (ec) return Internal(fmt::format("cannot create {}: {}", opts_.dir, ec.message()));
    if (opts_.port == 0) {
      auto port = PickFreePort(opts_.bind_address);
      if (!port.ok()) return port.status();
      opts_.port = *port;
    }
  }
  if (::geteuid() == 0) {
    BYSANS_RETURN_IF_ERROR(PrepareUnprivileged());
  }
  // The broker's files are its own (and bysans'): nobody else may list or read them.
  BYSANS_RETURN_IF_ERROR(RestrictDirectory());
  BYSANS_RETURN_IF_ERROR(WriteConfig());
  for (const char* name : {"/passwords", "/acl"}) {
    if (!std::filesystem::exists(opts_.dir + name)) {
      BYSANS_RETURN_IF_ERROR(WriteOwnedFile(opts_.dir + name, ""));
    }
  }
  std::unique_lock lk(mu_);
  started_ = true;
  stopping_ = false;
  first_spawn_done_ = false;
  monitor_ = std::thread([this] { Monitor(); });
  cv_.wait(lk, [this] { return first_spawn_done_; });
  if (first_spawn_pid_ < 0) {
    stopping_ = true;
    lk.unlock();
    cv_.notify_all();
    monitor_.join();
    std::lock_guard relock(mu_);
    started_ = false;
    return Internal("cannot start mosquitto (fork failed)");
  }
  return Status::Ok();
}

void BrokerSupervisor::Monitor() {
  std::unique_lock lk(mu_);
  pid_ = SpawnLocked();
  first_spawn_pid_ = pid_;
  first_spawn_done_ = true;
  cv_.notify_all();
  int delay_ms = opts_.restart_min_ms;
  while (!stopping_) {
    if (pid_ <= 0) {
      cv_.wait_for(lk, std::chrono::milliseconds(delay_ms), [this] { return stopping_; });
      if (stopping_) break;
      delay_ms = std::min(delay_ms * 2, opts_.restart_max_ms);
      pid_ = SpawnLocked();
      continue;
    }
    const int pid = pid_;
    const auto started_at = std::chrono::steady_clock::now();
    lk.unlock();
    int status = 0;
    int r;
    do {
      r = ::waitpid(pid, &status, 0);
    } while (r < 0 && errno == EINTR);
    lk.lock();
    pid_ = -1;
    cv_.notify_all();
    if (stopping_) {
      spdlog::info("mqtt broker: pid {} {}", pid, DescribeExit(status));
      break;
    }
    ++restarts_;
    if (std::chrono::steady_clock::now() - started_at > std::chrono::seconds(30)) {
      delay_ms = opts_.restart_min_ms;  // it ran a while: not a crash loop
    }
    spdlog::error("mqtt broker: mosquitto (pid {}) {}; restarting in {} ms (log: {})", pid,
                  r < 0 ? std::string("could not be waited for") : DescribeExit(status), delay_ms,
                  log_path());
  }
}

void BrokerSupervisor::Stop() {
  std::unique_lock lk(mu_);
  if (!started_) return;
  stopping_ = true;
  const int pid = pid_;
  cv_.notify_all();
  if (pid > 0) {
    ::kill(pid, SIGTERM);
    if (!cv_.wait_for(lk, std::chrono::milliseconds(opts_.stop_timeout_ms),
                      [this] { return pid_ <= 0; })) {
      spdlog::warn("mqtt broker: pid {} ignored SIGTERM; sending SIGKILL", pid);
      ::kill(pid, SIGKILL);
    }
  }
  lk.unlock();
  if (monitor_.joinable()) monitor_.join();
  lk.lock();
  started_ = false;
}

Status BrokerSupervisor::WaitReady(int timeout_ms) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  const uint16_t p = port();
  while (true) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Internal(fmt::format("socket: {}", std::strerror(errno)));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(p);
    ::inet_pton(AF_INET, opts_.bind_address.c_str(), &addr.sin_addr);
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::close(fd);
    if (rc == 0) return Status::Ok();
    if (std::chrono::steady_clock::now() > deadline) {
      return Unavailable(fmt::format("mosquitto not listening on {}:{} after {} ms (see {})",
                                     opts_.bind_address, p, timeout_ms, log_path()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace bysans::mqtt
