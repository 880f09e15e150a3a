// Tests for the accelerator catalog, the network format and their loaders.
#include "io/model_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "io/embedded.h"

namespace suanli {
namespace {

using ::testing::HasSubstr;

// ---------------------------------------------------------------- catalog

TEST(Catalog, BuiltinHasEveryListedModel) {
  const Catalog& c = BuiltinCatalog();
  for (const char* name :
       {"A100-80GB",   "A800-80GB",  "H100-80GB", "H800-80GB",  "V100-32GB",   "V100-16GB", "P100",
        "K80",         "T4",         "A10",       "Ascend-910", "Ascend-910B", "BR100",     "BR104",
        "Tiangai-100", "Zhikai-100", "MTT-S4000", "MLU370-X8",  "G2",          "G3",        "MISC"}) {
    auto id = c.Find(name);
    ASSERT_TRUE(id) << name;
    EXPECT_EQ(c.model(*id).name, name);
  }
}

TEST(Catalog, BuiltinSpeedsArePositiveAndReferenceIsOne) {
  const Catalog& c = BuiltinCatalog();
  for (const auto& m : c.models())
    for (int k = 0; k < kNumClasses; ++k) EXPECT_GT(m.speed[k], 0) << m.name << " class " << k;
  const auto& ref = c.model(*c.Find("A100-80GB"));
  for (double s : ref.speed) EXPECT_EQ(s, 1.0);
}

TEST(Catalog, BuiltinAliasesResolve) {
  const Catalog& c = BuiltinCatalog();
  auto name_of = [&](const char* alias) {
    auto id = c.Find(alias);
    return id ? c.model(*id).name : std::string("<none>");
  };
  EXPECT_EQ(name_of("V100M32"), "V100-32GB");
  EXPECT_EQ(name_of("V100M16"), "V100-16GB");
  EXPECT_EQ(name_of("v100"), "V100-16GB");
  EXPECT_EQ(name_of("V100"), "V100-16GB");
  EXPECT_EQ(name_of("p100"), "P100");
  EXPECT_EQ(name_of("k80"), "K80");
  EXPECT_EQ(name_of("A100"), "A100-80GB");
  EXPECT_EQ(name_of("A100-SXM4-80GB"), "A100-80GB");
  EXPECT_EQ(name_of("A800-SXM4-80GB"), "A800-80GB");
  EXPECT_EQ(name_of("H800"), "H800-80GB");
  EXPECT_EQ(name_of("BI-V100"), "Tiangai-100");
  EXPECT_EQ(name_of("MR-V100"), "Zhikai-100");
  EXPECT_EQ(name_of("G2"), "G2");
  EXPECT_EQ(name_of("misc"), "MISC");
  EXPECT_EQ(name_of("GPU-series-1"), "GPU-series-1");
}

TEST(Catalog, BuiltinStacks) {
  const Catalog& c = BuiltinCatalog();
  auto cuda = c.FindStack("cuda");
  auto cann = c.FindStack("cann");
  ASSERT_TRUE(cuda && cann);
  ModelMask m = c.ModelsForStacks(StackMask{1} << *cuda);
  auto runs = [&](const char* model) { return (m >> *c.Find(model) & 1) != 0; };
  EXPECT_TRUE(runs("A100-80GB"));
  EXPECT_TRUE(runs("Tiangai-100"));  // CUDA-compatible path
  EXPECT_TRUE(runs("BR100"));
  EXPECT_FALSE(runs("Ascend-910B"));
  EXPECT_FALSE(runs("MTT-S4000"));
  EXPECT_FALSE(runs("MLU370-X8"));
  EXPECT_TRUE(c.model(*c.Find("Ascend-910")).stacks & (StackMask{1} << *cann));
  EXPECT_TRUE(c.model(*c.Find("Zhikai-100")).inference_only);
  EXPECT_FALSE(c.model(*c.Find("A100-80GB")).inference_only);
}

TEST(Catalog, GavelAnchoredSpeedsAreOrdered) {
  const Catalog& c = BuiltinCatalog();
  const auto& v100 = c.model(*c.Find("V100-16GB"));
  const auto& p100 = c.model(*c.Find("P100"));
  const auto& k80 = c.model(*c.Find("K80"));
  for (int k = 0; k < kNumClasses; ++k) {
    EXPECT_LT(v100.speed[k], 1.0);
    EXPECT_LT(p100.speed[k], v100.speed[k]);
    EXPECT_LT(k80.speed[k], p100.speed[k]);
  }
  EXPECT_NEAR(v100.speed[static_cast<int>(WorkloadClass::kCnn)], 1200.0 / 2470.0, 0.001);
}

// Every figure of every built-in model has a source and every speed a basis.
TEST(Catalog, BuiltinFiguresAllHaveSources) {
  auto text = FindEmbeddedFile("accelerators.yaml");
  ASSERT_TRUE(text);
  YAML::Node doc = YAML::Load(std::string(*text));
  const std::set<std::string> bases = {"measured", "derived", "assumed", "reference"};
  auto scalar = [](const YAML::Node& n, const std::string& key) {
    return n.IsMap() && n[key].IsDefined() && n[key].IsScalar();
  };
  for (const auto& m : doc["models"]) {
    std::string name = m["name"].as<std::string>();
    const YAML::Node& src = m["sources"];
    ASSERT_TRUE(src.IsMap()) << name;
    for (const char* f : {"tflops16", "memory_gb", "power_w", "idle_power_w"})
      EXPECT_TRUE(scalar(src, f)) << name << " has no source for " << f;
    for (const char* cls : {"cnn", "transformer", "rl", "science", "other"}) {
      EXPECT_TRUE(scalar(src, "speed") || scalar(src, std::string("speed.") + cls))
          << name << " has no source for speed." << cls;
      ASSERT_TRUE(scalar(m["speed_basis"], cls)) << name << " speed_basis." << cls;
      EXPECT_TRUE(bases.count(m["speed_basis"][cls].as<std::string>())) << name;
    }
    bool opaque = m["opaque"] && m["opaque"].as<bool>();
    if (!opaque && m["tflops16"].as<std::string>() != "unknown") {
      EXPECT_GT(m["tflops16"].as<double>(), 0) << name;
      EXPECT_GT(m["power_w"].as<double>(), 0) << name;
    }
  }
}

constexpr const char* kMiniCatalog = R"(
reference: Ref
stacks: [cuda, {name: cann, about: "Ascend"}]
models:
  - name: Ref
    aliases: [R1]
    vendor: X
    tflops16: 100
    memory_gb: 80
    power_w: 400
    stacks: [cuda]
    speed: {cnn: 1, transformer: 1, rl: 1, science: 1, other: 1}
  - name: Slow
    vendor: Y
    tflops16: unknown
    memory_gb: 32
    power_w: 300
    idle_power_w: 40
    stacks: [cann]
    inference_only: true
    speed: {cnn: 0.5, transformer: 0.25, rl: 0.5, science: 0.5, other: 0.5}
    speed_basis: {cnn: measured}
    sources: {memory_gb: "data sheet", speed.cnn: "bench"}
)";

TEST(Catalog, ParsesMiniCatalog) {
  auto c = ParseCatalogYaml(kMiniCatalog, "mini.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ(c->stacks().size(), 2u);
  const auto& ref = c->model(*c->Find("r1"));
  EXPECT_EQ(ref.name, "Ref");
  EXPECT_DOUBLE_EQ(ref.idle_power_w, 60);  // default: 15% of board power
  const auto& slow = c->model(*c->Find("Slow"));
  EXPECT_EQ(slow.tflops16, 0);
  EXPECT_DOUBLE_EQ(slow.idle_power_w, 40);
  EXPECT_TRUE(slow.inference_only);
  EXPECT_DOUBLE_EQ(slow.speed[static_cast<int>(WorkloadClass::kTransformer)], 0.25);
  EXPECT_EQ(slow.stacks, StackMask{1} << *c->FindStack("cann"));
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  auto pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}

struct BadCase {
  const char* what;
  const char* from;
  const char* to;
  std::vector<std::string> expect;  // substrings of the message
};

TEST(Catalog, BadCatalogsNameFileAndField) {
  const std::vector<BadCase> cases = {
      {"speed not a number",
       "speed: {cnn: 0.5,",
       "speed: {cnn: fast,",
       {"my.yaml:", "models[1] (Slow): speed.cnn: expected a number > 0, got 'fast'"}},
      {"zero speed", "transformer: 0.25", "transformer: 0", {"models[1] (Slow): speed.transformer"}},
      {"missing class",
       "science: 0.5, other: 0.5}",
       "other: 0.5}",
       {"models[1] (Slow): speed.science: missing required field"}},
      {"unknown class",
       "science: 0.5, other: 0.5}",
       "science: 0.5, other: 0.5, vision: 1}",
       {"speed.vision: unknown key"}},
      {"unknown model key",
       "    vendor: Y",
       "    vendor: Y\n    tflops: 5",
       {"models[1] (Slow): tflops: unknown key; did you mean 'tflops16'?"}},
      {"unknown top key", "reference: Ref", "reference: Ref\nmodel: []", {"model: unknown key"}},
      {"unknown stack",
       "stacks: [cann]",
       "stacks: [cnn]",
       {"models[1] (Slow): stacks: unknown stack 'cnn'", "did you mean 'cann'?"}},
      {"negative power", "power_w: 300", "power_w: -3", {"models[1] (Slow): power_w: expected a number >= 0"}},
      {"idle above board", "idle_power_w: 40", "idle_power_w: 400", {"idle_power_w: idle power 400 W"}},
      {"bad basis",
       "speed_basis: {cnn: measured}",
       "speed_basis: {cnn: guessed}",
       {"speed_basis.cnn: expected measured, derived, assumed or reference"}},
      {"unknown source key", "speed.cnn: \"bench\"", "speed.cpu: \"bench\"", {"sources.speed.cpu: unknown key"}},
      {"duplicate model", "name: Slow", "name: REF", {"models[1] (REF)", "defined twice"}},
      {"alias taken", "name: Slow", "name: Slow\n    aliases: [r1]", {"models[1] (Slow)", "alias 'r1'"}},
      {"alias repeats name", "aliases: [R1]", "aliases: [ref]", {"models[0] (Ref): aliases", "'ref' repeats"}},
      {"missing vendor", "    vendor: Y\n", "", {"models[1] (Slow): vendor: missing required field"}},
      {"bad reference", "reference: Ref", "reference: Slow", {"reference: the reference model 'Slow'"}},
      {"duplicate key", "    vendor: Y", "    vendor: Y\n    vendor: Z", {"models[1] (Slow): vendor: key given twice"}},
      {"syntax error", "stacks: [cuda,", "stacks: [cuda,,]", {"mini.yaml:", "YAML syntax error"}},
  };
  for (const auto& bc : cases) {
    std::string file = bc.what == std::string("syntax error") ? "mini.yaml" : "my.yaml";
    auto c = ParseCatalogYaml(Replace(kMiniCatalog, bc.from, bc.to), file);
    ASSERT_FALSE(c.ok()) << bc.what;
    for (const auto& e : bc.expect) EXPECT_THAT(c.status().message(), HasSubstr(e)) << bc.what;
  }
}

TEST(Catalog, ErrorsCarryLineNumbers) {
  auto c = ParseCatalogYaml(Replace(kMiniCatalog, "cnn: 0.5,", "cnn: fast,"), "my.yaml");
  ASSERT_FALSE(c.ok());
  // The bad value is on line 21 of kMiniCatalog (which starts with a newline).
  EXPECT_THAT(c.status().message(), HasSubstr("my.yaml:21: models[1] (Slow): speed.cnn"));
}

// ---------------------------------------------------------------- networks

TEST(Network, BuiltinNamesIncludeTheShippedNetworks) {
  auto names = BuiltinNetworkNames();
  for (const char* n : {"uniform-100k", "tiny", "gavel-philly", "cn-alliance", "china-aicc"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
}

TEST(Network, EveryBuiltinLoadsAndValidates) {
  for (const auto& n : BuiltinNetworkNames()) {
    auto net = LoadNetwork(n, BuiltinCatalog());
    ASSERT_TRUE(net.ok()) << n << ": " << net.status().message();
    EXPECT_EQ(net->name, n);
    EXPECT_TRUE(net->Validate(BuiltinCatalog()).ok());
  }
}

TEST(Network, Uniform100kShape) {
  const Catalog& c = BuiltinCatalog();
  auto net = LoadNetwork("uniform-100k", c);
  ASSERT_TRUE(net.ok()) << net.status().message();
  EXPECT_EQ(net->nodes.size(), 12500u);
  EXPECT_EQ(net->TotalDevices(), 100000);
  EXPECT_EQ(net->TotalDevices(*c.Find("A100-80GB")), 100000);
  EXPECT_EQ(net->centers.size(), 1u);
  EXPECT_EQ(net->num_racks, 391u);  // ceil(12500 / 32)
  EXPECT_EQ(net->num_pods, 49u);    // ceil(391 / 8)
  const Node& first = net->nodes.front();
  EXPECT_EQ(first.name, "node-00000");
  EXPECT_EQ(first.cpu_milli, 128000);
  EXPECT_EQ(first.mem_mib, 1024 * 1024);
  EXPECT_EQ(net->nodes[NodeId{31}].rack, 0u);
  EXPECT_EQ(net->nodes[NodeId{32}].rack, 1u);
  EXPECT_EQ(net->nodes[NodeId{255}].pod, 0u);
  EXPECT_EQ(net->nodes[NodeId{256}].pod, 1u);
  EXPECT_EQ(net->nodes.back().name, "node-12499");
}

TEST(Network, GavelPhillyFitsTheLargestGavelJob) {
  const Catalog& c = BuiltinCatalog();
  auto net = LoadNetwork("gavel-philly", c);
  ASSERT_TRUE(net.ok()) << net.status().message();
  EXPECT_EQ(net->TotalDevices(*c.Find("V100")), 300);
  EXPECT_EQ(net->TotalDevices(*c.Find("P100")), 300);
  EXPECT_EQ(net->TotalDevices(*c.Find("K80")), 300);
  EXPECT_GE(net->TotalDevices(*c.Find("V100")), 64);
  EXPECT_EQ(net->MaxDevicesPerNode(), 4);
}

TEST(Network, TinyExpandsTimeOfUsePriceAndHourlyCarbon) {
  const Catalog& c = BuiltinCatalog();
  auto net = LoadNetwork("tiny", c);
  ASSERT_TRUE(net.ok()) << net.status().message();
  ASSERT_EQ(net->centers.size(), 2u);
  const Center& east = net->centers[CenterId{0}];
  // peak 8-11 and 18-21, valley 23-7 (wrapping midnight), flat otherwise.
  for (int h = 0; h < 24; ++h) {
    double want = 0.6;
    if ((h >= 8 && h < 11) || (h >= 18 && h < 21)) want = 1.0;
    if (h >= 23 || h < 7) want = 0.3;
    EXPECT_DOUBLE_EQ(east.price_per_kwh[h], want) << "hour " << h;
    EXPECT_DOUBLE_EQ(east.carbon_g_per_kwh[h], 570.3);
  }
  const Center& west = net->centers[CenterId{1}];
  EXPECT_DOUBLE_EQ(west.price_per_kwh[5], 0.35);
  EXPECT_DOUBLE_EQ(west.carbon_g_per_kwh[0], 200);
  EXPECT_DOUBLE_EQ(west.carbon_g_per_kwh[12], 90);
  EXPECT_DOUBLE_EQ(west.pue, 1.1);
  EXPECT_DOUBLE_EQ(east.latitude, 31.2);
  ASSERT_EQ(net->links.size(), 1u);
  EXPECT_EQ(net->links[0].a, CenterId{0});
  EXPECT_EQ(net->links[0].b, CenterId{1});
  // CPU-only node, and file order of nodes.
  ASSERT_EQ(net->nodes.size(), 7u);
  EXPECT_EQ(net->nodes[NodeId{4}].name, "east-cpu-0");
  EXPECT_EQ(net->nodes[NodeId{4}].model, kNoModel);
  EXPECT_EQ(net->nodes[NodeId{4}].devices, 0);
  EXPECT_EQ(net->nodes[NodeId{5}].name, "west-v100-0");
  EXPECT_EQ(net->nodes[NodeId{5}].model, *c.Find("V100-32GB"));
  EXPECT_EQ(net->nodes[NodeId{5}].center, CenterId{1});
  EXPECT_EQ(net->TotalDevices(), 48);
  // Racks: east gpu 4 nodes at 2 per rack = racks 0,1; cpu group rack 2; west rack 3.
  EXPECT_EQ(net->nodes[NodeId{1}].rack, 0u);
  EXPECT_EQ(net->nodes[NodeId{2}].rack, 1u);
  EXPECT_EQ(net->nodes[NodeId{4}].rack, 2u);
  EXPECT_EQ(net->nodes[NodeId{6}].rack, 3u);
  EXPECT_EQ(net->num_racks, 4u);
  EXPECT_EQ(net->num_pods, 3u);
}

constexpr const char* kMiniNetwork = R"(
name: mini
centers:
  - name: a
    region: r1
    pue: 1.2
    price_per_kwh: {peak: 0.9, flat: 0.5, valley: 0.2, peak_hours: [9, 10, "17-19"], valley_hours: ["0-6"]}
    carbon_g_per_kwh: 500
    pools:
      - name: p
        nodes:
          - {count: 3, prefix: a-, accelerator: A100, devices: 8, cpu: 64, memory_gib: 256}
  - name: b
    pue: 1.1
    price_per_kwh: 0.4
    carbon_g_per_kwh: 100
    pools:
      - name: q
        nodes:
          - {count: 2, prefix: b-, accelerator: v100m32, devices: 4, cpu: 32, memory_gib: 128}
links:
  - {from: a, to: b, latency_ms: 10, bandwidth_gbps: 100}
)";

TEST(Network, ParsesMiniNetwork) {
  auto net = ParseNetworkYaml(kMiniNetwork, "mini.yaml", BuiltinCatalog());
  ASSERT_TRUE(net.ok()) << net.status().message();
  EXPECT_EQ(net->name, "mini");
  EXPECT_EQ(net->TotalDevices(), 32);
  const auto& price = net->centers[CenterId{0}].price_per_kwh;
  EXPECT_DOUBLE_EQ(price[9], 0.9);
  EXPECT_DOUBLE_EQ(price[10], 0.9);
  EXPECT_DOUBLE_EQ(price[11], 0.5);
  EXPECT_DOUBLE_EQ(price[17], 0.9);
  EXPECT_DOUBLE_EQ(price[18], 0.9);
  EXPECT_DOUBLE_EQ(price[19], 0.5);
  EXPECT_DOUBLE_EQ(price[0], 0.2);
  EXPECT_DOUBLE_EQ(price[5], 0.2);
  EXPECT_DOUBLE_EQ(price[6], 0.5);
  EXPECT_EQ(net->nodes[NodeId{0}].name, "a-0");
  EXPECT_EQ(net->nodes[NodeId{4}].name, "b-1");
  EXPECT_EQ(net->pools.size(), 2u);
  EXPECT_EQ(net->pools[PoolId{1}].center, CenterId{1});
}

TEST(Network, BadNetworksNameFileAndField) {
  const std::vector<BadCase> cases = {
      {"unknown accelerator",
       "accelerator: A100,",
       "accelerator: A1000,",
       {"bad.yaml:", "centers[0] (a): pools[0] (p): nodes[0]: accelerator: unknown accelerator model 'A1000'",
        "did you mean 'A100' (A100-80GB)?", "known models: A100-80GB"}},
      {"zero count",
       "count: 3",
       "count: 0",
       {"centers[0] (a): pools[0] (p): nodes[0]: count: expected a whole number"}},
      {"negative count", "count: 3", "count: -2", {"nodes[0]: count"}},
      {"zero cpu", "cpu: 64", "cpu: 0", {"nodes[0]: cpu: expected a number > 0"}},
      {"negative memory", "memory_gib: 256", "memory_gib: -1", {"nodes[0]: memory_gib: expected a number > 0"}},
      {"zero devices", "devices: 8", "devices: 0", {"nodes[0]: devices: expected a whole number >= 1, got '0'"}},
      {"too many devices",
       "devices: 8",
       "devices: 64",
       {"centers[0] (a): pools[0] (p): nodes[0]: devices: at most 32 devices per node, got 64"}},
      {"pue below one", "pue: 1.2", "pue: 0.9", {"centers[0] (a): pue: expected a number >= 1, got '0.9'"}},
      {"link to missing center", "to: b,", "to: c,", {"links[0]: to: no center named 'c' (centers: a, b)"}},
      {"link to itself", "to: b,", "to: a,", {"links[0]: to: a link must join two different centers"}},
      {"zero bandwidth", "bandwidth_gbps: 100", "bandwidth_gbps: 0", {"links[0]: bandwidth_gbps"}},
      {"duplicate center", "  - name: b", "  - name: a", {"centers[1] (a): name: duplicate center name 'a'"}},
      {"unknown center key",
       "    pue: 1.1",
       "    pue: 1.1\n    puee: 1",
       {"centers[1] (b): puee: unknown key; did you mean 'pue'?"}},
      {"unknown group key",
       "devices: 4,",
       "devices: 4, gpus: 4,",
       {"centers[1] (b): pools[0] (q): nodes[0]: gpus: unknown key"}},
      {"unknown top key", "name: mini", "name: mini\nlink: []", {"link: unknown key; did you mean 'links'?"}},
      {"unknown tou key", "valley: 0.2,", "valey: 0.2,", {"centers[0] (a): price_per_kwh.valey: unknown key"}},
      {"overlapping tou hours",
       "valley_hours: [\"0-6\"]",
       "valley_hours: [\"0-10\"]",
       {"price_per_kwh.valley_hours: hour 9 is also in peak_hours"}},
      {"bad hour", "peak_hours: [9,", "peak_hours: [25,", {"price_per_kwh.peak_hours[0]: expected an hour 0-23"}},
      {"short hourly list",
       "carbon_g_per_kwh: 100",
       "carbon_g_per_kwh: [1, 2, 3]",
       {"centers[1] (b): carbon_g_per_kwh: expected 24 hourly values"}},
      {"negative price",
       "price_per_kwh: 0.4",
       "price_per_kwh: -0.4",
       {"centers[1] (b): price_per_kwh: expected a number >= 0"}},
      {"missing pue", "    pue: 1.1\n", "", {"centers[1] (b): pue: missing required field"}},
      {"devices on cpu node", "accelerator: v100m32, ", "", {"nodes[0]: devices: devices given for a CPU-only group"}},
      {"duplicate node names", "prefix: b-", "prefix: a-", {"prefix: node name 'a-0' is used twice"}},
      {"duplicate link",
       "links:\n",
       "links:\n  - {from: b, to: a, latency_ms: 1, bandwidth_gbps: 1}\n",
       {"links[1]: these two centers are already linked"}},
      {"bad latitude",
       "    region: r1",
       "    region: r1\n    lat: 95\n    lon: 10",
       {"centers[0] (a): lat: expected a latitude"}},
      {"edge not bool",
       "    region: r1",
       "    region: r1\n    edge: maybe",
       {"centers[0] (a): edge: expected true or false"}},
      {"no pools",
       "    pools:\n      - name: q\n",
       "    pools: []\n    x:\n      - name: q\n",
       {"centers[1] (b): x: unknown key"}},
  };
  for (const auto& bc : cases) {
    auto net = ParseNetworkYaml(Replace(kMiniNetwork, bc.from, bc.to), "bad.yaml", BuiltinCatalog());
    ASSERT_FALSE(net.ok()) << bc.what;
    EXPECT_THAT(net.status().message(), HasSubstr("bad.yaml")) << bc.what;
    for (const auto& e : bc.expect) EXPECT_THAT(net.status().message(), HasSubstr(e)) << bc.what;
  }
}

// A group may name its nodes as its center's resource manager does (an
// agent's center reports them by those names).
TEST(Network, AGroupMayNameItsNodes) {
  const std::string named = Replace(kMiniNetwork, "{count: 2, prefix: b-,", "{names: [n1, gpu-x],");
  auto net = ParseNetworkYaml(named, "named.yaml", BuiltinCatalog());
  ASSERT_TRUE(net.ok()) << net.status().message();
  ASSERT_EQ(net->nodes.size(), 5u);
  EXPECT_EQ(net->nodes[NodeId{3}].name, "n1");
  EXPECT_EQ(net->nodes[NodeId{4}].name, "gpu-x");
  EXPECT_EQ(net->nodes[NodeId{4}].devices, 4);
  for (const auto& [to, want] : std::vector<std::pair<std::string, std::string>>{
           {"{names: [n1, n1],", "node name 'n1' is used twice"},
           {"{names: [],", "expected 1..1000000 node names"},
           {"{names: [n1], count: 2, prefix: b-,", "give either `names` or `count` and `prefix`, not both"},
           {"{names: [a-0],", "node name 'a-0' is used twice"}}) {
    auto bad = ParseNetworkYaml(Replace(kMiniNetwork, "{count: 2, prefix: b-,", to), "bad.yaml", BuiltinCatalog());
    ASSERT_FALSE(bad.ok()) << to;
    EXPECT_THAT(bad.status().message(), HasSubstr(want)) << to;
  }
}

TEST(Network, UnknownSpecListsBuiltins) {
  auto net = LoadNetwork("no-such-network", BuiltinCatalog());
  ASSERT_FALSE(net.ok());
  EXPECT_THAT(net.status().message(), HasSubstr("no-such-network"));
  EXPECT_THAT(net.status().message(), HasSubstr("uniform-100k"));
  EXPECT_THAT(net.status().message(), HasSubstr("tiny"));
}

class TempFile {
 public:
  TempFile(const std::string& stem, const std::string& content) {
    path_ = (std::filesystem::temp_directory_path() / (stem + "-" + std::to_string(::getpid()) + ".yaml")).string();
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(Network, FileRoundTripMatchesParse) {
  std::string text(*FindEmbeddedFile("networks/tiny.yaml"));
  TempFile f("suanli-network-roundtrip", Replace(text, "name: tiny\n", ""));
  auto from_file = LoadNetwork(f.path(), BuiltinCatalog());
  ASSERT_TRUE(from_file.ok()) << from_file.status().message();
  auto builtin = LoadNetwork("tiny", BuiltinCatalog());
  ASSERT_TRUE(builtin.ok());
  // Without a `name:` the network is named after the file.
  EXPECT_EQ(from_file->name, "suanli-network-roundtrip-" + std::to_string(::getpid()));
  ASSERT_EQ(from_file->nodes.size(), builtin->nodes.size());
  for (size_t i = 0; i < builtin->nodes.size(); ++i) {
    const Node &a = from_file->nodes.vec()[i], &b = builtin->nodes.vec()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.model, b.model);
    EXPECT_EQ(a.devices, b.devices);
    EXPECT_EQ(a.rack, b.rack);
    EXPECT_EQ(a.pod, b.pod);
    EXPECT_EQ(a.cpu_milli, b.cpu_milli);
    EXPECT_EQ(a.mem_mib, b.mem_mib);
  }
  EXPECT_EQ(from_file->centers[CenterId{0}].price_per_kwh, builtin->centers[CenterId{0}].price_per_kwh);
  EXPECT_EQ(from_file->centers[CenterId{1}].carbon_g_per_kwh, builtin->centers[CenterId{1}].carbon_g_per_kwh);
}

TEST(Network, FileErrorsNameThePath) {
  TempFile f("suanli-network-bad", Replace(kMiniNetwork, "pue: 1.2", "pue: 0.5"));
  auto net = LoadNetwork(f.path(), BuiltinCatalog());
  ASSERT_FALSE(net.ok());
  EXPECT_THAT(net.status().message(), HasSubstr(f.path() + ":"));
  EXPECT_THAT(net.status().message(), HasSubstr("centers[0] (a): pue"));
}

TEST(Catalog, FileRoundTrip) {
  TempFile f("suanli-catalog", kMiniCatalog);
  auto c = LoadCatalogFile(f.path());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->size(), 2u);
  // A network can be checked against a user catalog.
  auto net = ParseNetworkYaml(Replace(kMiniNetwork, "accelerator: A100,", "accelerator: r1,"), "n.yaml", *c);
  EXPECT_FALSE(net.ok());  // v100m32 is not in the mini catalog
  EXPECT_THAT(net.status().message(), HasSubstr("unknown accelerator model 'v100m32'"));
  EXPECT_THAT(net.status().message(), HasSubstr("known models: Ref, Slow"));

  auto missing = LoadCatalogFile(f.path() + ".missing");
  EXPECT_FALSE(missing.ok());
}

}  // namespace
}  // namespace suanli
