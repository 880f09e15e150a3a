// The network description format (docs/formats-network.md): centers with
// power price and carbon, pools of node groups, links between centers.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unordered_set>

#include "base/strings.h"
#include "io/model_loader.h"
#include "io/yaml_fields.h"

namespace suanli {
namespace {

constexpr int64_t kMaxNodesPerGroup = 1'000'000;
constexpr int64_t kMaxNodes = 10'000'000;

using Hourly = std::array<double, 24>;

// Hours for a time-of-use period: a list of hours 0..23 or ranges "8-11"
// (08:00 to 11:00, so hours 8, 9, 10; "23-7" wraps past midnight).
Status ParseHours(const yaml::Value& v, std::array<bool, 24>* hours) {
  SUANLI_ASSIGN_OR_RETURN(size_t n, v.SequenceSize());
  for (size_t i = 0; i < n; ++i) {
    yaml::Value item = v.Item(i);
    auto bad = [&] {
      return item.Error(fmt::format("expected an hour 0-23 or a range like \"8-11\", got {}", item.Shown()));
    };
    if (!item.IsScalar()) return bad();
    std::string s(Trim(item.node().Scalar()));
    auto dash = s.find('-');
    if (dash == std::string::npos) {
      auto h = ParseInt(s);
      if (!h || *h < 0 || *h > 23) return bad();
      (*hours)[*h] = true;
      continue;
    }
    auto a = ParseInt(std::string_view(s).substr(0, dash));
    auto b = ParseInt(std::string_view(s).substr(dash + 1));
    if (!a || !b || *a < 0 || *a > 23 || *b < 0 || *b > 24 || *a == *b) return bad();
    for (int64_t h = *a; h != *b; h = (h + 1) % 24) {
      (*hours)[h] = true;
      if (*b == 24 && h == 23) break;
    }
  }
  return Status::Ok();
}

// IANA zones that keep one UTC offset all year (no daylight saving time
// today), in minutes: a center in one of these needs only `tz`. Any other
// zone is given with `utc_offset_h`, which is then used all year.
struct FixedZone {
  const char* name;
  int offset_min;
};
constexpr FixedZone kFixedZones[] = {
    {"UTC", 0},
    {"Etc/UTC", 0},
    {"Asia/Shanghai", 480},
    {"Asia/Chongqing", 480},
    {"Asia/Harbin", 480},
    {"Asia/Urumqi", 360},
    {"Asia/Hong_Kong", 480},
    {"Asia/Macau", 480},
    {"Asia/Taipei", 480},
    {"Asia/Singapore", 480},
    {"Asia/Kuala_Lumpur", 480},
    {"Asia/Manila", 480},
    {"Asia/Tokyo", 540},
    {"Asia/Seoul", 540},
    {"Asia/Kolkata", 330},
    {"Asia/Dhaka", 360},
    {"Asia/Karachi", 300},
    {"Asia/Dubai", 240},
    {"Asia/Riyadh", 180},
    {"Asia/Jakarta", 420},
    {"Asia/Bangkok", 420},
    {"Asia/Ho_Chi_Minh", 420},
    {"Europe/Moscow", 180},
    {"Africa/Nairobi", 180},
    {"Africa/Lagos", 60},
    {"Africa/Johannesburg", 120},
    {"America/Sao_Paulo", -180},
    {"America/Bogota", -300},
    {"America/Lima", -300},
    {"America/Phoenix", -420},
    {"Pacific/Honolulu", -600},
    {"Australia/Brisbane", 600},
    {"Australia/Perth", 480},
};

const FixedZone* FindFixedZone(std::string_view name) {
  for (const FixedZone& z : kFixedZones)
    if (name == z.name) return &z;
  return nullptr;
}

// "UTC+08:00", "UTC-03:30", "UTC".
std::string OffsetName(int32_t offset_s) {
  if (offset_s == 0) return "UTC";
  int32_t a = offset_s < 0 ? -offset_s : offset_s;
  return fmt::format("UTC{}{:02}:{:02}", offset_s < 0 ? '-' : '+', a / 3600, a / 60 % 60);
}

// A center's time zone: `tz` (an IANA name) and/or `utc_offset_h` (hours,
// a multiple of 0.25 from -12 to 14). Neither: UTC.
Status ParseTimeZone(const yaml::Map& m, Center* c) {
  std::optional<int32_t> offset;
  if (m.Has("utc_offset_h")) {
    yaml::Value v = m.Get("utc_offset_h");
    SUANLI_ASSIGN_OR_RETURN(double h, v.Number());
    double quarters = h * 4;
    if (h < -12 || h > 14 || quarters != std::floor(quarters))
      return v.Error(fmt::format("expected a UTC offset in hours from -12 to 14 in steps of 0.25, got {}", v.Shown()));
    offset = static_cast<int32_t>(quarters) * 900;
  }
  if (m.Has("tz")) {
    yaml::Value v = m.Get("tz");
    SUANLI_ASSIGN_OR_RETURN(std::string name, v.String());
    if (name.size() > 64 || name.find_first_of(" \t\r\n") != std::string::npos)
      return v.Error(fmt::format("expected an IANA time zone name such as Asia/Shanghai, got {}", v.Shown()));
    const FixedZone* z = FindFixedZone(name);
    if (z && offset && *offset != z->offset_min * 60)
      return v.Error(fmt::format("'{}' is {}, but utc_offset_h says {}", name, OffsetName(z->offset_min * 60),
                                 OffsetName(*offset)));
    if (!z && !offset)
      return v.Error(
          fmt::format("time zone '{}' is not one Suanli knows to keep one UTC offset all year; give "
                      "utc_offset_h as well (it is then used all year)",
                      name));
    if (z) offset = z->offset_min * 60;
    c->tz = std::move(name);
  } else if (offset) {
    c->tz = OffsetName(*offset);
  }
  c->utc_offset_s = offset.value_or(0);
  return Status::Ok();
}

// A per-hour series: a number (all day), a list of 24 numbers, or (when
// `allow_tou`) a time-of-use block {peak, flat, valley, peak_hours, valley_hours}.
Status ParseHourly(const yaml::Value& v, bool allow_tou, Hourly* out) {
  if (v.IsScalar()) {
    SUANLI_ASSIGN_OR_RETURN(double x, v.NumberAtLeast(0));
    out->fill(x);
    return Status::Ok();
  }
  if (v.IsSequence()) {
    if (v.node().size() != 24)
      return v.Error(fmt::format("expected 24 hourly values (hour 0 first), got {}", v.node().size()));
    for (size_t h = 0; h < 24; ++h) {
      SUANLI_ASSIGN_OR_RETURN((*out)[h], v.Item(h).NumberAtLeast(0));
    }
    return Status::Ok();
  }
  if (!allow_tou || !v.IsMap())
    return v.Error(fmt::format("expected a number or a list of 24 hourly numbers{}, got {}",
                               allow_tou ? " or a time-of-use block" : "", v.Shown()));
  SUANLI_ASSIGN_OR_RETURN(yaml::Map m, yaml::Map::Open(v, {"sharp", "peak", "flat", "valley", "sharp_hours",
                                                           "peak_hours", "valley_hours"}));
  SUANLI_ASSIGN_OR_RETURN(yaml::Value flat_v, m.Require("flat"));
  SUANLI_ASSIGN_OR_RETURN(double flat, flat_v.NumberAtLeast(0));
  out->fill(flat);
  std::array<int, 24> owner{};  // 0 = flat, else index+1 into kPeriods
  constexpr const char* kPeriods[] = {"sharp", "peak", "valley"};
  for (int p = 0; p < 3; ++p) {
    std::string price_key = kPeriods[p], hours_key = price_key + "_hours";
    if (m.Has(price_key) != m.Has(hours_key))
      return m.Error(fmt::format("'{}' and '{}' must be given together", price_key, hours_key));
    if (!m.Has(price_key)) continue;
    SUANLI_ASSIGN_OR_RETURN(double price, m.Get(price_key).NumberAtLeast(0));
    std::array<bool, 24> hours{};
    yaml::Value hv = m.Get(hours_key);
    SUANLI_RETURN_IF_ERROR(ParseHours(hv, &hours));
    for (int h = 0; h < 24; ++h) {
      if (!hours[h]) continue;
      if (owner[h]) return hv.Error(fmt::format("hour {} is also in {}_hours", h, kPeriods[owner[h] - 1]));
      owner[h] = p + 1;
      (*out)[h] = price;
    }
  }
  return Status::Ok();
}

std::vector<std::string> ModelNames(const Catalog& catalog) {
  std::vector<std::string> out;
  for (const auto& m : catalog.models()) out.push_back(m.name);
  return out;
}

std::vector<std::string> AllModelNames(const Catalog& catalog) {
  std::vector<std::string> out;
  for (const auto& m : catalog.models()) {
    out.push_back(m.name);
    out.insert(out.end(), m.aliases.begin(), m.aliases.end());
  }
  return out;
}

int Digits(int64_t n) {
  int d = 1;
  while (n >= 10) {
    n /= 10;
    ++d;
  }
  return d;
}

struct Builder {
  const Catalog& catalog;
  int64_t divisor = 1;  // scaled variants: node counts divided by this
  Network net;
  std::unordered_set<std::string> node_names;

  Status ParseGroup(const yaml::Value& item, CenterId center, PoolId pool) {
    SUANLI_ASSIGN_OR_RETURN(yaml::Map m, yaml::Map::Open(item, {"count", "prefix", "names", "accelerator", "devices",
                                                                "cpu", "memory_gib", "topology"}));
    // The nodes' names: prefix + index for `count` nodes, or `names` as
    // given (a center whose nodes are named by its own resource manager).
    std::vector<std::string> names;
    yaml::Value pv = m.Get("names"), cv = m.Get("names");
    std::string prefix;
    int64_t count = 0;
    if (m.Has("names")) {
      if (m.Has("count") || m.Has("prefix")) return pv.Error("give either `names` or `count` and `prefix`, not both");
      SUANLI_ASSIGN_OR_RETURN(names, pv.StringList());
      if (names.empty() || static_cast<int64_t>(names.size()) > kMaxNodesPerGroup)
        return pv.Error(fmt::format("expected 1..{} node names", kMaxNodesPerGroup));
      for (const std::string& n : names)
        if (n.empty()) return pv.Error("a node name is empty");
      count = static_cast<int64_t>(names.size());
      prefix = names.front();
    } else {
      SUANLI_ASSIGN_OR_RETURN(cv, m.Require("count"));
      SUANLI_ASSIGN_OR_RETURN(count, cv.Integer(1, kMaxNodesPerGroup));
      SUANLI_ASSIGN_OR_RETURN(pv, m.Require("prefix"));
      SUANLI_ASSIGN_OR_RETURN(prefix, pv.String());
    }
    // A scaled variant keeps every group, rounding its count to nearest.
    if (divisor > 1) count = std::max<int64_t>(1, (count + divisor / 2) / divisor);
    if (static_cast<int64_t>(net.nodes.size()) + count > kMaxNodes)
      return cv.Error(fmt::format("the network would have more than {} nodes", kMaxNodes));

    Node proto;
    proto.center = center;
    proto.pool = pool;
    yaml::Value av = m.Get("accelerator");
    bool cpu_only = av.IsNull() || (av.IsScalar() && ToLower(Trim(av.node().Scalar())) == "none");
    yaml::Value dv = m.Get("devices");
    if (cpu_only) {
      if (!dv.IsNull()) {
        SUANLI_ASSIGN_OR_RETURN(int64_t d, dv.Integer(0, kMaxDevicesPerNode));
        if (d != 0) return dv.Error("devices given for a CPU-only group (no accelerator)");
      }
    } else {
      SUANLI_ASSIGN_OR_RETURN(std::string model, av.String());
      auto id = catalog.Find(model);
      if (!id) {
        std::string hint = yaml::Closest(model, AllModelNames(catalog));
        if (!hint.empty()) {
          const std::string& canonical = catalog.model(*catalog.Find(hint)).name;
          hint = canonical == hint ? fmt::format("; did you mean '{}'?", hint)
                                   : fmt::format("; did you mean '{}' ({})?", hint, canonical);
        }
        return av.Error(
            fmt::format("unknown accelerator model '{}' for the nodes named '{}*'{} (known models: {}; "
                        "`suanli network models` lists them with their aliases)",
                        model, prefix, hint, Join(ModelNames(catalog), ", ")));
      }
      proto.model = *id;
      SUANLI_ASSIGN_OR_RETURN(yaml::Value dreq, m.Require("devices"));
      SUANLI_ASSIGN_OR_RETURN(int64_t d, dreq.Integer(1, std::numeric_limits<int64_t>::max()));
      if (d > kMaxDevicesPerNode)
        return dreq.Error(fmt::format("at most {} devices per node, got {}", kMaxDevicesPerNode, d));
      proto.devices = static_cast<uint8_t>(d);
    }
    SUANLI_ASSIGN_OR_RETURN(yaml::Value cpu_v, m.Require("cpu"));
    SUANLI_ASSIGN_OR_RETURN(double cores, cpu_v.NumberAbove(0));
    proto.cpu_milli = std::llround(cores * 1000);
    if (proto.cpu_milli <= 0) return cpu_v.Error("expected at least 0.001 cores");
    SUANLI_ASSIGN_OR_RETURN(yaml::Value mem_v, m.Require("memory_gib"));
    SUANLI_ASSIGN_OR_RETURN(double gib, mem_v.NumberAbove(0));
    proto.mem_mib = std::llround(gib * 1024);
    if (proto.mem_mib <= 0) return mem_v.Error("expected at least 1 MiB");

    // Topology: each group starts a new rack and a new pod.
    int64_t per_rack = count, racks_per_pod = 0;  // 0 = all the group's racks
    if (m.Has("topology")) {
      SUANLI_ASSIGN_OR_RETURN(yaml::Map t, yaml::Map::Open(m.Get("topology"), {"nodes_per_rack", "racks_per_pod"}));
      if (t.Has("nodes_per_rack")) {
        SUANLI_ASSIGN_OR_RETURN(per_rack, t.Get("nodes_per_rack").Integer(1, kMaxNodesPerGroup));
      }
      if (t.Has("racks_per_pod")) {
        SUANLI_ASSIGN_OR_RETURN(racks_per_pod, t.Get("racks_per_pod").Integer(1, kMaxNodesPerGroup));
      }
    }
    int64_t racks = (count + per_rack - 1) / per_rack;
    if (racks_per_pod == 0) racks_per_pod = racks;
    int64_t pods = (racks + racks_per_pod - 1) / racks_per_pod;

    int width = Digits(count - 1);
    net.nodes.reserve(net.nodes.size() + count);
    for (int64_t i = 0; i < count; ++i) {
      Node n = proto;
      n.name = names.empty() ? fmt::format("{}{:0{}d}", prefix, i, width) : names[static_cast<size_t>(i)];
      int64_t rack = i / per_rack;
      n.rack = net.num_racks + static_cast<uint32_t>(rack);
      n.pod = net.num_pods + static_cast<uint32_t>(rack / racks_per_pod);
      if (!node_names.insert(n.name).second)
        return pv.Error(fmt::format("node name '{}' is used twice; give each group its own prefix or names", n.name));
      net.nodes.push_back(std::move(n));
    }
    net.num_racks += static_cast<uint32_t>(racks);
    net.num_pods += static_cast<uint32_t>(pods);
    return Status::Ok();
  }

  Status ParseCenter(const yaml::Value& item) {
    SUANLI_ASSIGN_OR_RETURN(
        yaml::Map m, yaml::Map::Open(item, {"name", "region", "description", "lat", "lon", "edge", "pue",
                                            "price_per_kwh", "carbon_g_per_kwh", "tz", "utc_offset_h", "pools"}));
    Center c;
    SUANLI_ASSIGN_OR_RETURN(yaml::Value nv, m.Require("name"));
    SUANLI_ASSIGN_OR_RETURN(c.name, nv.String());
    for (CenterId i : net.centers.ids())
      if (net.centers[i].name == c.name)
        return nv.Error(fmt::format("duplicate center name '{}' (also centers[{}])", c.name, i));
    if (m.Has("region")) {
      SUANLI_ASSIGN_OR_RETURN(c.region, m.Get("region").String());
    }
    if (m.Has("description")) SUANLI_RETURN_IF_ERROR(m.Get("description").String().status());
    if (m.Has("lat") != m.Has("lon")) return m.Error("'lat' and 'lon' must be given together");
    if (m.Has("lat")) {
      yaml::Value lat = m.Get("lat"), lon = m.Get("lon");
      SUANLI_ASSIGN_OR_RETURN(c.latitude, lat.Number());
      SUANLI_ASSIGN_OR_RETURN(c.longitude, lon.Number());
      if (c.latitude < -90 || c.latitude > 90) return lat.Error("expected a latitude from -90 to 90");
      if (c.longitude < -180 || c.longitude > 180) return lon.Error("expected a longitude from -180 to 180");
    }
    if (m.Has("edge")) {
      SUANLI_ASSIGN_OR_RETURN(c.edge, m.Get("edge").Bool());
    }
    SUANLI_RETURN_IF_ERROR(ParseTimeZone(m, &c));
    SUANLI_ASSIGN_OR_RETURN(yaml::Value pue, m.Require("pue"));
    SUANLI_ASSIGN_OR_RETURN(c.pue, pue.NumberAtLeast(1.0));
    SUANLI_ASSIGN_OR_RETURN(yaml::Value price, m.Require("price_per_kwh"));
    SUANLI_RETURN_IF_ERROR(ParseHourly(price, /*allow_tou=*/true, &c.price_per_kwh));
    SUANLI_ASSIGN_OR_RETURN(yaml::Value carbon, m.Require("carbon_g_per_kwh"));
    SUANLI_RETURN_IF_ERROR(ParseHourly(carbon, /*allow_tou=*/false, &c.carbon_g_per_kwh));
    const CenterId center_id = net.centers.next_id();
    net.centers.push_back(std::move(c));

    SUANLI_ASSIGN_OR_RETURN(yaml::Value pools, m.Require("pools"));
    SUANLI_ASSIGN_OR_RETURN(size_t np, pools.SequenceSize());
    if (np == 0) return pools.Error("expected at least one pool");
    std::set<std::string> pool_names;
    for (size_t i = 0; i < np; ++i) {
      yaml::Value pitem = pools.Item(i);
      SUANLI_ASSIGN_OR_RETURN(yaml::Map pm, yaml::Map::Open(pitem, {"name", "nodes"}));
      Pool p;
      SUANLI_ASSIGN_OR_RETURN(yaml::Value pnv, pm.Require("name"));
      SUANLI_ASSIGN_OR_RETURN(p.name, pnv.String());
      if (!pool_names.insert(p.name).second)
        return pnv.Error(fmt::format("duplicate pool name '{}' in this center", p.name));
      p.center = center_id;
      const PoolId pool_id = net.pools.next_id();
      net.pools.push_back(std::move(p));
      SUANLI_ASSIGN_OR_RETURN(yaml::Value groups, pm.Require("nodes"));
      SUANLI_ASSIGN_OR_RETURN(size_t ng, groups.SequenceSize());
      if (ng == 0) return groups.Error("expected at least one node group");
      for (size_t g = 0; g < ng; ++g) SUANLI_RETURN_IF_ERROR(ParseGroup(groups.Item(g), center_id, pool_id));
    }
    return Status::Ok();
  }

  Result<CenterId> FindCenter(const yaml::Value& v) const {
    SUANLI_ASSIGN_OR_RETURN(std::string name, v.String());
    std::vector<std::string> names;
    for (CenterId i : net.centers.ids()) {
      if (net.centers[i].name == name) return i;
      names.push_back(net.centers[i].name);
    }
    return v.Error(fmt::format("no center named '{}' (centers: {})", name, Join(names, ", ")));
  }

  Status ParseLink(const yaml::Value& item, std::set<std::pair<CenterId, CenterId>>* seen) {
    SUANLI_ASSIGN_OR_RETURN(yaml::Map m, yaml::Map::Open(item, {"from", "to", "latency_ms", "bandwidth_gbps"}));
    Link l;
    SUANLI_ASSIGN_OR_RETURN(yaml::Value from, m.Require("from"));
    SUANLI_ASSIGN_OR_RETURN(l.a, FindCenter(from));
    SUANLI_ASSIGN_OR_RETURN(yaml::Value to, m.Require("to"));
    SUANLI_ASSIGN_OR_RETURN(l.b, FindCenter(to));
    if (l.a == l.b) return to.Error("a link must join two different centers");
    if (!seen->insert({std::min(l.a, l.b), std::max(l.a, l.b)}).second)
      return item.Error("these two centers are already linked");
    SUANLI_ASSIGN_OR_RETURN(yaml::Value lat, m.Require("latency_ms"));
    SUANLI_ASSIGN_OR_RETURN(l.latency_ms, lat.NumberAtLeast(0));
    SUANLI_ASSIGN_OR_RETURN(yaml::Value bw, m.Require("bandwidth_gbps"));
    SUANLI_ASSIGN_OR_RETURN(l.bandwidth_gbps, bw.NumberAbove(0));
    net.links.push_back(l);
    return Status::Ok();
  }

  // A user region: {name, lat, lon}.
  Status ParseRegion(const yaml::Value& item) {
    SUANLI_ASSIGN_OR_RETURN(yaml::Map m, yaml::Map::Open(item, {"name", "lat", "lon"}));
    Region r;
    SUANLI_ASSIGN_OR_RETURN(yaml::Value nv, m.Require("name"));
    SUANLI_ASSIGN_OR_RETURN(r.name, nv.String());
    for (size_t i = 0; i < net.regions.size(); ++i)
      if (net.regions[i].name == r.name)
        return nv.Error(fmt::format("duplicate region name '{}' (also regions[{}])", r.name, i));
    SUANLI_ASSIGN_OR_RETURN(yaml::Value lat, m.Require("lat"));
    SUANLI_ASSIGN_OR_RETURN(r.latitude, lat.Number());
    if (r.latitude < -90 || r.latitude > 90) return lat.Error("expected a latitude from -90 to 90");
    SUANLI_ASSIGN_OR_RETURN(yaml::Value lon, m.Require("lon"));
    SUANLI_ASSIGN_OR_RETURN(r.longitude, lon.Number());
    if (r.longitude < -180 || r.longitude > 180) return lon.Error("expected a longitude from -180 to 180");
    net.regions.push_back(std::move(r));
    return Status::Ok();
  }

  // A time given in seconds (`<key>_s`) or hours (`<key>_h`), exactly one of them.
  static Result<Time> SecondsOrHours(const yaml::Map& m, const std::string& key, double min, bool strictly_above) {
    std::string ks = key + "_s", kh = key + "_h";
    if (m.Has(ks) == m.Has(kh))
      return m.Error(fmt::format("give exactly one of '{}' (seconds) and '{}' (hours)", ks, kh));
    bool hours = m.Has(kh);
    yaml::Value v = m.Get(hours ? kh : ks);
    SUANLI_ASSIGN_OR_RETURN(double x, strictly_above ? v.NumberAbove(min) : v.NumberAtLeast(min));
    double seconds = hours ? x * 3600.0 : x;
    if (seconds > 1e12) return v.Error("expected at most 10^12 seconds");
    Time t = SecondsF(seconds);
    if (strictly_above && t <= 0) return v.Error("expected at least one microsecond");
    return t;
  }

  // A scheduled outage: {center, start_s | start_h, duration_s | duration_h}.
  Status ParseOutage(const yaml::Value& item) {
    SUANLI_ASSIGN_OR_RETURN(yaml::Map m,
                            yaml::Map::Open(item, {"center", "start_s", "start_h", "duration_s", "duration_h"}));
    Outage o;
    SUANLI_ASSIGN_OR_RETURN(yaml::Value cv, m.Require("center"));
    SUANLI_ASSIGN_OR_RETURN(o.center, FindCenter(cv));
    SUANLI_ASSIGN_OR_RETURN(o.start, SecondsOrHours(m, "start", 0, /*strictly_above=*/false));
    SUANLI_ASSIGN_OR_RETURN(o.duration, SecondsOrHours(m, "duration", 0, /*strictly_above=*/true));
    for (const Outage& p : net.outages)
      if (p.center == o.center && o.start < p.start + p.duration && p.start < o.start + o.duration)
        return item.Error(fmt::format("overlaps an earlier outage of center '{}'", net.centers[o.center].name));
    net.outages.push_back(o);
    return Status::Ok();
  }
};

std::string DefaultName(const std::string& file) {
  std::string base = file.substr(file.find_last_of('/') + 1);
  base = base.substr(0, base.find(' '));  // "x.yaml (built-in)"
  for (std::string_view ext : {".gz", ".yaml", ".yml"})
    if (base.size() > ext.size() && base.compare(base.size() - ext.size(), ext.size(), ext) == 0)
      base.resize(base.size() - ext.size());
  return base;
}

}  // namespace

Result<Network> ParseNetworkYaml(std::string_view text, const std::string& name, const Catalog& catalog,
                                 int64_t divide_nodes_by) {
  if (divide_nodes_by < 1)
    return InvalidArgument("{}: node counts must be divided by a whole number >= 1, got {}", name, divide_nodes_by);
  SUANLI_ASSIGN_OR_RETURN(YAML::Node doc, yaml::ParseDocument(text, name));
  yaml::Value root = yaml::Root(&name, doc);
  SUANLI_ASSIGN_OR_RETURN(yaml::Map top,
                          yaml::Map::Open(root, {"name", "description", "centers", "links", "regions", "outages"}));
  Builder b{catalog, divide_nodes_by, Network{}, {}};
  if (top.Has("name")) {
    SUANLI_ASSIGN_OR_RETURN(b.net.name, top.Get("name").String());
  } else {
    b.net.name = DefaultName(name);
  }
  if (top.Has("description")) SUANLI_RETURN_IF_ERROR(top.Get("description").String().status());

  SUANLI_ASSIGN_OR_RETURN(yaml::Value centers, top.Require("centers"));
  SUANLI_ASSIGN_OR_RETURN(size_t nc, centers.SequenceSize());
  if (nc == 0) return centers.Error("expected at least one center");
  for (size_t i = 0; i < nc; ++i) SUANLI_RETURN_IF_ERROR(b.ParseCenter(centers.Item(i)));

  if (top.Has("links")) {
    yaml::Value links = top.Get("links");
    SUANLI_ASSIGN_OR_RETURN(size_t nl, links.SequenceSize());
    std::set<std::pair<CenterId, CenterId>> seen;
    for (size_t i = 0; i < nl; ++i) SUANLI_RETURN_IF_ERROR(b.ParseLink(links.Item(i), &seen));
  }
  if (top.Has("regions")) {
    yaml::Value regions = top.Get("regions");
    SUANLI_ASSIGN_OR_RETURN(size_t nr, regions.SequenceSize());
    for (size_t i = 0; i < nr; ++i) SUANLI_RETURN_IF_ERROR(b.ParseRegion(regions.Item(i)));
  }
  if (top.Has("outages")) {
    yaml::Value outages = top.Get("outages");
    SUANLI_ASSIGN_OR_RETURN(size_t no, outages.SequenceSize());
    for (size_t i = 0; i < no; ++i) SUANLI_RETURN_IF_ERROR(b.ParseOutage(outages.Item(i)));
  }
  SUANLI_RETURN_IF_ERROR(b.net.Validate(catalog).Wrap(name));
  return std::move(b.net);
}

}  // namespace suanli
