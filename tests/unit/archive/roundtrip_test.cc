// Export → import → export on a real store: same content apart from ids and export times; the
// imported devices answer the same readings and aggregates; bad archives are refused before
// anything is written; an existing organisation is never touched; no secret in an archive.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "archive/export.h"
#include "archive/format.h"
#include "archive/import.h"
#include "archive/snapshot.h"
#include "archive/tar.h"
#include "store/contact_store.h"
#include "store/decoder_store.h"
#include "store/mqtt_store.h"
#include "store/rule_store.h"
#include "store/target_store.h"
#include "unit/archive/archive_reader.h"
#include "unit/store/temp_store.h"

namespace bysans::archive {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Secrets the fixture stores; none may appear in an archive.
const char* const kSecrets[] = {
    "ARGON2-HASH-OF-MEMBER", "INGESTKEYHASH0123456789",     "$7$MQTT-PBKDF2-HASH",
    "TARGET-HEADER-VALUE",   "TARGET-MQTT-PASSWORD",        "INTEGRATION-PASSWORD",
    "WEBHOOK-HEADER-VALUE",  "hooks.example/T0KEN-IN-PATH", "SMTP-PASSWORD"};

class ArchiveRoundTripTest : public bysans::testing::StoreTest {
 protected:
  static constexpr TimeMs kT0 = 1'700'000'000'000;

  Id Seed(const std::string& name, int devices, int readings_per_key) {
    Store& s = *store_;
    Organization org;
    org.name = name;
    org.decoder_timeout_ms = 250;
    Id org_id = s.CreateOrganization(org)->id;
    User u;
    u.email = name + "-member@example.dk";
    u.name = "Member";
    u.password_hash = kSecrets[0];
    Id uid = s.CreateUser(u)->id;
    EXPECT_TRUE(s.PutMembership({uid, org_id, Role::kEditor}).ok());
    StoredDecoder dec;
    dec.org_id = org_id;
    dec.name = "room";
    dec.code = "function decodeUplink(i){return {data:{v:1}}}";
    auto d1 = s.decoders().CreateDecoder(dec, uid, kT0);
    d1->code = "function decodeUplink(i){return {data:{v:2}}}";
    EXPECT_TRUE(s.decoders().UpdateDecoder(*d1, uid, kT0 + 1000).ok());
    Application app;
    app.org_id = org_id;
    app.name = "Indeklima";
    app.description = "rooms";
    // Every privacy field must survive the round trip (the second export equals the first).
    app.data_class = DataClass::kSensitive;
    app.retention = {30, 90, std::nullopt};
    app.purpose = "Faldalarmer til hjemmeplejen";
    app.legal_basis = "GDPR art. 9(2)(h)";
    app.data_categories = "fall events, presence";
    app.recipients = "hjemmeplejen";
    Id app_id = s.CreateApplication(app)->id;
    EXPECT_TRUE(s.decoders().SetApplicationDecoder(app_id, d1->id).ok());
    // Responsible contacts (issue 20) travel with their application and device.
    EXPECT_TRUE(s.contacts()
                    .ReplaceContacts(ContactOwner::kApplication, app_id,
                                     {{"Tilsyn", "tilsyn@kommune.dk", "+4520000001", "tilsyn"}})
                    .ok());
    DeviceModel dm;
    dm.org_id = org_id;
    dm.name = "ERS";
    dm.doc_json = R"({"brandName":"Elsys","controlledProperty":["temperature"]})";
    Id model_id = s.CreateDeviceModel(dm)->id;
    std::vector<Id> ids;
    for (int i = 0; i < devices; ++i) {
      Device d;
      d.org_id = org_id;
      d.app_id = app_id;
      d.name = name + " sensor " + std::to_string(i);
      d.transport = i % 3 == 0   ? Transport::kHttp
                    : i % 3 == 1 ? Transport::kMqtt
                                 : Transport::kLorawan;
      if (d.transport == Transport::kLorawan) {
        char eui[17];
        std::snprintf(eui, sizeof eui, "%016x", static_cast<unsigned>(org_id * 1000 + i));
        d.dev_eui = eui;
      }
      d.location = Location{55.67 + i * 0.001, 12.56};
      d.tags = {"floor-" + std::to_string(i % 2), "indoor"};
      d.metadata = {{"room", "R" + std::to_string(i)}, {"owner", "ØK \"quoted\""}};
      d.device_model_id = model_id;
      d.expected_interval_s = 600;
      const std::string key_hash =
          d.transport == Transport::kHttp ? kSecrets[1] + std::to_string(org_id * 100 + i) : "";
      Id id = s.CreateDevice(d, key_hash)->id;
      ids.push_back(id);
      if (i == 0) {
        EXPECT_TRUE(
            s.contacts()
                .ReplaceContacts(ContactOwner::kDevice, id, {{"Drift", "", "+4520000002", ""}})
                .ok());
      }
      if (i % 2 == 0) {  // moved once: a location history of two entries
        clock_.Advance(1000);
        d.id = id;
        d.location = Location{56.0 + i * 0.001, 10.2};
        EXPECT_TRUE(s.UpdateDevice(d).ok());
      }
      if (d.transport == Transport::kMqtt) {
        EXPECT_TRUE(
            s.mqtt().PutCredential({id, "dev-" + std::to_string(id), kSecrets[2], kT0}).ok());
      }
    }
    IngestBatch b;
    for (Id id : ids) {
      for (int k = 0; k < readings_per_key; ++k) {
        const TimeMs t = kT0 + k * 60'000;
        b.readings.push_back({id, "temperature", t, 20.0 + k * 0.01, "Cel", Quality::kOk});
        b.readings.push_back({id, "door", t, k % 2 == 0, "", Quality::kLate});
        b.readings.push_back({id, "label", t, "room \"" + std::to_string(k) + "\"", "",
                              k % 7 == 0 ? Quality::kSpike : Quality::kOk});
      }
      for (int k = 0; k < 5; ++k) {
        RawMessage m = bysans::testing::JsonMessage(id, kT0 + k * 60'000,
                                                    std::string("\x01\x02payload\xff", 11));
        m.decode_status = k == 3 ? DecodeStatus::kError : DecodeStatus::kOk;
        if (k == 3) m.decode_error = "bad";
        b.messages.push_back(m);
      }
    }
    EXPECT_TRUE(s.Append(std::move(b)).ok());
    RuleRecord rule;
    rule.org_id = org_id;
    json def = {{"name", "too warm"},
                {"scope", {{"kind", "device"}, {"id", ids[0]}}},
                {"severity", "warning"},
                {"kind", "expression"},
                {"expression", "temperature > 25"},
                {"actions",
                 {{{"type", "webhook"},
                   {"url", std::string("https://") + kSecrets[7] + "/x"},
                   {"headers", {{"Authorization", kSecrets[6]}}}},
                  {{"type", "email"},
                   {"url", "smtps://mail.example.dk"},
                   {"to", {"a@example.dk"}},
                   {"password", kSecrets[8]}}}}};
    rule.definition = def.dump();
    auto made_rule = s.rules().CreateRule(rule);
    EXPECT_TRUE(made_rule.ok());
    // Two alarms of the rule (one acknowledged with a comment, one cleared and awaiting
    // acknowledgement) and a silence.
    for (const char* state : {"acknowledged", "cleared"}) {
      AlarmRecord a;
      a.org_id = org_id;
      a.rule_id = made_rule->id;
      a.device_id = ids[0];
      a.state = state;
      a.awaiting_ack = std::string_view(state) == "cleared";
      a.raised_ms = kT0 + 120'000;
      a.doc = json{{"severity", "warning"},
                   {"state", state},
                   {"message", "too warm: 25.4 \u00b0C"},
                   {"values", {{"temperature", 25.4}}},
                   {"raisedMs", a.raised_ms},
                   {"ackBy", "drift@example.dk"},
                   {"ackMs", a.raised_ms + 60'000},
                   {"ackComment", "window open"},
                   {"comments", json::array({{{"by", "drift@example.dk"},
                                              {"at", a.raised_ms + 61'000},
                                              {"text", "closed it"}}})},
                   {"history", json::array()},
                   {"orgId", org_id},
                   {"ruleId", made_rule->id},
                   {"deviceId", ids[0]}}
                  .dump();
      EXPECT_TRUE(s.rules().CreateAlarm(a, nullptr).ok());
    }
    SilenceRecord silence;
    silence.org_id = org_id;
    silence.device_id = ids[1];
    silence.rule_id = made_rule->id;
    silence.until_ms = kT0 + 365LL * 86'400'000;
    silence.created_by = "drift@example.dk";
    silence.created_ms = kT0;
    EXPECT_TRUE(s.rules().CreateSilence(silence).ok());
    DataTarget t;
    t.org_id = org_id;
    t.app_id = app_id;
    t.name = "city platform";
    t.url = "https://platform.example.dk/in";
    t.header_names = {"Authorization"};
    t.device_ids = {ids[0]};
    EXPECT_TRUE(s.targets().CreateTarget(t, {{"Authorization", kSecrets[3]}}, kSecrets[4]).ok());
    MqttIntegration integ;
    integ.kind = "chirpstack";
    integ.org_id = org_id;
    integ.name = "chirpstack";
    integ.url = "mqtt://chirpstack.example.dk";
    integ.username = "bysans";
    EXPECT_TRUE(s.mqtt().CreateIntegration(integ, std::string(kSecrets[5])).ok());
    return org_id;
  }

  Result<ExportSummary> Export(Id org, const std::string& out) {
    ExportOptions o;
    o.bysans_version = "test";
    return ExportOrganization(*store_, clock_, org, out, o, no_cancel_);
  }
  Result<ImportReport> Import(const std::string& in, const std::string& name = "") {
    ImportOptions o;
    o.org_name = name;
    return ImportArchive(*store_, clock_, in, o, no_cancel_);
  }
  std::string Path(const std::string& name) { return dir_.path() + "/" + name; }
  int64_t OrgCount() { return store_->ListOrganizations({})->total; }

  // Rewrites one member of an archive (same length or not) and keeps everything else.
  void RewriteMember(const std::string& in, const std::string& out, const std::string& name,
                     const std::function<std::string(std::string)>& edit) {
    std::FILE* f = std::fopen(in.c_str(), "rb");
    auto entries = ListTar(f);
    ASSERT_TRUE(entries.ok());
    std::FILE* o = std::fopen(out.c_str(), "wb");
    TarWriter w(o, 0);
    for (const auto& e : *entries) {
      std::string sha;
      std::string bytes = *ReadMember(f, e.offset, e.size, sha);
      if (e.name == name) bytes = edit(bytes);
      ASSERT_TRUE(w.AddBytes(e.name, bytes).ok());
    }
    ASSERT_TRUE(w.Finish().ok());
    std::fclose(o);
    std::fclose(f);
  }

  std::atomic<bool> no_cancel_{false};
};

TEST_F(ArchiveRoundTripTest, ExportImportExportGivesTheSameContent) {
  Id org = Seed("Kommune", 6, 50);
  ASSERT_TRUE(Export(org, Path("a.tar")).ok());
  // Into a fresh bysans (its own store): the import is then complete (no DevEUI clash).
  bysans::testing::TempDir other_dir;
  SqliteOptions so = Options();
  so.path = other_dir.path() + "/bysans.db";
  auto other = OpenSqliteStore(so);
  ASSERT_TRUE(other.ok());
  Store& fresh = **other;
  auto rep = ImportArchive(fresh, clock_, Path("a.tar"), ImportOptions{}, no_cancel_);
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  EXPECT_EQ(rep->devices, 6);
  EXPECT_EQ(rep->readings, 6 * 50 * 3);
  EXPECT_EQ(rep->raw_messages, 6 * 5);
  EXPECT_EQ(rep->decoders, 1);
  EXPECT_EQ(rep->invitations, 1);
  EXPECT_EQ(rep->alarms, 2);
  EXPECT_EQ(rep->silences, 1);
  ASSERT_TRUE(
      ExportOrganization(fresh, clock_, rep->org_id, Path("b.tar"), ExportOptions{}, no_cancel_)
          .ok());

  json a = testing::Normalized(testing::ArchiveContent(Path("a.tar")));
  json b = testing::Normalized(testing::ArchiveContent(Path("b.tar")));
  // What an import changes on purpose: secrets are gone (re-enter), so rules are disabled,
  // data targets paused and integrations disabled; members are invited, not members yet.
  for (json* c : {&a, &b}) {
    for (auto& r : (*c)["rules.json"]) r.erase("enabled"), r["definition"].erase("enabled");
    for (auto& t : (*c)["data_targets.json"]) t.erase("paused"), t.erase("password");
    for (auto& i : (*c)["integrations.json"]) i.erase("enabled"), i.erase("password");
    for (auto& r : (*c)["rules.json"]) {
      for (auto& act : r["definition"]["actions"])
        act.erase("hasPassword"), act.erase("headerNames");
    }
    // MQTT devices need a new password: their broker user is re-created with it.
    for (auto& d : (*c)["devices.json"]) d.erase("mqtt");
    (*c)["manifest.json"].erase("bysansVersion");
  }
  EXPECT_EQ(a["members.json"].size(), 1u);
  EXPECT_EQ(b["members.json"].size(), 0u);  // invited: not yet members
  // Applications and devices carry their contacts (compared whole below).
  EXPECT_EQ(b["applications.json"][0]["contacts"][0]["phone"], "+4520000001");
  EXPECT_EQ(b["devices.json"][0]["contacts"][0]["name"], "Drift");
  EXPECT_FALSE(b["devices.json"][1].contains("contacts"));
  // Devices carry their location history (compared whole below).
  EXPECT_EQ(b["devices.json"][0]["locationHistory"].size(), 2u) << b["devices.json"][0].dump();
  EXPECT_EQ(b["devices.json"][1]["locationHistory"].size(), 1u) << b["devices.json"][1].dump();
  a.erase("members.json");
  b.erase("members.json");
  for (json* c : {&a, &b}) {
    for (auto& f : (*c)["manifest.json"]["files"])
      if (f["name"] == "members.json") f["records"] = 0;
  }
  for (auto it = a.begin(); it != a.end(); ++it) EXPECT_EQ(it.value(), b[it.key()]) << it.key();
  EXPECT_EQ(a, b);

  // The imported devices answer the same readings and aggregates.
  DeviceFilter fa, fb;
  fa.org_id = org;
  fb.org_id = rep->org_id;
  auto da = store_->ListDevices(fa, {})->items;
  auto db = fresh.ListDevices(fb, {})->items;
  ASSERT_EQ(da.size(), db.size());
  for (size_t i = 0; i < da.size(); ++i) {
    ReadingQuery q;
    q.device_id = da[i].id;
    auto ra = store_->QueryReadings(q);
    q.device_id = db[i].id;
    auto rb = fresh.QueryReadings(q);
    ASSERT_EQ(ra->size(), rb->size());
    for (size_t k = 0; k < ra->size(); ++k) {
      EXPECT_EQ((*ra)[k].value, (*rb)[k].value);
      EXPECT_EQ((*ra)[k].ts, (*rb)[k].ts);
      EXPECT_EQ((*ra)[k].quality, (*rb)[k].quality);
    }
    AggregateQuery aq{da[i].id, "temperature", kT0, kT0 + 86'400'000, 3'600'000};
    auto aa = store_->Aggregate(aq);
    aq.device_id = db[i].id;
    auto ab = fresh.Aggregate(aq);
    ASSERT_EQ(aa->size(), ab->size());
    for (size_t k = 0; k < aa->size(); ++k) {
      EXPECT_EQ((*aa)[k].count, (*ab)[k].count);
      EXPECT_DOUBLE_EQ((*aa)[k].sum, (*ab)[k].sum);
    }
  }
  // And the same alarms, under the new rule and devices.
  AlarmFilter af, bf;
  af.org_id = org;
  bf.org_id = rep->org_id;
  auto aa = store_->rules().ListAlarms(af, {});
  auto ab = fresh.rules().ListAlarms(bf, {});
  ASSERT_TRUE(aa.ok() && ab.ok());
  ASSERT_EQ(aa->items.size(), 2u);
  ASSERT_EQ(ab->items.size(), 2u);
  std::map<Id, Id> new_device;
  for (size_t i = 0; i < da.size(); ++i) new_device[da[i].id] = db[i].id;
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(ab->items[i].state, aa->items[i].state);
    EXPECT_EQ(ab->items[i].awaiting_ack, aa->items[i].state == "cleared");
    EXPECT_EQ(ab->items[i].raised_ms, aa->items[i].raised_ms);
    EXPECT_EQ(ab->items[i].device_id, new_device[aa->items[i].device_id]);
    json doc = json::parse(ab->items[i].doc);
    EXPECT_EQ(doc["comments"][0]["text"], "closed it");
    EXPECT_EQ(doc["orgId"], rep->org_id);
    EXPECT_EQ(doc["deviceId"], ab->items[i].device_id);
  }
  fresh.Close();
}

// Access per application: a restricted member is exported with their applications and invited
// by the import to the same applications under their new ids, never the whole organisation.
TEST_F(ArchiveRoundTripTest, ARestrictedMemberIsInvitedToTheSameApplicationsOnly) {
  Id org = Seed("Kommune", 3, 5);
  Application schools;
  schools.org_id = org;
  schools.name = "Skoler";
  ASSERT_TRUE(store_->CreateApplication(schools).ok());
  auto apps = store_->ListApplications(org, {100, 0});
  ASSERT_TRUE(apps.ok());
  ASSERT_EQ(apps->items.size(), 2u);
  ASSERT_EQ(apps->items[1].name, "Skoler");
  User u;
  u.email = "care-lead@example.dk";
  u.name = "Care lead";
  u.password_hash = "x";
  Membership m{store_->CreateUser(u)->id, org, Role::kOperator};
  m.app_scoped = true;
  m.app_ids = {apps->items[1].id};
  ASSERT_TRUE(store_->PutMembership(m).ok());
  ASSERT_TRUE(Export(org, Path("a.tar")).ok());
  json content = testing::ArchiveContent(Path("a.tar"));
  bool listed = false;
  for (const auto& mem : content["members.json"])
    if (mem.value("email", "") == u.email) listed = mem["applications"] == json{m.app_ids[0]};
  EXPECT_TRUE(listed) << content["members.json"].dump();
  auto rep = Import(Path("a.tar"));
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  EXPECT_EQ(rep->invitations, 2);  // the seeded editor and the restricted operator
  auto invited = store_->ListInvitationsOfOrganization(rep->org_id);
  ASSERT_TRUE(invited.ok());
  auto new_apps = store_->ListApplications(rep->org_id, {100, 0});
  ASSERT_TRUE(new_apps.ok());
  Id same = 0;  // the imported application of the same name
  for (const auto& a : new_apps->items)
    if (a.name == apps->items[1].name) same = a.id;
  ASSERT_NE(same, 0);
  ASSERT_NE(same, apps->items[1].id);
  bool found = false;
  for (const auto& i : *invited) {
    if (i.email != u.email) {
      EXPECT_FALSE(i.app_scoped) << i.email;
      continue;
    }
    found = true;
    EXPECT_EQ(i.role, Role::kOperator);
    EXPECT_TRUE(i.app_scoped);
    EXPECT_EQ(i.app_ids, std::vector<Id>{same});
  }
  EXPECT_TRUE(found);
}

TEST_F(ArchiveRoundTripTest, ArchiveHoldsNoSecret) {
  Id org = Seed("Kommune", 3, 5);
  ASSERT_TRUE(Export(org, Path("a.tar")).ok());
  std::string bytes;
  testing::ArchiveContent(Path("a.tar"), &bytes);
  std::ifstream raw(Path("a.tar"), std::ios::binary);
  bytes.append(std::istreambuf_iterator<char>(raw), {});
  ASSERT_NE(bytes.find("Kommune sensor 0"), std::string::npos);  // the search works
  for (const char* secret : kSecrets) EXPECT_EQ(bytes.find(secret), std::string::npos) << secret;
  EXPECT_NE(bytes.find(kReenter), std::string::npos);
  EXPECT_EQ(bytes.find("Sealed"), std::string::npos);  // no sealed form either
}

TEST_F(ArchiveRoundTripTest, ImportBesideAnExistingOrganisationLeavesItAlone) {
  Id org = Seed("Kommune", 3, 5);
  ASSERT_TRUE(Export(org, Path("a.tar")).ok());
  ASSERT_TRUE(Export(org, Path("before.tar")).ok());
  auto rep = Import(Path("a.tar"));
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  EXPECT_NE(rep->org_id, org);
  // The LoRaWAN DevEUI is the original's: the copy goes without it, and says so.
  bool noted = false;
  for (const auto& n : rep->notes) noted = noted || n.find("DevEUI") != std::string::npos;
  EXPECT_TRUE(noted);
  ASSERT_TRUE(Export(org, Path("after.tar")).ok());
  json before = testing::ArchiveContent(Path("before.tar"));
  json after = testing::ArchiveContent(Path("after.tar"));
  before["manifest.json"].erase("exportedAt");
  after["manifest.json"].erase("exportedAt");
  before.erase("README.md");
  after.erase("README.md");
  EXPECT_EQ(before, after);
}

class BadArchiveTest : public ArchiveRoundTripTest {
 protected:
  void SetUp() override {
    ArchiveRoundTripTest::SetUp();
    org_ = Seed("Kommune", 3, 20);
    ASSERT_TRUE(Export(org_, Path("good.tar")).ok());
    orgs_before_ = OrgCount();
  }
  // The import fails naming `want`, and nothing was written.
  void ExpectRefused(const std::string& path, const std::string& want) {
    auto rep = Import(path);
    ASSERT_FALSE(rep.ok());
    EXPECT_NE(rep.status().message().find(want), std::string::npos) << rep.status().message();
    EXPECT_EQ(OrgCount(), orgs_before_);
  }
  // Writes bad.tar: good.tar with line `line_no` of a JSON Lines member edited, and the
  // manifest's hash and size of that member updated, so only the edit is wrong.
  void EditLine(const std::string& member, int line_no, const std::function<void(json&)>& edit) {
    std::string edited;
    RewriteMember(Path("good.tar"), Path("mid.tar"), member, [&](std::string) {
      MemberWriter w;
      EXPECT_TRUE(w.Open(Path("r.gz"), true).ok());
      json c = testing::ArchiveContent(Path("good.tar"));
      int n = 0;
      for (auto& line : c[member]) {
        if (++n == line_no) edit(line);
        EXPECT_TRUE(w.Append(line.dump() + "\n", 1).ok());
      }
      EXPECT_GE(n, line_no) << member << " has fewer lines";
      EXPECT_TRUE(w.Finish().ok());
      std::ifstream in(Path("r.gz"), std::ios::binary);
      edited.assign(std::istreambuf_iterator<char>(in), {});
      return edited;
    });
    RewriteMember(Path("mid.tar"), Path("bad.tar"), "manifest.json", [&](std::string s) {
      json m = json::parse(s);
      Sha256 sha;
      sha.Update(edited.data(), edited.size());
      for (auto& f : m["files"]) {
        if (f["name"] != member) continue;
        f["sha256"] = sha.HexDigest();
        f["bytes"] = edited.size();
      }
      return m.dump(2);
    });
  }
  Id org_ = 0;
  int64_t orgs_before_ = 0;
};

TEST_F(BadArchiveTest, TamperedFileFailsItsChecksum) {
  RewriteMember(Path("good.tar"), Path("bad.tar"), "devices.json", [](std::string s) {
    s[s.find("sensor 1")] = 'S';
    return s;
  });
  ExpectRefused(Path("bad.tar"), "devices.json: SHA-256 differs");
}

TEST_F(BadArchiveTest, UnknownFormatVersion) {
  RewriteMember(Path("good.tar"), Path("bad.tar"), "manifest.json", [](std::string s) {
    const auto at = s.find("\"formatVersion\": 1");
    return s.replace(at, 18, "\"formatVersion\": 2");
  });
  ExpectRefused(Path("bad.tar"), "unknown format version 2");
}

TEST_F(BadArchiveTest, WrongTypeInARecordIsNamedWithItsLine) {
  EditLine("readings.jsonl.gz", 7, [](json& line) { line["value"] = json::array({1}); });
  ExpectRefused(Path("bad.tar"), "readings.jsonl.gz line 7: field \"value\"");
}

TEST_F(BadArchiveTest, AlarmOfARuleNotInTheArchive) {
  EditLine("alarms.jsonl.gz", 2, [](json& line) { line["rule"] = 987654; });
  ExpectRefused(Path("bad.tar"), "alarms.jsonl.gz line 2: field \"rule\": 987654 is not in");
}

TEST_F(BadArchiveTest, AnActiveAlarmCannotAwaitAcknowledgement) {
  EditLine("alarms.jsonl.gz", 1, [](json& line) {
    line["state"] = "active";
    line["awaitingAcknowledge"] = true;
  });
  ExpectRefused(Path("bad.tar"), "alarms.jsonl.gz line 1: field \"awaitingAcknowledge\"");
}

TEST_F(BadArchiveTest, AlarmWithAnUnknownState) {
  EditLine("alarms.jsonl.gz", 1, [](json& line) { line["state"] = "snoozed"; });
  ExpectRefused(Path("bad.tar"), "alarms.jsonl.gz line 1: field \"state\"");
}

TEST_F(BadArchiveTest, TruncatedArchive) {
  fs::copy_file(Path("good.tar"), Path("bad.tar"));
  fs::resize_file(Path("bad.tar"), fs::file_size(Path("good.tar")) / 2);
  ExpectRefused(Path("bad.tar"), "truncated");
}

TEST_F(BadArchiveTest, NotAnArchive) {
  std::ofstream(Path("bad.tar")) << std::string(4096, 'x');
  ExpectRefused(Path("bad.tar"), "not a tar archive");
}

TEST_F(ArchiveRoundTripTest, InterruptedExportLeavesNothingAndRunsAgain) {
  Id org = Seed("Kommune", 4, 5);
  std::atomic<bool> cancel{false};
  ExportOptions o;
  o.progress = [&](int64_t done, int64_t) {
    if (done == 2) cancel = true;
  };
  auto r = ExportOrganization(*store_, clock_, org, Path("a.tar"), o, cancel);
  ASSERT_FALSE(r.ok());
  for (const auto& e : fs::directory_iterator(dir_.path()))
    EXPECT_EQ(e.path().filename().string().find("a.tar"), std::string::npos) << e.path();
  ASSERT_TRUE(Export(org, Path("a.tar")).ok());
  EXPECT_TRUE(VerifyArchive(Path("a.tar")).ok());
}

TEST_F(ArchiveRoundTripTest, InterruptedImportIsUndoneAndRunsAgain) {
  Id org = Seed("Kommune", 4, 5);
  ASSERT_TRUE(Export(org, Path("a.tar")).ok());
  const int64_t orgs = OrgCount();
  std::atomic<bool> cancel{false};
  ImportOptions o;
  o.batch_readings = 10;
  o.progress = [&](int64_t, int64_t) { cancel = true; };
  auto r = ImportArchive(*store_, clock_, Path("a.tar"), o, cancel);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(OrgCount(), orgs);
  auto again = Import(Path("a.tar"));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->readings, 4 * 5 * 3);
  EXPECT_EQ(OrgCount(), orgs + 1);
}

TEST_F(ArchiveRoundTripTest, SnapshotExportWhileTheStoreIsOpen) {
  Id org = Seed("Kommune", 3, 10);
  auto r = ExportFromDatabase(Options().path, Path("scratch"), clock_, org, Path("a.tar"),
                              ExportOptions{}, no_cancel_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->readings, 3 * 10 * 3);
  EXPECT_EQ(r->raw_messages, 3 * 5);
  EXPECT_FALSE(fs::exists(Path("scratch")));
}

}  // namespace
}  // namespace bysans::archive
