#include "store/postgres/latest_row.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "store/postgres/value_columns.h"

namespace bysans::pg {
namespace {

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void AppendDouble(std::string& out, double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest form that reads back the same
  out.append(buf, r.ptr);
}

void AppendSized(std::string& out, std::string_view s) {
  AppendInt(out, static_cast<int64_t>(s.size()));
  out += ':';
  out += s;
}

// Reads the fields of a row's text from the front, each followed by one separator byte.
class Reader {
 public:
  explicit Reader(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}
  bool done() const { return p_ == end_; }

  template <typename T>
  bool Number(T& v, char sep) {
    auto r = std::from_chars(p_, end_, v);
    if (r.ec != std::errc() || r.ptr == end_ || *r.ptr != sep) return false;
    p_ = r.ptr + 1;
    return true;
  }
  bool Sized(std::string_view& v, char sep) {
    size_t n = 0;
    if (!Number(n, ':') || static_cast<size_t>(end_ - p_) < n + 1 || p_[n] != sep) return false;
    v = std::string_view(p_, n);
    p_ += n + 1;
    return true;
  }

 private:
  const char* p_;
  const char* end_;
};

struct Fields {
  std::string_view key, unit, txt;
  LatestEntry e;  // without its strings
};

bool ReadEntry(Reader& in, Fields& f) {
  return in.Sized(f.key, ' ') && in.Number(f.e.ts, ' ') && in.Number(f.e.kind, ' ') &&
         in.Number(f.e.num, ' ') && in.Number(f.e.quality, ' ') && in.Sized(f.unit, ' ') &&
         in.Sized(f.txt, '\n') && f.e.kind >= 0 && f.e.kind <= 2;
}

// Calls f(fields) for each entry of `text`; false when the text is not a row.
template <typename F>
bool ForEachEntry(std::string_view text, F f) {
  Reader in(text);
  while (!in.done()) {
    Fields fields;
    if (!ReadEntry(in, fields)) return false;
    f(fields);
  }
  return true;
}

template <typename Row>
auto ByKey(Row& row, std::string_view key) {
  return std::lower_bound(row.begin(), row.end(), key,
                          [](const LatestEntry& e, std::string_view k) { return e.key < k; });
}

}  // namespace

bool FitsPacked(const LatestEntry& e) {
  return e.key.size() + e.unit.size() + e.txt.size() <= kMaxPackedEntryBytes;
}

std::string EncodeLatestRow(const LatestRow& row) {
  std::string out;
  for (const LatestEntry& e : row) {
    AppendSized(out, e.key);
    out += ' ';
    AppendInt(out, e.ts);
    out += ' ';
    AppendInt(out, e.kind);
    out += ' ';
    AppendDouble(out, e.num);
    out += ' ';
    AppendInt(out, e.quality);
    out += ' ';
    AppendSized(out, e.unit);
    out += ' ';
    AppendSized(out, e.txt);
    out += '\n';
  }
  return out;
}

Result<LatestRow> DecodeLatestRow(std::string_view text) {
  LatestRow row;
  const bool ok = ForEachEntry(text, [&](Fields& f) {
    f.e.key = f.key;
    f.e.unit = f.unit;
    f.e.txt = f.txt;
    row.push_back(std::move(f.e));
  });
  if (!ok) return Internal("a device's stored latest values are not readable");
  return row;
}

bool AppendLatestReadings(std::string_view text, Id device, std::vector<Reading>& out) {
  const size_t before = out.size();
  const bool ok = ForEachEntry(text, [&](const Fields& f) {
    out.push_back(Reading{device, std::string(f.key), f.e.ts,
                          ValueOfColumns(f.e.kind, f.e.num, f.txt), std::string(f.unit),
                          static_cast<Quality>(f.e.quality)});
  });
  if (!ok) out.resize(before);
  return ok;
}

bool MergeLatest(LatestRow& row, LatestEntry e) {
  auto it = ByKey(row, e.key);
  if (it != row.end() && it->key == e.key) {
    if (it->ts > e.ts) return false;
    *it = std::move(e);
  } else {
    row.insert(it, std::move(e));
  }
  return true;
}

bool RemoveLatest(LatestRow& row, std::string_view key) {
  auto it = ByKey(row, key);
  if (it == row.end() || it->key != key) return false;
  row.erase(it);
  return true;
}

LatestEntry* FindLatest(LatestRow& row, std::string_view key) {
  auto it = ByKey(row, key);
  return it != row.end() && it->key == key ? &*it : nullptr;
}

Reading ReadingOf(const LatestEntry& e, Id device) {
  return Reading{device, e.key,
                 e.ts,   ValueOfColumns(e.kind, e.num, e.txt),
                 e.unit, static_cast<Quality>(e.quality)};
}

void MergeApart(std::vector<Reading>& packed, std::vector<Reading> apart,
                std::vector<int>* from_apart) {
  auto before = [](const Reading& a, const Reading& b) {
    return a.device_id != b.device_id ? a.device_id < b.device_id : a.key < b.key;
  };
  if (from_apart) from_apart->clear();
  if (apart.empty()) return;  // as it is
  std::vector<int> order(apart.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return before(apart[a], apart[b]); });
  std::vector<Reading> out;
  out.reserve(packed.size() + apart.size());
  auto take = [&](Reading&& r, int origin) {
    out.push_back(std::move(r));
    if (from_apart) from_apart->push_back(origin);
  };
  size_t p = 0;
  for (int a : order) {
    Reading& r = apart[a];
    while (p < packed.size() && before(packed[p], r)) take(std::move(packed[p++]), -1);
    if (p < packed.size() && !before(r, packed[p])) {  // the same key: the newer wins
      if (r.ts > packed[p].ts) {
        take(std::move(r), a);
      } else {
        take(std::move(packed[p]), -1);
      }
      ++p;
    } else {
      take(std::move(r), a);
    }
  }
  while (p < packed.size()) take(std::move(packed[p++]), -1);
  packed = std::move(out);
}

}  // namespace bysans::pg
