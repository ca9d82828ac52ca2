// A validating NGSI-LD context broker for tests, on loopback: it checks every upsert request
// against the shape of NGSI-LD's POST /ngsi-ld/v1/entityOperations/upsert (method, path,
// query, content type, Link header or @context, an array of entities with id and type) and
// every entity against the required attributes of its Smart Data Model, written here from the
// models' published schema.json files (smart-data-models/dataModel.*), independently of
// src/ngsild/models. It answers 201, 204, 207 (refusing chosen entity ids), 400, 429 or 500,
// and serves an OAuth2 client-credentials token endpoint at /token whose tokens it can revoke.
// One request per connection (it answers "Connection: close").
#pragma once

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/encoding.h"
#include "loopback_http_listener.h"

namespace bysans::testing {

class NgsiLdReceiver {
 public:
  enum class Answer { k201, k204, k207, k400, k429, k500 };
  struct Request : LoopbackHttpListener::Request {
    int status = 0;
  };

  NgsiLdReceiver() {
    listener_.Start([this](int c, LoopbackHttpListener::Request r) {
      Request req;
      static_cast<LoopbackHttpListener::Request&>(req) = std::move(r);
      Serve(c, std::move(req));
    });
  }
  ~NgsiLdReceiver() { listener_.Stop(); }

  std::string base_url() const { return listener_.base_url(); }
  std::string token_url() const { return base_url() + "/token"; }
  std::string host() const { return "127.0.0.1:" + std::to_string(listener_.port()); }

  void set_answer(Answer a) { answer_ = a; }
  // 207: these ids are refused (BadRequestData), the others succeed.
  void set_refused(std::set<std::string> ids) {
    std::lock_guard lk(mu_);
    refused_ = std::move(ids);
  }
  // Upserts need "Authorization: Bearer <a token this receiver issued and did not revoke>".
  void RequireOAuth2(std::string client_id, std::string secret, int64_t expires_in_s) {
    std::lock_guard lk(mu_);
    client_id_ = std::move(client_id);
    secret_ = std::move(secret);
    expires_in_s_ = expires_in_s;
  }
  void RevokeTokens() {
    std::lock_guard lk(mu_);
    tokens_.clear();
  }

  std::vector<Request> upserts() {
    std::lock_guard lk(mu_);
    return upserts_;
  }
  int token_requests() {
    std::lock_guard lk(mu_);
    return token_requests_;
  }
  std::vector<std::string> violations() {
    std::lock_guard lk(mu_);
    return violations_;
  }
  size_t requests() {
    std::lock_guard lk(mu_);
    return upserts_.size() + static_cast<size_t>(token_requests_);
  }

  // The required attributes of each model's schema.json ("required"), and the attributes the
  // schemas bound to 0..1.
  static const std::map<std::string, std::vector<std::string>>& Required() {
    static const std::map<std::string, std::vector<std::string>> kRequired = {
        {"AirQualityObserved", {"id", "type", "dateObserved", "location"}},
        {"IndoorEnvironmentObserved", {"id", "type", "dateObserved", "location"}},
        {"WeatherObserved", {"id", "type", "dateObserved", "location"}},
        {"WasteContainer", {"id", "type", "location"}},
        {"WaterConsumptionObserved", {"id", "type"}},
        {"DeviceMeasurement", {"id", "type"}}};
    return kRequired;
  }

 private:
  using json = nlohmann::json;

  static constexpr auto Send = &LoopbackHttpListener::Send;

  static std::string Problem(const std::string& title, const std::string& detail) {
    return json{{"type", "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"},
                {"title", title},
                {"detail", detail}}
        .dump();
  }

  void Serve(int c, Request r) {
    if (r.target == "/token") {
      ServeToken(c, r);
    } else {
      ServeUpsert(c, std::move(r));
    }
  }

  void ServeToken(int c, const Request& r) {
    std::lock_guard lk(mu_);
    ++token_requests_;
    const std::string expected = "Basic " + EncodeBase64(client_id_ + ":" + secret_);
    auto auth = r.headers.find("authorization");
    if (r.method != "POST" || r.headers.count("content-type") == 0 ||
        r.headers.at("content-type") != "application/x-www-form-urlencoded" ||
        r.body.find("grant_type=client_credentials") == std::string::npos) {
      Send(c, 400, "application/json", R"({"error":"invalid_request"})");
      return;
    }
    if (auth == r.headers.end() || auth->second != expected) {
      Send(c, 401, "application/json", R"({"error":"invalid_client"})");
      return;
    }
    std::string token = "tok-" + std::to_string(token_requests_);
    tokens_.insert(token);
    Send(c, 200, "application/json",
         json{{"access_token", token}, {"token_type", "Bearer"}, {"expires_in", expires_in_s_}}
             .dump());
  }

  void ServeUpsert(int c, Request r) {
    std::vector<std::string> bad = Validate(r);
    std::unique_lock lk(mu_);
    if (!client_id_.empty()) {
      auto auth = r.headers.find("authorization");
      const std::string prefix = "Bearer ";
      if (auth == r.headers.end() || auth->second.rfind(prefix, 0) != 0 ||
          tokens_.count(auth->second.substr(prefix.size())) == 0) {
        r.status = 401;
        upserts_.push_back(r);
        Send(c, 401, "application/json", Problem("Unauthorized", "invalid or expired token"));
        return;
      }
    }
    if (!bad.empty()) {
      violations_.insert(violations_.end(), bad.begin(), bad.end());
      r.status = 400;
      upserts_.push_back(r);
      Send(c, 400, "application/json", Problem("Bad request", bad.front()));
      return;
    }
    const Answer a = answer_;
    r.status = a == Answer::k201   ? 201
               : a == Answer::k204 ? 204
               : a == Answer::k207 ? 207
               : a == Answer::k400 ? 400
               : a == Answer::k429 ? 429
                                   : 500;
    upserts_.push_back(r);
    if (a == Answer::k201) {
      json ids = json::array();
      for (const auto& e : json::parse(r.body)) ids.push_back(e["id"]);
      Send(c, 201, "application/json", ids.dump());
    } else if (a == Answer::k204) {
      Send(c, 204, "", "");
    } else if (a == Answer::k207) {
      json result = {{"success", json::array()}, {"errors", json::array()}};
      for (const auto& e : json::parse(r.body)) {
        if (refused_.count(e["id"].get<std::string>())) {
          result["errors"].push_back(
              {{"entityId", e["id"]},
               {"error",
                {{"type", "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"},
                 {"title", "Attribute refused"},
                 {"detail", "the broker refuses this entity"}}}});
        } else {
          result["success"].push_back(e["id"]);
        }
      }
      Send(c, 207, "application/json", result.dump());
    } else if (a == Answer::k400) {
      Send(c, 400, "application/json", Problem("Bad request", "this broker refuses everything"));
    } else {
      Send(c, r.status, "", "");
    }
  }

  // Everything wrong with an upsert request (empty when it is a valid one).
  static std::vector<std::string> Validate(const Request& r) {
    std::vector<std::string> bad;
    if (r.method != "POST") bad.push_back("method " + r.method);
    if (r.target != "/ngsi-ld/v1/entityOperations/upsert?options=update") {
      bad.push_back("target " + r.target);
    }
    auto header = [&](const char* name) {
      auto it = r.headers.find(name);
      return it == r.headers.end() ? std::string() : it->second;
    };
    const std::string type = header("content-type");
    const bool link_mode = type == "application/json";
    if (!link_mode && type != "application/ld+json") bad.push_back("content type " + type);
    static const std::regex kLink(
        R"(<https?://[^>\s]+>; *rel="http://www\.w3\.org/ns/json-ld#context"; *type="application/ld\+json")");
    if (link_mode && !std::regex_match(header("link"), kLink)) {
      bad.push_back("application/json needs a JSON-LD context Link header: " + header("link"));
    }
    if (!link_mode && !header("link").empty()) bad.push_back("a Link header with ld+json");
    json body = json::parse(r.body, nullptr, false);
    if (!body.is_array() || body.empty()) {
      bad.push_back("the body is not a non-empty array of entities");
      return bad;
    }
    for (const auto& e : body) {
      if (!e.is_object() || !e.contains("id") || !e["id"].is_string() ||
          e["id"].get<std::string>().rfind("urn:ngsi-ld:", 0) != 0 || !e.contains("type") ||
          !e["type"].is_string()) {
        bad.push_back("an entity without a urn:ngsi-ld: id and a type");
        continue;
      }
      const std::string id = e["id"];
      if (link_mode && e.contains("@context")) bad.push_back(id + ": @context with a Link header");
      if (!link_mode && !e.contains("@context")) bad.push_back(id + ": no @context in ld+json");
      auto req = Required().find(e["type"].get<std::string>());
      if (req != Required().end()) {
        for (const auto& name : req->second) {
          if (!e.contains(name)) bad.push_back(id + ": required attribute " + name + " missing");
        }
      }
      for (const auto& [name, a] : e.items()) {
        if (name == "id" || name == "type" || name == "@context") continue;
        CheckAttribute(id + "." + name, name, a, bad);
      }
    }
    return bad;
  }

  static void CheckAttribute(const std::string& where, const std::string& name, const json& a,
                             std::vector<std::string>& bad) {
    static const std::regex kTime(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)");
    static const std::regex kUnitCode(R"([A-Z0-9]{2,3})");
    if (!a.is_object() || !a.contains("type")) {
      bad.push_back(where + ": not an attribute");
      return;
    }
    const std::string type = a["type"];
    if (type == "Relationship") {
      if (!a.contains("object") || !a["object"].is_string() ||
          a["object"].get<std::string>().find(':') == std::string::npos) {
        bad.push_back(where + ": a Relationship needs an object URI");
      }
      return;
    }
    if (type == "GeoProperty") {
      const json& v = a.contains("value") ? a["value"] : json();
      if (!v.is_object() || v.value("type", "") != "Point" || !v.contains("coordinates") ||
          !v["coordinates"].is_array() || v["coordinates"].size() != 2 ||
          !v["coordinates"][0].is_number() || !v["coordinates"][1].is_number() ||
          std::abs(v["coordinates"][0].get<double>()) > 180 ||
          std::abs(v["coordinates"][1].get<double>()) > 90) {
        bad.push_back(where + ": a GeoProperty needs a GeoJSON Point [lon, lat]");
      }
      return;
    }
    if (type != "Property") {
      bad.push_back(where + ": type " + type);
      return;
    }
    if (!a.contains("value") || a["value"].is_null()) bad.push_back(where + ": no value");
    if (!a.contains("observedAt") || !a["observedAt"].is_string() ||
        !std::regex_match(a["observedAt"].get<std::string>(), kTime)) {
      bad.push_back(where + ": observedAt missing or not RFC 3339 UTC");
    }
    if (a.contains("unitCode") &&
        (!a["unitCode"].is_string() ||
         !std::regex_match(a["unitCode"].get<std::string>(), kUnitCode))) {
      bad.push_back(where + ": unitCode is not a UN/CEFACT common code");
    }
    // relativeHumidity and fillingLevel are 0..1 in their schemas.
    if ((name == "relativeHumidity" || name == "fillingLevel") &&
        (!a["value"].is_number() || a["value"].get<double>() < 0 || a["value"].get<double>() > 1)) {
      bad.push_back(where + ": must be a number in 0..1");
    }
    if (name == "dateObserved" &&
        (!a["value"].is_string() || !std::regex_match(a["value"].get<std::string>(), kTime))) {
      bad.push_back(where + ": dateObserved is not an RFC 3339 date-time");
    }
  }

  std::atomic<Answer> answer_{Answer::k201};
  std::mutex mu_;
  std::vector<Request> upserts_;
  std::vector<std::string> violations_;
  std::set<std::string> refused_;
  std::string client_id_, secret_;
  int64_t expires_in_s_ = 0;
  std::set<std::string> tokens_;
  int token_requests_ = 0;
  LoopbackHttpListener listener_;  // last: its threads use the members above
};

}  // namespace bysans::testing
