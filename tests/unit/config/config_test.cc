#include "config/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace bysans {
namespace {

std::string WriteFile(const std::string& text) {
  auto path = std::filesystem::temp_directory_path() /
              ("bysans-config-" + std::to_string(::getpid()) + "-" +
               std::to_string(std::hash<std::string>{}(text)) + ".toml");
  std::ofstream(path) << text;
  return path.string();
}

}  // namespace

TEST(Config, DefaultsFileEnvFlagsInOrder) {
  std::string file = WriteFile("data_dir = \"/tmp/x\"\n[http]\nport = 9000\nthreads = 3\n");
  auto c = LoadConfig(file, {{"BYSANS_HTTP_PORT", "9100"}}, {{"data_dir", "/tmp/y"}});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->http_port, 9100);     // env beats file
  EXPECT_EQ(c->http_threads, 3);     // file beats default
  EXPECT_EQ(c->data_dir, "/tmp/y");  // flag beats file
  EXPECT_EQ(c->log_format, "text");  // default
}

TEST(Config, BadValueNamesTheSettingAndItsOrigin) {
  auto c = LoadConfig("", {{"BYSANS_HTTP_PORT", "eighty"}}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("http.port"), std::string::npos);
  EXPECT_NE(c.status().message().find("BYSANS_HTTP_PORT"), std::string::npos);
}

TEST(Config, HttpHardeningSettings) {
  auto d = LoadConfig("", {}, {});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->http_max_connections, 1024);
  EXPECT_EQ(d->http_stream_write_timeout_s, 60);
  EXPECT_EQ(d->http_metrics_token, "");  // /metrics open, as before
  auto c = LoadConfig("",
                      {{"BYSANS_HTTP_METRICS_TOKEN", "t0ken"},
                       {"BYSANS_HTTP_MAX_CONNECTIONS", "50"},
                       {"BYSANS_HTTP_STREAM_WRITE_TIMEOUT_S", "5"}},
                      {});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->http_metrics_token, "t0ken");
  EXPECT_EQ(c->http_max_connections, 50);
  EXPECT_EQ(c->http_stream_write_timeout_s, 5);
  auto bad = LoadConfig("", {{"BYSANS_HTTP_MAX_CONNECTIONS", "0"}}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("http.max_connections"), std::string::npos);
}

TEST(Config, PublicUrlIsAWebOrigin) {
  auto c = LoadConfig("", {{"BYSANS_HTTP_PUBLIC_URL", "https://data.kommune.dk"}}, {});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->http_public_url, "https://data.kommune.dk");
  for (const char* bad : {"data.kommune.dk", "ftp://x", "https://x/?a=1", "https://x\"<"}) {
    auto b = LoadConfig("", {{"BYSANS_HTTP_PUBLIC_URL", bad}}, {});
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.status().message().find("http.public_url"), std::string::npos);
  }
}

TEST(Config, StoreUrlIsEmptyOrPostgres) {
  auto c = LoadConfig("", {}, {{"store.url", "postgresql://bysans:s3cret@db:5432/bysans"}});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->store_url, "postgresql://bysans:s3cret@db:5432/bysans");
  c = LoadConfig("", {{"BYSANS_STORE_URL", "mysql://u:s3cret@x"}}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("store.url"), std::string::npos);
  EXPECT_NE(c.status().message().find("must be empty"), std::string::npos);
  EXPECT_EQ(c.status().message().find("s3cret"), std::string::npos) << c.status().message();
  c = LoadConfig("", {{"BYSANS_STORE_URL", ""}}, {});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->store_url.empty());
}

TEST(Config, MqttSharedGroupIsOneTopicLevel) {
  auto c = LoadConfig("", {{"BYSANS_MQTT_SHARED_GROUP", "bysans-nodes_1"}}, {});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->mqtt_shared_group, "bysans-nodes_1");
  EXPECT_TRUE(LoadConfig("", {}, {})->mqtt_shared_group.empty());
  for (const char* bad : {"a/b", "#", "+", "with space", "ø"}) {
    auto b = LoadConfig("", {{"BYSANS_MQTT_SHARED_GROUP", bad}}, {});
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.status().message().find("mqtt.shared_group"), std::string::npos);
  }
  EXPECT_FALSE(LoadConfig("", {{"BYSANS_MQTT_SHARED_GROUP", std::string(65, 'g')}}, {}).ok());
}

TEST(Config, NodeIdIsAPlainName) {
  auto c = LoadConfig("", {{"BYSANS_NODE_ID", "node-2.example"}}, {});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->node_id, "node-2.example");
  EXPECT_TRUE(LoadConfig("", {}, {})->node_id.empty()) << "empty: the host name";
  for (const char* bad : {"", "a/b", "a#b", "with space", "ø"}) {
    auto b = LoadConfig("", {{"BYSANS_NODE_ID", bad}}, {});
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.status().message().find("node.id"), std::string::npos);
  }
  EXPECT_FALSE(LoadConfig("", {{"BYSANS_NODE_ID", std::string(65, 'n')}}, {}).ok());
}

TEST(Config, StoreCommitIntervalIsBounded) {
  auto c = LoadConfig("", {}, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->store_commit_interval_ms, 5);
  c = LoadConfig(WriteFile("[store]\ncommit_interval_ms = 0\n"), {}, {});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->store_commit_interval_ms, 0);
  c = LoadConfig("", {{"BYSANS_STORE_COMMIT_INTERVAL_MS", "5000"}}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("store.commit_interval_ms"), std::string::npos);
}

TEST(Config, StoreWritersAreBounded) {
  auto c = LoadConfig("", {}, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->store_writers, 2);
  c = LoadConfig(WriteFile("[store]\nwriters = 4\n"), {}, {});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->store_writers, 4);
  for (const char* bad : {"0", "17", "two"}) {
    c = LoadConfig("", {{"BYSANS_STORE_WRITERS", bad}}, {});
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.status().message().find("store.writers"), std::string::npos);
  }
}

TEST(Config, UnknownSettingInFileIsAnError) {
  std::string file = WriteFile("[http]\nprot = 80\n");
  auto c = LoadConfig(file, {}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("http.prot"), std::string::npos);
}

TEST(Config, MissingFileAndSyntaxErrorAreReported) {
  auto missing = LoadConfig("/nonexistent/bysans.toml", {}, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("does not exist"), std::string::npos);
  auto broken = LoadConfig(WriteFile("[http\nport = 1\n"), {}, {});
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("line"), std::string::npos);
}

TEST(Config, TlsNeedsBothCertAndKey) {
  auto c = LoadConfig("", {{"BYSANS_HTTP_TLS_CERT", "/etc/cert.pem"}}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("http.tls_key"), std::string::npos);
}

TEST(Config, EnumsAndBooleans) {
  EXPECT_FALSE(LoadConfig("", {{"BYSANS_LOG_FORMAT", "xml"}}, {}).ok());
  auto c = LoadConfig("", {{"BYSANS_DEMO_ENABLED", "yes"}, {"BYSANS_LOG_FORMAT", "json"}}, {});
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->demo);
  EXPECT_EQ(c->log_format, "json");
  EXPECT_EQ(EnvNameOf("auth.session_ttl_s"), "BYSANS_AUTH_SESSION_TTL_S");
}

TEST(Config, OutboundAllowIsACidrListFromEnvOrToml) {
  auto none = LoadConfig("", {}, {});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->outbound_allow, "");  // public addresses only
  auto env = LoadConfig("", {{"BYSANS_OUTBOUND_ALLOW", "10.20.0.0/16, ::1/128"}}, {});
  ASSERT_TRUE(env.ok()) << env.status().message();
  EXPECT_EQ(env->outbound_allow, "10.20.0.0/16, ::1/128");
  auto toml =
      LoadConfig(WriteFile("[outbound]\nallow = [\"127.0.0.0/8\", \"fd00::/8\"]\n"), {}, {});
  ASSERT_TRUE(toml.ok()) << toml.status().message();
  EXPECT_EQ(toml->outbound_allow, "127.0.0.0/8,fd00::/8");
  auto bad = LoadConfig("", {{"BYSANS_OUTBOUND_ALLOW", "10.0.0.0/33"}}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("outbound.allow"), std::string::npos)
      << bad.status().message();
}

}  // namespace bysans
