// Tests for the built-in network china-aicc, scaled variants (NAME:1/N),
// user regions and scheduled outages in network YAML, and the errors for bad
// network files and specs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <string>

#include "io/embedded.h"
#include "io/model_loader.h"
#include "io/sources.h"
#include "support/cli.h"

namespace suanli {
namespace {

using ::testing::HasSubstr;

const Network& ChinaAicc() {
  static const Network* const kNet = [] {
    auto net = LoadNetwork("china-aicc", BuiltinCatalog());
    EXPECT_TRUE(net.ok()) << net.status().message();
    return new Network(net.ok() ? std::move(net).value() : Network{});
  }();
  return *kNet;
}

const Center& CenterNamed(const Network& net, const std::string& name) {
  static const Center kNone;
  auto id = net.FindCenter(name);
  EXPECT_TRUE(id.has_value()) << name;
  return id ? net.centers[*id] : kNone;
}

// Accelerators of one center, by canonical model name.
std::map<std::string, int64_t> DevicesByModel(const Network& net, const std::string& center) {
  const Catalog& cat = BuiltinCatalog();
  std::map<std::string, int64_t> out;
  auto id = net.FindCenter(center);
  if (!id) return out;
  for (const auto& n : net.nodes)
    if (n.center == *id && n.devices > 0) out[cat.model(n.model).name] += n.devices;
  return out;
}

// Dense 16-bit PFLOPS of one center, from the catalog's tflops16.
double Pflops(const Network& net, const std::string& center) {
  const Catalog& cat = BuiltinCatalog();
  double tflops = 0;
  for (const auto& [model, n] : DevicesByModel(net, center)) tflops += n * cat.model(*cat.Find(model)).tflops16;
  return tflops / 1000;
}

// The node group of a node: its name without the trailing index.
std::string GroupOf(const Node& n) {
  std::string s = n.name;
  while (!s.empty() && std::isdigit(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

constexpr const char* kCenters[] = {"shanghai-lingang", "wuhan",          "zhengzhou",    "xian",
                                    "nanjing",          "chengdu",        "shenzhen",     "yaan",
                                    "edge-beijing",     "edge-guangzhou", "edge-hangzhou"};

// ---------------------------------------------------------------- the built-in network

TEST(ChinaAicc, IsBuiltinLoadsAndValidates) {
  auto names = BuiltinNetworkNames();
  EXPECT_NE(std::find(names.begin(), names.end(), "china-aicc"), names.end());
  const Network& net = ChinaAicc();
  EXPECT_EQ(net.name, "china-aicc");
  EXPECT_TRUE(net.Validate(BuiltinCatalog()).ok());
  EXPECT_TRUE(net.outages.empty());  // outages are a scenario's choice, not the network's
}

TEST(ChinaAicc, HasEveryCenterAndEdgeSite) {
  const Network& net = ChinaAicc();
  EXPECT_EQ(net.centers.size(), std::size(kCenters));
  for (const char* name : kCenters) {
    const Center& c = CenterNamed(net, name);
    bool edge = std::string(name).rfind("edge-", 0) == 0;
    EXPECT_EQ(c.edge, edge) << name;
    EXPECT_GT(DevicesByModel(net, name).size(), 0u) << name << " has no accelerators";
    EXPECT_NE(c.latitude, 0) << name;
    EXPECT_NE(c.longitude, 0) << name;
    EXPECT_FALSE(c.region.empty()) << name;
    EXPECT_TRUE(net.FindRegion(c.region).has_value()) << name << " is in unknown region " << c.region;
  }
}

TEST(ChinaAicc, HasTheUserRegions) {
  const Network& net = ChinaAicc();
  struct Want {
    const char* name;
    double lat, lon;
  };
  const Want want[] = {{"north", 39.9, 116.4},   {"east", 31.2, 121.5},      {"south", 23.1, 113.3},
                       {"central", 30.6, 114.3}, {"southwest", 30.7, 104.1}, {"northwest", 34.3, 108.9}};
  ASSERT_EQ(net.regions.size(), std::size(want));
  for (const auto& w : want) {
    auto id = net.FindRegion(w.name);
    ASSERT_TRUE(id.has_value()) << w.name;
    EXPECT_DOUBLE_EQ(net.regions[*id].latitude, w.lat) << w.name;
    EXPECT_DOUBLE_EQ(net.regions[*id].longitude, w.lon) << w.name;
  }
}

TEST(ChinaAicc, TensOfThousandsOfAccelerators) {
  const Network& net = ChinaAicc();
  EXPECT_GE(net.TotalDevices(), 30000);
  EXPECT_LE(net.TotalDevices(), 60000);
  const Catalog& cat = BuiltinCatalog();
  for (const char* m : {"A100-80GB", "A800-80GB", "H800-80GB", "Ascend-910", "Ascend-910B", "BR100", "Tiangai-100",
                        "MTT-S4000", "MLU370-X8", "T4", "A10", "Zhikai-100", "BR104"})
    EXPECT_GT(net.TotalDevices(*cat.Find(m)), 0) << m;
}

TEST(ChinaAicc, SizesFollowTheReportedPeaks) {
  const Network& net = ChinaAicc();
  // S1: SenseTime's Lingang AIDC, design peak 3,740 PFLOPS.
  EXPECT_NEAR(Pflops(net, "shanghai-lingang"), 3740, 3740 * 0.01);
  // S6: Chengdu, 307 PFLOPS on Kunpeng + Ascend.
  EXPECT_NEAR(Pflops(net, "chengdu"), 307, 307 * 0.01);
  auto cd = DevicesByModel(net, "chengdu");
  EXPECT_EQ(cd.size(), 1u);
  EXPECT_EQ(cd.count("Ascend-910"), 1u);
  // The Kunpeng side: CPU-only nodes in Chengdu.
  auto chengdu = *net.FindCenter("chengdu");
  EXPECT_TRUE(std::any_of(net.nodes.begin(), net.nodes.end(),
                          [&](const Node& n) { return n.center == chengdu && n.devices == 0; }));
  // S1: Wuhan, Zhengzhou, Xi'an and Nanjing are Ascend centers.
  for (const char* c : {"wuhan", "zhengzhou", "xian", "nanjing"}) {
    auto d = DevicesByModel(net, c);
    EXPECT_GT(d["Ascend-910"] + d["Ascend-910B"], 0) << c;
  }
}

TEST(ChinaAicc, EdgeSitesHoldSmallInferenceCards) {
  const Network& net = ChinaAicc();
  const std::set<std::string> inference = {"T4", "A10", "Zhikai-100", "BR104"};
  for (const char* e : {"edge-beijing", "edge-guangzhou", "edge-hangzhou"}) {
    int64_t total = 0;
    for (const auto& [model, n] : DevicesByModel(net, e)) {
      EXPECT_TRUE(inference.count(model)) << e << " holds " << model;
      total += n;
    }
    EXPECT_LE(total, 1000) << e;
  }
}

TEST(ChinaAicc, EightCardServersInPodsOfRacks) {
  const Network& net = ChinaAicc();
  std::map<uint32_t, int64_t> pod_devices;
  std::map<uint32_t, std::set<uint32_t>> pod_racks;
  for (const auto& n : net.nodes) {
    if (n.devices == 0) continue;
    if (!net.centers[n.center].edge) {
      EXPECT_EQ(n.devices, 8) << n.name;
    }
    pod_devices[n.pod] += n.devices;
    pod_racks[n.pod].insert(n.rack);
  }
  // Full pods are 4 servers x 8 racks = 256 accelerators: a 256-card job fits in one.
  int64_t largest = 0;
  for (const auto& [pod, d] : pod_devices) {
    EXPECT_LE(d, 256) << "pod " << pod;
    largest = std::max(largest, d);
  }
  EXPECT_EQ(largest, 256);
  size_t multi_rack = 0;
  for (const auto& [pod, racks] : pod_racks) multi_rack += racks.size() > 1;
  EXPECT_GT(multi_rack, pod_racks.size() / 2);
}

TEST(ChinaAicc, PowerPriceAndHourlyCarbon) {
  const Network& net = ChinaAicc();
  for (const auto& c : net.centers) {
    EXPECT_GE(c.pue, 1.0) << c.name;
    auto [pmin, pmax] = std::minmax_element(c.price_per_kwh.begin(), c.price_per_kwh.end());
    EXPECT_LT(*pmin, *pmax) << c.name << ": a time-of-use tariff varies by hour";
    EXPECT_GT(*pmin, 0) << c.name;
    auto [cmin, cmax] = std::minmax_element(c.carbon_g_per_kwh.begin(), c.carbon_g_per_kwh.end());
    EXPECT_LT(*cmin, *cmax) << c.name << ": carbon is an hourly profile";
    EXPECT_GT(*cmin, 0) << c.name;
  }
  // S6: Chengdu's immersion cooling, PUE below 1.1.
  EXPECT_LT(CenterNamed(net, "chengdu").pue, 1.1);
  // Hydropower in Sichuan: the western sites are cleaner than Shanghai every
  // hour, and cheaper over the day (facts: "East Data, West Compute").
  const Center& sh = CenterNamed(net, "shanghai-lingang");
  auto mean = [](const std::array<double, 24>& a) { return std::accumulate(a.begin(), a.end(), 0.0) / 24; };
  for (const char* west : {"yaan", "chengdu"}) {
    const Center& w = CenterNamed(net, west);
    for (int h = 0; h < 24; ++h) EXPECT_LT(w.carbon_g_per_kwh[h], sh.carbon_g_per_kwh[h]) << west << " hour " << h;
    EXPECT_LT(mean(w.price_per_kwh), 0.6 * mean(sh.price_per_kwh)) << west;
  }
  // Solar in the northwest: Xi'an's noon is cleaner than its midnight.
  const Center& xa = CenterNamed(net, "xian");
  EXPECT_LT(xa.carbon_g_per_kwh[12], xa.carbon_g_per_kwh[0]);
}

TEST(ChinaAicc, EveryCenterReachesEveryOther) {
  const Network& net = ChinaAicc();
  Paths paths(net);
  for (CenterId a : net.centers.ids())
    for (CenterId b : net.centers.ids()) {
      EXPECT_TRUE(paths.Reachable(a, b)) << net.centers[a].name << " -> " << net.centers[b].name;
      EXPECT_LT(paths.LatencyMs(a, b), 30) << net.centers[a].name << " -> " << net.centers[b].name;
    }
  // Links follow the distance rule: km x 1.5 / 200 km per ms, to a tenth of a ms.
  for (const auto& l : net.links) {
    const Center &a = net.centers[l.a], &b = net.centers[l.b];
    double want = DistanceKm(a.latitude, a.longitude, b.latitude, b.longitude) * 1.5 / 200;
    EXPECT_NEAR(l.latency_ms, want, 0.06) << a.name << "-" << b.name;
  }
}

// ---------------------------------------------------------------- scaled variants

// Expected devices after dividing every group's count by n (nearest, >= 1).
int64_t ScaledDevices(const Network& full, int64_t n) {
  std::map<std::string, std::pair<int64_t, int64_t>> groups;  // nodes, devices per node
  for (const auto& node : full.nodes) {
    auto& g = groups[GroupOf(node)];
    g.first += 1;
    g.second = node.devices;
  }
  int64_t total = 0;
  for (const auto& [name, g] : groups)
    total += std::max<int64_t>(1, std::llround(static_cast<double>(g.first) / n)) * g.second;
  return total;
}

TEST(ChinaAiccScaled, DividesEveryGroupAndKeepsTheRest) {
  const Network& full = ChinaAicc();
  std::set<std::string> full_groups;
  for (const auto& n : full.nodes) full_groups.insert(GroupOf(n));
  for (int64_t n : {2, 10, 100, 1000}) {
    std::string spec = "china-aicc:1/" + std::to_string(n);
    auto net = LoadNetwork(spec, BuiltinCatalog());
    ASSERT_TRUE(net.ok()) << spec << ": " << net.status().message();
    EXPECT_EQ(net->name, spec);
    EXPECT_TRUE(net->Validate(BuiltinCatalog()).ok()) << spec;
    EXPECT_EQ(net->TotalDevices(), ScaledDevices(full, n)) << spec;
    std::set<std::string> groups;
    for (const auto& node : net->nodes) groups.insert(GroupOf(node));
    EXPECT_EQ(groups, full_groups) << spec << ": every group keeps at least one node";
    ASSERT_EQ(net->centers.size(), full.centers.size());
    for (size_t c = 0; c < full.centers.size(); ++c) {
      EXPECT_EQ(net->centers.vec()[c].name, full.centers.vec()[c].name);
      EXPECT_EQ(net->centers.vec()[c].price_per_kwh, full.centers.vec()[c].price_per_kwh);
      EXPECT_EQ(net->centers.vec()[c].carbon_g_per_kwh, full.centers.vec()[c].carbon_g_per_kwh);
      EXPECT_EQ(net->centers.vec()[c].pue, full.centers.vec()[c].pue);
    }
    EXPECT_EQ(net->links.size(), full.links.size());
    EXPECT_EQ(net->regions.size(), full.regions.size());
  }
}

TEST(ChinaAiccScaled, KnownCounts) {
  // Worked out by hand from the file: 1/100 keeps 70 nodes (e.g. Lingang's
  // 400 A100 servers -> 4, 157 H800 servers -> 2, Chengdu's 150 -> 2).
  auto net = LoadNetworkSpec("china-aicc:1/100", "", BuiltinCatalog());
  ASSERT_TRUE(net.ok()) << net.status().message();
  EXPECT_EQ(net->name, "china-aicc:1/100");
  EXPECT_EQ(net->nodes.size(), 70u);
  EXPECT_EQ(net->TotalDevices(), 508);
  EXPECT_EQ(DevicesByModel(*net, "chengdu")["Ascend-910"], 16);
  EXPECT_EQ(DevicesByModel(*net, "shanghai-lingang")["H800-80GB"], 16);
  auto tenth = LoadNetworkSpec("china-aicc:1/10", "", BuiltinCatalog());
  ASSERT_TRUE(tenth.ok()) << tenth.status().message();
  EXPECT_EQ(tenth->TotalDevices(), 4816);
  // 1/1 is the full network under the scaled name.
  auto one = LoadNetwork("china-aicc:1/1", BuiltinCatalog());
  ASSERT_TRUE(one.ok()) << one.status().message();
  EXPECT_EQ(one->name, "china-aicc:1/1");
  EXPECT_EQ(one->TotalDevices(), ChinaAicc().TotalDevices());
}

TEST(ChinaAiccScaled, NodeNamesAreRenumbered) {
  auto net = LoadNetwork("china-aicc:1/100", BuiltinCatalog());
  ASSERT_TRUE(net.ok());
  std::set<std::string> names;
  for (const auto& n : net->nodes) names.insert(n.name);
  EXPECT_TRUE(names.count("lg-a100-0"));
  EXPECT_TRUE(names.count("lg-a100-3"));
  EXPECT_FALSE(names.count("lg-a100-4"));
}

TEST(ChinaAiccScaled, BadSpecsSayHowToWriteOne) {
  struct Case {
    const char* spec;
    std::vector<std::string> expect;
  };
  const Case cases[] = {
      {"china-aicc:1/0", {"china-aicc:1/0", "bad scale '1/0'", "N must be a whole number from 1", "NAME:1/N"}},
      {"china-aicc:2/3", {"bad scale '2/3'", "only 1/N is supported", "china-aicc:1/100"}},
      {"china-aicc:abc", {"bad scale 'abc'", "NAME:1/N"}},
      {"china-aicc:1/x", {"bad scale '1/x'"}},
      {"china-aicc:1/-5", {"bad scale '1/-5'", "N must be"}},
      {"china-aicc:", {"bad scale ''"}},
      {":2/3", {"no network named before ':'"}},
      {"no-such-net:1/10", {"'no-such-net:1/10' is neither a built-in network nor a readable file", "china-aicc"}},
  };
  for (const auto& c : cases) {
    for (int via_spec = 0; via_spec < 2; ++via_spec) {
      auto net = via_spec ? LoadNetworkSpec(c.spec, "", BuiltinCatalog()) : LoadNetwork(c.spec, BuiltinCatalog());
      ASSERT_FALSE(net.ok()) << c.spec;
      for (const auto& e : c.expect) EXPECT_THAT(net.status().message(), HasSubstr(e)) << c.spec;
    }
  }
}

class TempYaml {
 public:
  TempYaml(const std::string& stem, const std::string& content) {
    path_ = (std::filesystem::temp_directory_path() / (stem + "-" + std::to_string(::getpid()) + ".yaml")).string();
    std::ofstream(path_) << content;
  }
  ~TempYaml() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ChinaAiccScaled, FilesScaleToo) {
  std::string text(*FindEmbeddedFile("networks/china-aicc.yaml"));
  TempYaml f("suanli-china-aicc-copy", text);
  auto net = LoadNetworkSpec(f.path() + ":1/100", "", BuiltinCatalog());
  ASSERT_TRUE(net.ok()) << net.status().message();
  EXPECT_EQ(net->name, "china-aicc:1/100");
  EXPECT_EQ(net->TotalDevices(), 508);
  auto bad = LoadNetworkSpec(f.path() + ":3/4", "", BuiltinCatalog());
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("only 1/N is supported"));
}

// ---------------------------------------------------------------- regions and outages

constexpr const char* kTwoCenters = R"(
name: two
centers:
  - name: a
    pue: 1.2
    price_per_kwh: 0.5
    carbon_g_per_kwh: 500
    pools:
      - name: p
        nodes:
          - {count: 2, prefix: a-, accelerator: A800, devices: 8, cpu: 64, memory_gib: 512}
  - name: b
    pue: 1.1
    price_per_kwh: 0.3
    carbon_g_per_kwh: [100, 100, 100, 100, 100, 100, 90, 80, 70, 60, 50, 50,
                       50, 50, 60, 70, 80, 90, 100, 110, 110, 110, 100, 100]
    pools:
      - name: q
        nodes:
          - {count: 2, prefix: b-, accelerator: Ascend-910B, devices: 8, cpu: 192, memory_gib: 1024}
links:
  - {from: a, to: b, latency_ms: 5, bandwidth_gbps: 100}
regions:
  - {name: north, lat: 39.9, lon: 116.4}
  - {name: south, lat: 23.1, lon: 113.3}
outages:
  - {center: b, start_h: 48, duration_h: 6}
  - {center: a, start_s: 3600, duration_s: 90}
  - {center: b, start_h: 100, duration_s: 7200}
)";

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  auto pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}

TEST(NetworkRegionsOutages, Parse) {
  auto net = ParseNetworkYaml(kTwoCenters, "two.yaml", BuiltinCatalog());
  ASSERT_TRUE(net.ok()) << net.status().message();
  ASSERT_EQ(net->regions.size(), 2u);
  EXPECT_EQ(net->regions[1].name, "south");
  EXPECT_DOUBLE_EQ(net->regions[1].latitude, 23.1);
  EXPECT_DOUBLE_EQ(net->regions[1].longitude, 113.3);
  EXPECT_EQ(net->FindRegion("north"), 0u);
  ASSERT_EQ(net->outages.size(), 3u);
  EXPECT_EQ(net->outages[0].center, CenterId{1});
  EXPECT_EQ(net->outages[0].start, 48 * kHour);
  EXPECT_EQ(net->outages[0].duration, 6 * kHour);
  EXPECT_EQ(net->outages[1].center, CenterId{0});
  EXPECT_EQ(net->outages[1].start, Seconds(3600));
  EXPECT_EQ(net->outages[1].duration, Seconds(90));
  EXPECT_EQ(net->outages[2].start, 100 * kHour);
  EXPECT_EQ(net->outages[2].duration, 2 * kHour);
  EXPECT_DOUBLE_EQ(net->centers[CenterId{1}].carbon_g_per_kwh[10], 50);
  EXPECT_DOUBLE_EQ(net->centers[CenterId{1}].carbon_g_per_kwh[20], 110);
  // Scaling keeps outages and regions.
  auto half = ParseNetworkYaml(kTwoCenters, "two.yaml", BuiltinCatalog(), 2);
  ASSERT_TRUE(half.ok()) << half.status().message();
  EXPECT_EQ(half->nodes.size(), 2u);
  EXPECT_EQ(half->outages.size(), 3u);
  EXPECT_EQ(half->regions.size(), 2u);
}

struct BadCase {
  const char* what;
  std::string from, to;
  std::vector<std::string> expect;
};

void ExpectErrors(const std::string& base, const std::vector<BadCase>& cases) {
  for (const auto& bc : cases) {
    auto net = ParseNetworkYaml(Replace(base, bc.from, bc.to), "bad.yaml", BuiltinCatalog());
    ASSERT_FALSE(net.ok()) << bc.what;
    EXPECT_THAT(net.status().message(), HasSubstr("bad.yaml:")) << bc.what;
    for (const auto& e : bc.expect) EXPECT_THAT(net.status().message(), HasSubstr(e)) << bc.what;
  }
}

TEST(NetworkRegionsOutages, Errors) {
  ExpectErrors(
      kTwoCenters,
      {
          {"outage of a missing center",
           "{center: b, start_h: 48",
           "{center: mars, start_h: 48",
           {"outages[0]: center: no center named 'mars' (centers: a, b)"}},
          {"start twice",
           "start_h: 48,",
           "start_h: 48, start_s: 5,",
           {"outages[0]", "give exactly one of 'start_s' (seconds) and 'start_h' (hours)"}},
          {"no duration", ", duration_h: 6}", "}", {"outages[0]", "'duration_s'", "'duration_h'"}},
          {"zero duration", "duration_h: 6", "duration_h: 0", {"outages[0]: duration_h: expected a number > 0"}},
          {"negative start", "start_h: 48", "start_h: -1", {"outages[0]: start_h: expected a number >= 0"}},
          {"overlapping outages",
           "start_h: 100,",
           "start_h: 50,",
           {"outages[2]: overlaps an earlier outage of center 'b'"}},
          {"unknown outage key", "duration_h: 6}", "duration_h: 6, why: storm}", {"outages[0]: why: unknown key"}},
          {"duplicate region",
           "{name: south,",
           "{name: north,",
           {"regions[1] (north): name: duplicate region name 'north'"}},
          {"bad region latitude",
           "lat: 23.1, lon: 113.3",
           "lat: 123.1, lon: 113.3",
           {"regions[1] (south): lat: expected a latitude"}},
          {"region without coordinates", ", lat: 23.1, lon: 113.3", "", {"regions[1] (south): lat: missing"}},
          {"regions not a list",
           "regions:\n  - {name: north, lat: 39.9, lon: 116.4}\n  - {name: south, lat: 23.1, lon: 113.3}\n",
           "regions: north\n",
           {"regions: expected a list"}},
      });
}

// ---------------------------------------------------------------- bad network files

TEST(NetworkFileErrors, NameTheFileAndThePlace) {
  ExpectErrors(
      kTwoCenters,
      {
          {"unknown accelerator",
           "accelerator: Ascend-910B,",
           "accelerator: Ascend-920,",
           {"centers[1] (b): pools[0] (q): nodes[0]: accelerator: unknown accelerator model 'Ascend-920'",
            "nodes named 'b-*'", "known models:", "`suanli network models`"}},
          {"zero count",
           "count: 2, prefix: b-",
           "count: 0, prefix: b-",
           {"centers[1] (b): pools[0] (q): nodes[0]: count"}},
          {"negative count",
           "count: 2, prefix: a-",
           "count: -4, prefix: a-",
           {"centers[0] (a): pools[0] (p): nodes[0]: count"}},
          {"zero devices",
           "devices: 8, cpu: 64",
           "devices: 0, cpu: 64",
           {"nodes[0]: devices: expected a whole number >= 1"}},
          {"negative devices", "devices: 8, cpu: 64", "devices: -8, cpu: 64", {"nodes[0]: devices"}},
          {"zero cpu", "cpu: 64", "cpu: 0", {"centers[0] (a): pools[0] (p): nodes[0]: cpu: expected a number > 0"}},
          {"negative memory",
           "memory_gib: 1024",
           "memory_gib: -1",
           {"centers[1] (b): pools[0] (q): nodes[0]: memory_gib"}},
          {"link to a missing center", "to: b,", "to: xian,", {"links[0]: to: no center named 'xian'"}},
          {"link from a missing center", "from: a,", "from: lhasa,", {"links[0]: from: no center named 'lhasa'"}},
          {"duplicate center", "  - name: b", "  - name: a", {"centers[1] (a): name: duplicate center name 'a'"}},
      });
}

TEST(NetworkFileErrors, FilesAreNamedByPath) {
  TempYaml f("suanli-bad-network", Replace(kTwoCenters, "{center: b, start_h: 48", "{center: mars, start_h: 48"));
  for (const std::string& spec : {f.path(), f.path() + ":1/2"}) {
    auto net = LoadNetworkSpec(spec, "", BuiltinCatalog());
    ASSERT_FALSE(net.ok()) << spec;
    EXPECT_THAT(net.status().message(), HasSubstr(f.path() + ":"));
    EXPECT_THAT(net.status().message(), HasSubstr("no center named 'mars'"));
  }
}

// ---------------------------------------------------------------- appending workloads

TEST(AppendWorkloadPlaces, MatchedByName) {
  Workload a, b;
  Job ja;
  ja.home = static_cast<uint16_t>(a.places.Intern("wuhan"));
  ja.region = static_cast<uint16_t>(a.places.Intern("north"));
  a.Add(ja, "a0");
  b.places.Intern("unused");
  Job jb;
  jb.submit = 5;
  jb.home = static_cast<uint16_t>(b.places.Intern("yaan"));
  jb.data_at = static_cast<uint16_t>(b.places.Intern("wuhan"));
  jb.region = static_cast<uint16_t>(b.places.Intern("north"));
  b.Add(jb, "b0");
  Job jc;
  jc.submit = 1;  // no places
  b.Add(jc, "b1");
  AppendWorkload(&a, b);
  ASSERT_EQ(a.jobs.size(), 3u);
  auto place = [&](uint16_t p) { return p == kNoPlace ? std::string("-") : a.places.Name(p); };
  EXPECT_EQ(a.JobName(JobId{0}), "a0");
  EXPECT_EQ(place(a.jobs[JobId{0}].home), "wuhan");
  EXPECT_EQ(place(a.jobs[JobId{0}].region), "north");
  EXPECT_EQ(a.JobName(JobId{1}), "b1");
  EXPECT_EQ(a.jobs[JobId{1}].home, kNoPlace);
  EXPECT_EQ(a.jobs[JobId{1}].data_at, kNoPlace);
  EXPECT_EQ(a.jobs[JobId{1}].region, kNoPlace);
  EXPECT_EQ(a.JobName(JobId{2}), "b0");
  EXPECT_EQ(place(a.jobs[JobId{2}].home), "yaan");
  EXPECT_EQ(place(a.jobs[JobId{2}].data_at), "wuhan");
  EXPECT_EQ(place(a.jobs[JobId{2}].region), "north");
  EXPECT_EQ(a.places.size(), 3u);  // wuhan, north, yaan: b's unused name is not copied
}

// ---------------------------------------------------------------- the command line

TEST(ChinaAiccCli, ShowScaledAndModels) {
  using testing::RunSuanli;
  auto s = RunSuanli("network show china-aicc:1/100");
  ASSERT_EQ(s.code, 0) << s.out;
  EXPECT_THAT(s.out, HasSubstr("network china-aicc:1/100: 11 centers"));
  EXPECT_THAT(s.out, HasSubstr("70 nodes, 508 accelerators"));
  EXPECT_THAT(s.out, HasSubstr("6 user regions"));
  auto bad = RunSuanli("network show china-aicc:2/3");
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_THAT(bad.out, HasSubstr("only 1/N is supported"));
  auto m = RunSuanli("network models");
  ASSERT_EQ(m.code, 0) << m.out;
  for (const char* model : {"Ascend-910B", "MTT-S4000", "Zhikai-100", "V100M32"}) EXPECT_THAT(m.out, HasSubstr(model));
}

}  // namespace
}  // namespace suanli
