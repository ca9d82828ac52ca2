// BrokerSupervisor: runs and supervises the Mosquitto 2 broker that bysans configures itself.
// It writes mosquitto.conf, a password file (Mosquitto's PBKDF2-SHA512 "$7$" hashes) and an
// ACL file into a directory it owns, starts /usr/sbin/mosquitto as a child process, restarts
// it when it dies (logging the exit code or signal), and stops it with SIGTERM, then SIGKILL.
// Credentials are changed by rewriting the two files atomically and sending SIGHUP, which
// makes Mosquitto reload them without dropping connections; SetCredentials returns once the
// broker accepts a probe credential written with them. A client's id is its user name
// (use_username_as_clientid), so no client can take over another's session. Run by root, the
// broker drops to an unprivileged user that owns its files, and it inherits no descriptor of
// bysans but its log. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/random.h"
#include "core/status.h"

namespace bysans::mqtt {

struct BrokerUser {
  std::string username;
  // Either a plain password (hashed here) or a ready Mosquitto hash ("$7$101$salt$hash",
  // without "user:"), e.g. one stored by bysans when it issued the credentials.
  std::string password;
  std::string password_hash;
  std::vector<std::string> publish_topics;    // ACL "topic write"
  std::vector<std::string> subscribe_topics;  // ACL "topic read" (subscribe + receive)
  bool is_service = false;                    // bysans itself: read/write everything
};

// A device's broker user: may publish only devices/{id}/up and subscribe only
// devices/{id}/down.
BrokerUser DeviceBrokerUser(std::string username, std::string password,
                            const std::string& device_id);

struct BrokerOptions {
  std::string dir;  // owned directory for config, credentials, persistence and log
  std::string mosquitto_path = "/usr/sbin/mosquitto";
  std::string bind_address = "127.0.0.1";
  uint16_t port = 0;  // 0: pick a free port at Start()
  // 0 = no bound. Mosquitto 2.0 cannot push back on a publisher: when a subscriber's queue
  // is full it still PUBACKs the publisher and drops the message for that subscriber. So the
  // queue toward bysans is unbounded (bysans' receive window is the back-pressure; the
  // broker's memory is the buffer) and nothing acknowledged is ever dropped (README.md).
  int max_queued_messages = 0;
  // Un-acked QoS 1 messages in flight toward one subscriber: bysans acks after its group
  // commit, so this window bounds how many messages one commit can acknowledge. It matches
  // bysans' receive window (ServiceOptions::max_inflight).
  int max_inflight_messages = 1000;
  size_t max_inflight_bytes = 0;  // ... and their payloads' bytes (0: no bound)
  size_t max_packet_size = 0;     // > 0: the broker refuses (disconnects) larger packets
  int autosave_interval_s = 30;   // persistence snapshot period
  std::string persistent_client_expiration = "30d";
  int restart_min_ms = 200;
  int restart_max_ms = 10000;
  int stop_timeout_ms = 5000;  // SIGTERM → SIGKILL
  Random* random = nullptr;    // password salts; nullptr: an owned SystemRandom
  // use_username_as_clientid on the listener: every client's id is its user name, so an
  // authenticated client cannot take over another's session. False only in tests of the client.
  bool client_id_is_username = true;
  // When bysans runs as root, the broker runs as this user: its group may read the broker's
  // configuration and search bysans' data directory, and it owns the persistence folder; empty:
  // "mosquitto", else "nobody". Ignored when not root.
  std::string run_as_user;
  // SetCredentials on a running broker waits at most this long for the reload to take effect.
  int reload_timeout_ms = 10000;
};

// Mosquitto 2 password hash: "$7$<iterations>$<base64 salt>$<base64 PBKDF2-SHA512>".
Result<std::string> HashBrokerPassword(std::string_view password, Random& random,
                                       int iterations = 101);
// The same with a given salt (tests compare against mosquitto_passwd).
Result<std::string> HashBrokerPasswordWithSalt(std::string_view password, std::string_view salt,
                                               int iterations);
// A TCP port that was free a moment ago on `address` (bind to port 0, read it, close).
Result<uint16_t> PickFreePort(const std::string& address);

class BrokerSupervisor {
 public:
  explicit BrokerSupervisor(BrokerOptions options);
  ~BrokerSupervisor();  // Stop()s
  BrokerSupervisor(const BrokerSupervisor&) = delete;
  BrokerSupervisor& operator=(const BrokerSupervisor&) = delete;

  // Writes the configuration and starts the broker. Does not wait for it to listen.
  Status Start();
  // Stops supervision and the broker (SIGTERM, then SIGKILL after stop_timeout_ms).
  void Stop();
  // Polls a TCP connect to the listener until it succeeds or `timeout_ms` passes.
  Status WaitReady(int timeout_ms) const;

  // Replaces all broker users. Writes the password and ACL files atomically and, if the
  // broker runs, sends SIGHUP so it reloads them and returns once the broker accepts them (a
  // one-time probe user written with them connects), or kUnavailable after reload_timeout_ms.
  // May be called before Start().
  Status SetCredentials(const std::vector<BrokerUser>& users);

  uint16_t port() const;
  const std::string& bind_address() const { return opts_.bind_address; }
  // Current broker process id, or -1 while it is not running.
  int pid() const;
  // How many times the broker was restarted after dying.
  int restarts() const;
  std::string log_path() const;
  // <dir>/mosquitto.pid: the pid of the broker last started (rewritten at every (re)start).
  std::string pid_path() const;

 private:
  Status WriteConfig();
  Status WriteOwnedFile(const std::string& path, const std::string& content) const;
  // Root only: lets the broker's user reach its directory (or falls back to root).
  Status PrepareUnprivileged();
  // Nothing for others. With a broker user: the directory root:<its group> 0750, the
  // configuration, password and ACL files 0640 (it reads, cannot change them), persistence its
  // own (0700/0600); without: 0700/0600.
  Status RestrictDirectory() const;
  Status WaitReloaded(const std::string& user, const std::string& password) const;
  int SpawnLocked();  // returns pid or -1
  void Monitor();

  BrokerOptions opts_;
  std::unique_ptr<Random> owned_random_;
  std::string broker_user_;  // root only: the user the broker runs as
  int broker_uid_ = -1;      // its uid and gid, -1 when not root
  int broker_gid_ = -1;
  std::mutex reload_mu_;  // one SetCredentials at a time
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::thread monitor_;
  bool started_ = false;
  bool stopping_ = false;
  int pid_ = -1;
  int restarts_ = 0;
  bool first_spawn_done_ = false;
  int first_spawn_pid_ = -1;
};

}  // namespace bysans::mqtt
