#include "decode/cayenne_lpp.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include "decode/to_readings.h"

namespace bysans::decode {

namespace {

struct LppType {
  uint8_t id;
  const char* name;
  int size;        // bytes of value
  int components;  // 1, 3 (x/y/z) or 3 for GPS
  bool is_signed;
  double divisor;  // per component for non-GPS
  const char* unit;
};

constexpr LppType kTypes[] = {
    {0, "digital_input", 1, 1, false, 1, ""},      {1, "digital_output", 1, 1, false, 1, ""},
    {2, "analog_input", 2, 1, true, 100, ""},      {3, "analog_output", 2, 1, true, 100, ""},
    {100, "generic_sensor", 4, 1, false, 1, ""},   {101, "illuminance", 2, 1, false, 1, "lx"},
    {102, "presence", 1, 1, false, 1, ""},         {103, "temperature", 2, 1, true, 10, "Cel"},
    {104, "humidity", 1, 1, false, 2, "%"},        {113, "accelerometer", 6, 3, true, 1000, "G"},
    {115, "barometer", 2, 1, false, 10, "hPa"},    {116, "voltage", 2, 1, false, 100, "V"},
    {117, "current", 2, 1, false, 1000, "A"},      {118, "frequency", 4, 1, false, 1, "Hz"},
    {120, "percentage", 1, 1, false, 1, "%"},      {121, "altitude", 2, 1, true, 1, "m"},
    {125, "concentration", 2, 1, false, 1, "ppm"}, {128, "power", 2, 1, false, 1, "W"},
    {130, "distance", 4, 1, false, 1000, "m"},     {131, "energy", 4, 1, false, 1000, "kWh"},
    {132, "direction", 2, 1, false, 1, "deg"},     {133, "unixtime", 4, 1, false, 1, "s"},
    {134, "gyrometer", 6, 3, true, 100, "deg/s"},  {136, "gps", 9, 3, true, 0, ""},
    {142, "switch", 1, 1, false, 1, ""},
};

const LppType* FindType(uint8_t id) {
  for (const auto& t : kTypes) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

int64_t ReadInt(const uint8_t* p, int n, bool is_signed) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  if (is_signed && n < 8 && (v & (uint64_t{1} << (n * 8 - 1)))) {
    v |= ~uint64_t{0} << (n * 8);
  }
  return static_cast<int64_t>(v);
}

std::string Num(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string UnitFor(std::string_view key) {
  size_t us = key.rfind('_');
  std::string_view base = key.substr(0, us);
  for (const auto& t : kTypes) {
    if (base == t.name) return t.unit;
  }
  return "";
}

}  // namespace

Result<std::string> DecodeCayenneLpp(std::string_view bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t n = bytes.size();
  if (n == 0) return InvalidArgument("Cayenne LPP: empty payload");
  std::string out = "{";
  size_t i = 0;
  bool first = true;
  while (i < n) {
    if (n - i < 2) {
      return InvalidArgument("Cayenne LPP: truncated frame header at byte " + std::to_string(i));
    }
    uint8_t channel = p[i];
    uint8_t type_id = p[i + 1];
    const LppType* t = FindType(type_id);
    if (t == nullptr) {
      return InvalidArgument("Cayenne LPP: unknown data type " + std::to_string(type_id) +
                             " at byte " + std::to_string(i + 1));
    }
    if (n - i - 2 < static_cast<size_t>(t->size)) {
      return InvalidArgument("Cayenne LPP: truncated " + std::string(t->name) + " value at byte " +
                             std::to_string(i + 2) + " (needs " + std::to_string(t->size) +
                             " bytes, " + std::to_string(n - i - 2) + " left)");
    }
    const uint8_t* v = p + i + 2;
    if (!first) out += ',';
    first = false;
    out += '"';
    out += t->name;
    out += '_';
    out += std::to_string(channel);
    out += "\":";
    if (t->id == 136) {
      out += "{\"latitude\":" + Num(ReadInt(v, 3, true) / 10000.0) +
             ",\"longitude\":" + Num(ReadInt(v + 3, 3, true) / 10000.0) +
             ",\"altitude\":" + Num(ReadInt(v + 6, 3, true) / 100.0) + "}";
    } else if (t->components == 3) {
      int w = t->size / 3;
      out += "{\"x\":" + Num(ReadInt(v, w, true) / t->divisor) +
             ",\"y\":" + Num(ReadInt(v + w, w, true) / t->divisor) +
             ",\"z\":" + Num(ReadInt(v + 2 * w, w, true) / t->divisor) + "}";
    } else {
      out += Num(static_cast<double>(ReadInt(v, t->size, t->is_signed)) / t->divisor);
    }
    i += 2 + t->size;
  }
  out += '}';
  return out;
}

DecodeResult DecodeCayenneLppToResult(const DecodeInput& input, Id device_id) {
  auto start = std::chrono::steady_clock::now();
  DecodeResult r;
  auto json = DecodeCayenneLpp(input.bytes);
  if (!json.ok()) {
    r.status = json.status();
  } else {
    r.output_json = std::move(json).value();
    auto conv = ToReadings(r.output_json, device_id, input.recv_time);
    if (!conv.ok()) {
      r.status = conv.status();
    } else {
      r.readings = std::move(conv->readings);
      r.warnings = std::move(conv->warnings);
      for (auto& reading : r.readings) {
        std::string_view key = reading.key;
        reading.unit = UnitFor(key.substr(0, key.find('.')));
      }
    }
  }
  r.duration_us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  return r;
}

}  // namespace bysans::decode
