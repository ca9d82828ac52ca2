// Runs rule scenarios written as data files (tests/unit/rules/scenarios/*.txt).
// Format, one command per line ('#' starts a comment):
//   rule <id> <expression|silence|rate_of_change> [scope=application:10|device:1|
//        device_model:20|tag:x] [expr="..."]
//        [clear="..."] [for=15m] [remind=10m] [fixed=1h] [multiple=3] [key=k]
//        [window=10m] [threshold=20] [direction=rise] [severity=critical] [org=1]
//   device <id> [app=10] [model=20] [tags=a,b] [interval=600] [maintenance=1] [org=1]
//   at <time>                      set the clock (offset from the start) and tick
//   send <device> key=value ...    one message; values: 12.5, "text", true, false
//   silence device|rule <id> until=<time> [org=1] [ignored=1]   (ignored: another
//                                  organisation's silence of the rule, refused)
//   expect <raise|clear|remind> rule=<id> device=<id>   next event, at the current time
//   expect nothing                 no events left
// Times: 0, 30s, 15m, 2h (offsets from the scenario start).
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "rules/engine.h"

namespace bysans::rules {
namespace {

constexpr TimeMs kStart = 1'700'000'000'000;

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool in_quote = false, any = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (in_quote && c == '\\' && i + 1 < line.size()) {
      cur += line[i + 1] == '"' ? "\\\"" : std::string(1, line[i + 1]);
      ++i;
      continue;
    }
    if (c == '"') in_quote = !in_quote;
    if (!in_quote && c == '#') break;
    if (!in_quote && (c == ' ' || c == '\t')) {
      if (any) out.push_back(cur);
      cur.clear();
      any = false;
      continue;
    }
    cur += c;
    any = true;
  }
  if (any) out.push_back(cur);
  return out;
}

std::string Unquote(const std::string& s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

// Turns \" back into " (the splitter keeps escapes inside quoted values).
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '"') continue;
    out.push_back(s[i]);
  }
  return out;
}

TimeMs Duration(const std::string& s) {
  if (s.empty()) return 0;
  char unit = s.back();
  TimeMs mult = unit == 's' ? 1000 : unit == 'm' ? 60'000 : unit == 'h' ? 3'600'000 : 0;
  if (mult == 0) return std::stoll(s);
  return static_cast<TimeMs>(std::stod(s.substr(0, s.size() - 1)) * static_cast<double>(mult));
}

std::map<std::string, std::string> Args(const std::vector<std::string>& t, size_t from) {
  std::map<std::string, std::string> m;
  for (size_t i = from; i < t.size(); ++i) {
    auto eq = t[i].find('=');
    if (eq == std::string::npos) continue;
    m[t[i].substr(0, eq)] = t[i].substr(eq + 1);
  }
  return m;
}

Value ParseValue(const std::string& s) {
  if (s == "true") return true;
  if (s == "false") return false;
  if (!s.empty() && s.front() == '"') return Unquote(s);
  return std::stod(s);
}

void RunScenario(const std::filesystem::path& path) {
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  ManualClock clock(kStart);
  RuleEngine engine(clock);
  std::deque<AlarmEvent> pending;
  std::vector<AlarmEvent> events;
  std::map<Id, DeviceInfo> devices;
  auto drain = [&] {
    for (auto& e : events) pending.push_back(std::move(e));
    events.clear();
  };
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    auto t = Split(line);
    if (t.empty()) continue;
    std::string where = path.filename().string() + ":" + std::to_string(line_no) + ": " + line;
    auto a = Args(t, 1);
    const std::string& cmd = t[0];
    if (cmd == "rule") {
      ASSERT_GE(t.size(), 3u) << where;
      Rule r;
      r.id = std::stoll(t[1]);
      r.org_id = a.count("org") ? std::stoll(a["org"]) : 1;
      r.name = "r";
      r.name += t[1];
      auto kind = ParseConditionKind(t[2]);
      ASSERT_TRUE(kind.has_value()) << where;
      r.kind = *kind;
      std::string scope = a.count("scope") ? a["scope"] : "application:10";
      auto colon = scope.find(':');
      auto scope_kind = ParseScopeKind(scope.substr(0, colon));
      ASSERT_TRUE(scope_kind.has_value()) << where << ": bad scope";
      r.scope.kind = *scope_kind;
      if (r.scope.kind == ScopeKind::kTag) {
        r.scope.tag = scope.substr(colon + 1);
      } else {
        r.scope.id = std::stoll(scope.substr(colon + 1));
      }
      if (a.count("severity")) r.severity = *ParseSeverity(a["severity"]);
      r.expression = Unescape(Unquote(a["expr"]));
      r.clear_expression = Unescape(Unquote(a["clear"]));
      r.for_ms = Duration(a["for"]);
      r.remind_every_ms = Duration(a["remind"]);
      r.silence.fixed_ms = Duration(a["fixed"]);
      if (a.count("multiple")) r.silence.interval_multiple = std::stod(a["multiple"]);
      r.rate.key = a["key"];
      r.rate.window_ms = Duration(a["window"]);
      if (a.count("threshold")) r.rate.threshold = std::stod(a["threshold"]);
      if (a.count("direction")) r.rate.direction = *ParseDirection(a["direction"]);
      Status s = engine.UpsertRule(r, &events);
      ASSERT_TRUE(s.ok()) << where << ": " << s.message();
      drain();
    } else if (cmd == "device") {
      DeviceInfo d;
      d.id = std::stoll(t[1]);
      d.org_id = a.count("org") ? std::stoll(a["org"]) : 1;
      d.app_id = a.count("app") ? std::stoll(a["app"]) : 10;
      if (a.count("model")) d.model_id = std::stoll(a["model"]);
      if (a.count("tags")) {
        std::stringstream ss(a["tags"]);
        for (std::string tag; std::getline(ss, tag, ',');) d.tags.push_back(tag);
      }
      if (a.count("interval")) d.expected_interval_s = std::stoll(a["interval"]);
      d.in_maintenance = a["maintenance"] == "1";
      bool known = devices.count(d.id) > 0;
      devices[d.id] = d;
      if (known) engine.UpsertDevice(d, std::nullopt, &events);
      drain();
    } else if (cmd == "at") {
      clock.Set(kStart + Duration(t.at(1)));
      engine.OnTick(&events);
      drain();
    } else if (cmd == "send") {
      Id dev = std::stoll(t.at(1));
      ASSERT_TRUE(devices.count(dev)) << where << ": unknown device";
      std::vector<Reading> rs;
      for (const auto& [k, v] : a) {
        Reading r;
        r.device_id = dev;
        r.key = k;
        r.ts = clock.NowMs();
        r.value = ParseValue(v);
        rs.push_back(std::move(r));
      }
      engine.OnReadings(devices[dev], rs, &events);
      drain();
    } else if (cmd == "silence") {
      TimeMs until = kStart + Duration(a["until"]);
      Id org = a.count("org") ? std::stoll(a["org"]) : 1;
      if (t.at(1) == "device") {
        engine.SilenceDevice(org, std::stoll(t.at(2)), until);
      } else if (a["ignored"] == "1") {  // a silence of another organisation than the rule's
        EXPECT_EQ(engine.SilenceRule(org, std::stoll(t.at(2)), until).code(), Code::kNotFound)
            << where;
      } else {
        ASSERT_TRUE(engine.SilenceRule(org, std::stoll(t.at(2)), until).ok()) << where;
      }
    } else if (cmd == "expect") {
      if (t.at(1) == "nothing") {
        EXPECT_TRUE(pending.empty())
            << where << ": got " << pending.size() << " event(s), first "
            << AlarmEventKindName(pending.front().kind) << " rule " << pending.front().rule_id;
        pending.clear();
        continue;
      }
      // Events of one step may come in any order: match any pending one.
      auto it = std::find_if(pending.begin(), pending.end(), [&](const AlarmEvent& e) {
        return AlarmEventKindName(e.kind) == t[1] && e.rule_id == std::stoll(a["rule"]) &&
               e.device_id == std::stoll(a["device"]);
      });
      ASSERT_TRUE(it != pending.end())
          << where << ": no such event (" << pending.size() << " pending)";
      EXPECT_EQ(it->ts, clock.NowMs()) << where;
      pending.erase(it);
    } else {
      FAIL() << where << ": unknown command";
    }
  }
  EXPECT_TRUE(pending.empty()) << path << ": events left at the end";
}

TEST(RuleScenarios, AllFiles) {
  std::filesystem::path dir =
      std::filesystem::path(BYSANS_SOURCE_DIR) / "tests/unit/rules/scenarios";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".txt") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  for (const auto& f : files) {
    SCOPED_TRACE(f.filename().string());
    RunScenario(f);
  }
}

}  // namespace
}  // namespace bysans::rules
