#include "sta/service.h"

#include <algorithm>
#include <map>

#include "sta/accessor.h"
#include "sta/data_array.h"
#include "sta/entity_json.h"
#include "sta/observations.h"
#include "sta/query/query.h"

namespace bysans::sta {
namespace {

using json = nlohmann::json;

// One $expand item as it travels down: the path left to expand and its options (may be null).
struct ExpandItem {
  std::vector<std::string> path;
  const QueryOptions* options = nullptr;
};

struct Window {
  int64_t skip = 0, top = kDefaultTop;
};

Window WindowOf(const QueryOptions* o) {
  Window w;
  if (!o) return w;
  // Capped so that skip + top + 1 cannot overflow ($skip=9223372036854775807 is valid syntax).
  if (o->skip) w.skip = std::clamp<int64_t>(*o->skip, 0, kMaxSkip);
  if (o->top) w.top = std::clamp<int64_t>(*o->top, 0, o->data_array ? kMaxTopDataArray : kMaxTop);
  return w;
}

// A page of a collection: the entities in [skip, skip + top), the total when asked for, and
// whether more follow.
struct CollectionPage {
  std::vector<Entity> items;
  std::optional<int64_t> count;
  bool more = false;
};

class Server {
 public:
  Server(Catalog& catalog, const ServeRequest& req) : c_(catalog), req_(req) {}

  Result<ServeReply> Run();

 private:
  Result<bool> Match(const QueryOptions* o, const Entity& e) {
    if (!o || !o->filter) return true;
    Status nav_error;
    Accessor a(c_, e, &nav_error);
    BYSANS_ASSIGN_OR_RETURN(bool ok, Matches(*o->filter, a, req_.now_ms));
    BYSANS_RETURN_IF_ERROR(nav_error);
    return ok;
  }
  Status Sort(const QueryOptions* o, std::vector<Entity>& items) {
    if (!o || o->orderby.empty()) return Status::Ok();
    Status nav_error;
    std::stable_sort(items.begin(), items.end(), [&](const Entity& x, const Entity& y) {
      Accessor a(c_, x, &nav_error), b(c_, y, &nav_error);
      return OrderLess(o->orderby, a, b);
    });
    return nav_error;
  }
  Result<CollectionPage> Collect(EntitySet set, const Entity* parent, std::string_view nav,
                                 const QueryOptions* o);
  Result<CollectionPage> CollectObservations(const Entity* parent, const QueryOptions* o);
  Result<json> Render(const Entity& e, const QueryOptions* o, const std::vector<ExpandItem>& extra);
  Status ExpandInto(const Entity& e, json& out, const std::vector<ExpandItem>& items);
  std::string NextLink(const Window& w) const;

  Catalog& c_;
  const ServeRequest& req_;
  int64_t rendered_ = 0;  // entities rendered so far, expansions included
};

// The query of the next page of an expanded collection: its $orderby, $select and $count with
// $top and $skip moved on. Nothing when it has a $filter or $expand of its own (they are
// parsed, not kept as text): such a page is not linked rather than linked wrongly.
std::optional<std::string> NestedNextQuery(const QueryOptions* o) {
  if (o && (o->filter || !o->expand.empty())) return std::nullopt;
  const Window w = WindowOf(o);
  std::string q = "$top=" + std::to_string(w.top) + "&$skip=" + std::to_string(w.skip + w.top);
  if (!o) return q;
  auto list = [](const std::vector<std::string>& items, const char* sep) {
    std::string out;
    for (const std::string& item : items) out += (out.empty() ? "" : sep) + item;
    return out;
  };
  if (!o->orderby.empty()) {
    std::vector<std::string> keys;
    for (const OrderBy& ob : o->orderby)
      keys.push_back(list(ob.path, "/") + (ob.descending ? "%20desc" : ""));
    q += "&$orderby=" + list(keys, ",");
  }
  if (!o->select.empty()) q += "&$select=" + list(o->select, ",");
  if (o->count) q += "&$count=true";
  return q;
}

std::vector<ExpandItem> ItemsOf(const QueryOptions* o) {
  std::vector<ExpandItem> out;
  if (!o) return out;
  for (const Expand& e : o->expand) out.push_back({e.path, e.options.get()});
  return out;
}

Result<CollectionPage> Server::Collect(EntitySet set, const Entity* parent, std::string_view nav,
                                       const QueryOptions* o) {
  if (set == EntitySet::kObservations) return CollectObservations(parent, o);
  std::vector<Entity> all = parent ? c_.Related(*parent, nav) : c_.All(set);
  std::vector<Entity> kept;
  for (Entity& e : all) {
    BYSANS_ASSIGN_OR_RETURN(bool ok, Match(o, e));
    if (ok) kept.push_back(std::move(e));
  }
  BYSANS_RETURN_IF_ERROR(Sort(o, kept));
  const Window w = WindowOf(o);
  CollectionPage page;
  if (o && o->count) page.count = static_cast<int64_t>(kept.size());
  const auto n = static_cast<int64_t>(kept.size());
  for (int64_t i = w.skip; i < n && i < w.skip + w.top; ++i)
    page.items.push_back(std::move(kept[static_cast<size_t>(i)]));
  page.more = w.skip + w.top < n;
  return page;
}

Result<CollectionPage> Server::CollectObservations(const Entity* parent, const QueryOptions* o) {
  ObservationScan scan;
  scan.series = c_.ObservationSeries(parent);
  const Expr* filter = o && o->filter ? o->filter.get() : nullptr;
  if (filter) {
    // Push-down: the series named by "Datastream/@iot.id eq N" and the phenomenonTime range.
    if (auto ds = EqualityOn(*filter, "Datastream/@iot.id")) {
      std::optional<int64_t> want;
      if (const auto* i = ds->get<int64_t>()) want = *i;
      if (const auto* text = ds->get<std::string>()) want = ParseNumericId(*text);
      std::erase_if(scan.series, [&](const SeriesRef* s) { return !want || s->id != *want; });
    }
    TimeBounds b = BoundsOn(*filter, "phenomenonTime");
    if (b.from_ms) scan.from = *b.from_ms + (b.from_inclusive || *b.from_ms == INT64_MAX ? 0 : 1);
    if (b.to_ms) scan.to = *b.to_ms - (b.to_inclusive || *b.to_ms == INT64_MIN ? 0 : 1);
  }
  const Window w = WindowOf(o);
  const bool count = o && o->count;
  // The latest value of one Datastream ($top=1;$orderby=phenomenonTime desc, the "latest of
  // everything" expansion) comes from the store's series cache without a read. Whether an
  // older one follows is not known without one: the nextLink is given whenever the series has
  // a reading (a series of exactly one reading gets a nextLink to an empty page).
  // A text the catalog's listing left out (store.h: ListSeries) is read the usual way.
  if (!filter && !count && w.skip == 0 && w.top == 1 && scan.series.size() == 1 &&
      !scan.series[0]->latest_text_omitted && o && o->orderby.size() == 1 &&
      o->orderby[0].path == std::vector<std::string>{"phenomenonTime"} &&
      o->orderby[0].descending) {
    CollectionPage out;
    if (const auto& latest = scan.series[0]->latest) {
      Entity e;
      e.set = EntitySet::kObservations;
      e.id = scan.series[0]->id;
      e.reading = *latest;
      out.items.push_back(std::move(e));
      out.more = true;
    }
    return out;
  }
  // The order the store can give: by id (series, then time) or by phenomenonTime.
  bool in_memory_sort = false;
  if (o && !o->orderby.empty()) {
    const OrderBy& first = o->orderby.front();
    if (first.path == std::vector<std::string>{"phenomenonTime"}) {
      scan.order = first.descending ? ObservationOrder::kTimeDesc : ObservationOrder::kTimeAsc;
    } else if (first.path == std::vector<std::string>{"@iot.id"} && !first.descending) {
      scan.order = ObservationOrder::kById;
    } else {
      in_memory_sort = true;
    }
  }
  const int64_t need = w.skip + w.top + 1;
  int64_t page = filter || count || in_memory_sort ? kMaxTop : std::min(need, kMaxScanPage);
  if (scan.series.size() > 1 && scan.order != ObservationOrder::kById && page > kMaxTop)
    page = kMaxTop;
  if (scan.series.size() > 1 && scan.order != ObservationOrder::kById)
    page = std::max<int64_t>(1, std::min<int64_t>(page, 200'000 / scan.series.size()));
  scan.page = page;
  scan.budget = c_.reading_budget();

  CollectionPage out;
  std::vector<Entity> matched;  // in_memory_sort only
  int64_t index = 0;
  Status error;
  BYSANS_RETURN_IF_ERROR(ScanObservations(c_.store(), scan, [&](Entity&& e) {
    auto ok = Match(o, e);
    if (!ok.ok()) {
      error = ok.status();
      return false;
    }
    if (!ok.value()) return true;
    if (in_memory_sort) {
      if (static_cast<int64_t>(matched.size()) >= kMaxSortedObservations) {
        error =
            InvalidArgument("$orderby on Observations other than phenomenonTime sorts at most " +
                            std::to_string(kMaxSortedObservations) +
                            " observations; narrow the $filter (e.g. a phenomenonTime range)");
        return false;
      }
      matched.push_back(std::move(e));
      return true;
    }
    if (index >= w.skip && index < w.skip + w.top) out.items.push_back(std::move(e));
    ++index;
    if (index > w.skip + w.top) out.more = true;
    return count || index <= w.skip + w.top;
  }));
  BYSANS_RETURN_IF_ERROR(error);
  if (in_memory_sort) {
    BYSANS_RETURN_IF_ERROR(Sort(o, matched));
    const auto n = static_cast<int64_t>(matched.size());
    for (int64_t i = w.skip; i < n && i < w.skip + w.top; ++i)
      out.items.push_back(std::move(matched[static_cast<size_t>(i)]));
    out.more = w.skip + w.top < n;
    index = n;
  }
  if (count) out.count = index;
  return out;
}

Result<json> Server::Render(const Entity& e, const QueryOptions* o,
                            const std::vector<ExpandItem>& extra) {
  static const std::vector<std::string> kAll;
  if (++rendered_ > kMaxEntitiesPerAnswer) {
    return InvalidArgument("the answer would hold more than " +
                           std::to_string(kMaxEntitiesPerAnswer) +
                           " entities; lower $top (also inside $expand) or expand less");
  }
  json out = EntityJson(c_, e, req_.base, o ? o->select : kAll);
  std::vector<ExpandItem> items = ItemsOf(o);
  items.insert(items.end(), extra.begin(), extra.end());
  BYSANS_RETURN_IF_ERROR(ExpandInto(e, out, items));
  return out;
}

Status Server::ExpandInto(const Entity& e, json& out, const std::vector<ExpandItem>& items) {
  // Group by the first navigation name: its own options, and the deeper items below it.
  std::map<std::string, std::pair<const QueryOptions*, std::vector<ExpandItem>>> groups;
  std::vector<std::string> order;
  for (const ExpandItem& item : items) {
    if (item.path.empty()) continue;
    auto [it, fresh] = groups.try_emplace(item.path[0]);
    if (fresh) order.push_back(item.path[0]);
    if (item.path.size() == 1) {
      if (item.options) it->second.first = item.options;
    } else {
      it->second.second.push_back(
          {std::vector<std::string>(item.path.begin() + 1, item.path.end()), item.options});
    }
  }
  for (const std::string& nav : order) {
    auto target = Navigation(e.set, nav);
    if (!target)
      return InvalidArgument("$expand: " + std::string(NameOf(e.set)) +
                             " has no navigation property '" + nav + "'");
    const auto& [options, deeper] = groups[nav];
    if (!target->to_many) {
      std::vector<Entity> related = c_.Related(e, nav);
      if (related.empty()) {
        out[nav] = nullptr;
        continue;
      }
      BYSANS_ASSIGN_OR_RETURN(out[nav], Render(related[0], options, deeper));
      continue;
    }
    BYSANS_ASSIGN_OR_RETURN(CollectionPage page, Collect(target->target, &e, nav, options));
    json arr = json::array();
    for (const Entity& r : page.items) {
      BYSANS_ASSIGN_OR_RETURN(json one, Render(r, options, deeper));
      arr.push_back(std::move(one));
    }
    out[nav] = std::move(arr);
    if (page.count) out[nav + "@iot.count"] = *page.count;
    if (auto query = page.more ? NestedNextQuery(options) : std::nullopt)
      out[nav + "@iot.nextLink"] = SelfLink(req_.base, e) + "/" + nav + "?" + *query;
  }
  return Status::Ok();
}

std::string Server::NextLink(const Window& w) const {
  std::string query;
  size_t i = 0;
  const std::string& raw = req_.raw_query;
  while (i <= raw.size()) {
    size_t j = raw.find('&', i);
    if (j == std::string::npos) j = raw.size();
    std::string_view part(raw.data() + i, j - i);
    bool drop = part.empty() || part.rfind("$skip=", 0) == 0 || part.rfind("%24skip=", 0) == 0 ||
                part.rfind("$top=", 0) == 0 || part.rfind("%24top=", 0) == 0;
    if (!drop) query.append(part).push_back('&');
    i = j + 1;
  }
  query += "$top=" + std::to_string(w.top) + "&$skip=" + std::to_string(w.skip + w.top);
  std::string path = req_.path;
  while (!path.empty() && path.front() == '/') path.erase(0, 1);
  return req_.base + "/" + path + "?" + query;
}

Result<ServeReply> Server::Run() {
  auto parsed = ParseResourcePath(req_.path);
  if (!parsed.ok()) {
    if (parsed.status().code() == Code::kInvalidArgument)
      return NotFound(parsed.status().message());
    return parsed.status();
  }
  const ResourcePath& path = parsed.value();
  if (path.segments.empty()) return NotFound("no resource at this path");
  BYSANS_ASSIGN_OR_RETURN(QueryOptions options, ParseQueryOptions(req_.raw_query));

  // Walk the path: `single` is the entity reached, or the collection is (set, parent, nav).
  auto first_set = EntitySetByName(path.segments[0].name);
  if (!first_set) return NotFound("no entity set '" + path.segments[0].name + "'");
  EntitySet set = *first_set;
  std::optional<Entity> single;
  std::optional<Entity> parent;
  std::string nav;
  const std::string not_found = "no such entity";
  if (path.segments[0].id) {
    BYSANS_ASSIGN_OR_RETURN(single, c_.Find(set, *path.segments[0].id));
    if (!single) return NotFound(not_found);
  }
  for (size_t i = 1; i < path.segments.size(); ++i) {
    const PathSegment& seg = path.segments[i];
    if (!single) return NotFound("'" + seg.name + "' must follow a single entity");
    auto target = Navigation(single->set, seg.name);
    if (!target) return NotFound("no navigation property '" + seg.name + "'");
    if (!target->to_many) {
      if (seg.id) return NotFound(not_found);
      std::vector<Entity> related = c_.Related(*single, seg.name);
      if (related.empty()) return NotFound(not_found);
      single = related[0];
      set = target->target;
      continue;
    }
    set = target->target;
    if (!seg.id) {
      parent = single;
      nav = seg.name;
      single.reset();
      continue;
    }
    // An id on a to-many navigation: the entity must be one of the related ones.
    BYSANS_ASSIGN_OR_RETURN(std::optional<Entity> found, c_.Find(set, *seg.id));
    bool member = false;
    if (found && set == EntitySet::kObservations) {
      for (const SeriesRef* s : c_.ObservationSeries(&*single)) member |= s->id == found->id;
    } else if (found) {
      for (const Entity& r : c_.Related(*single, seg.name))
        member |= r.id == found->id && r.key == found->key;
    }
    if (!member) return NotFound(not_found);
    single = std::move(found);
  }
  BYSANS_RETURN_IF_ERROR(Validate(options, set));

  ServeReply reply;
  if (single && !path.property.empty()) {
    json props = Properties(c_, *single);
    json value;
    if (path.property == "@iot.id" || path.property == "id") {
      value = IdJson(*single);
    } else {
      // The names are the schema's (ParseResourcePath); one the entity lacks or holds null is
      // "no content", as the standard's null properties.
      const json* at = &props;
      for (size_t i = 0; at && i <= path.property.size();) {
        size_t j = path.property.find('/', i);
        if (j == std::string::npos) j = path.property.size();
        std::string part = path.property.substr(i, j - i);
        at = at->is_object() && at->contains(part) ? &(*at)[part] : nullptr;
        i = j + 1;
      }
      if (at) value = *at;
    }
    if (value.is_null()) {
      reply.status = 204;
      reply.content_type.clear();
      return reply;
    }
    if (path.value) {
      reply.content_type = "text/plain; charset=utf-8";
      reply.body = value.is_string() ? value.get<std::string>() : value.dump();
      return reply;
    }
    std::string name = path.property.substr(path.property.rfind('/') + 1);
    reply.body = json{{name, value}}.dump(-1, ' ', false, json::error_handler_t::replace);
    return reply;
  }
  if (!path.property.empty()) return NotFound("a property needs a single entity");

  json out;
  if (single) {
    if (path.ref) {
      out = {{"@iot.selfLink", SelfLink(req_.base, *single)}};
    } else {
      BYSANS_ASSIGN_OR_RETURN(out, Render(*single, &options, {}));
    }
  } else {
    BYSANS_ASSIGN_OR_RETURN(CollectionPage page,
                            Collect(set, parent ? &*parent : nullptr, nav, &options));
    if (options.data_array && set == EntitySet::kObservations && !path.ref) {
      // Written as text: {"@iot.count", "@iot.nextLink", "value"} in the order dump() gives.
      std::string body = "{";
      if (page.count) body += "\"@iot.count\":" + std::to_string(*page.count) + ",";
      if (page.more) body += "\"@iot.nextLink\":" + json(NextLink(WindowOf(&options))).dump() + ",";
      body += "\"value\":" +
              DataArrayValue(page.items, DataArrayComponents(options.select), req_.base) + "}";
      reply.body = std::move(body);
      return reply;
    }
    json value = json::array();
    {
      for (const Entity& e : page.items) {
        if (path.ref) {
          value.push_back({{"@iot.selfLink", SelfLink(req_.base, e)}});
          continue;
        }
        BYSANS_ASSIGN_OR_RETURN(json one, Render(e, &options, {}));
        value.push_back(std::move(one));
      }
    }
    out = {{"value", std::move(value)}};
    if (page.count) out["@iot.count"] = *page.count;
    if (page.more) out["@iot.nextLink"] = NextLink(WindowOf(&options));
  }
  reply.body = out.dump(-1, ' ', false, json::error_handler_t::replace);
  return reply;
}

}  // namespace

Result<ServeReply> Serve(Catalog& catalog, const ServeRequest& req) {
  Server s(catalog, req);
  Result<ServeReply> reply = s.Run();
  // A store error met while loading lazily made some lookup "not found": answer the error.
  BYSANS_RETURN_IF_ERROR(catalog.status());
  return reply;
}

json ServiceRoot(const std::string& base) {
  json sets = json::array();
  for (EntitySet set : kAllEntitySets) {
    const std::string name(NameOf(set));
    std::string url = base;
    url += "/";
    url += name;
    sets.push_back({{"name", name}, {"url", std::move(url)}});
  }
  const std::string spec = "http://www.opengis.net/spec/iot_sensing/1.1/req/";
  return json{{"value", std::move(sets)},
              {"serverSettings",
               {{"conformance",
                 {spec + "datamodel", spec + "resource-path/resource-path-to-entities",
                  spec + "request-data", spec + "create-update-delete/create-update-delete",
                  spec + "data-array/data-array", spec + "batch-request/batch-request"}}}}};
}

}  // namespace bysans::sta
