// The accelerator catalog loader (data/accelerators.yaml; docs/catalog.md),
// the built-in catalog and network lookup. The network format itself is
// parsed in yaml_network.cc.
#include "io/model_loader.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "base/strings.h"
#include "io/embedded.h"
#include "io/line_reader.h"
#include "io/yaml_fields.h"

namespace suanli {
namespace {

constexpr const char* kSpeedBases[] = {"measured", "derived", "assumed", "reference"};

// speed: {cnn: 1.0, ...}: every class, each > 0.
Status ParseSpeed(const yaml::Value& v, std::array<double, kNumClasses>* speed) {
  SUANLI_ASSIGN_OR_RETURN(yaml::Map m, yaml::Map::Open(v, {"cnn", "transformer", "rl", "science", "other"}));
  for (int c = 0; c < kNumClasses; ++c) {
    auto name = ClassName(static_cast<WorkloadClass>(c));
    SUANLI_ASSIGN_OR_RETURN(yaml::Value s, m.Require(name));
    SUANLI_ASSIGN_OR_RETURN((*speed)[c], s.NumberAbove(0));
  }
  return Status::Ok();
}

// speed_basis: {cnn: measured, ...}: optional per class; values from kSpeedBases.
Status CheckSpeedBasis(const yaml::Value& v) {
  SUANLI_ASSIGN_OR_RETURN(yaml::Map m, yaml::Map::Open(v, {"cnn", "transformer", "rl", "science", "other"}));
  for (const auto& [key, node] : m.entries()) {
    yaml::Value b = m.Get(key);
    SUANLI_ASSIGN_OR_RETURN(std::string s, b.String());
    if (std::find(std::begin(kSpeedBases), std::end(kSpeedBases), s) == std::end(kSpeedBases))
      return b.Error(fmt::format("expected measured, derived, assumed or reference, got '{}'", s));
  }
  return Status::Ok();
}

// sources: {tflops16: "...", speed.cnn: "...", ...}: free text per figure.
Status CheckSources(const yaml::Value& v) {
  SUANLI_ASSIGN_OR_RETURN(
      yaml::Map m,
      yaml::Map::Open(v, {"vendor", "tflops16", "memory_gb", "power_w", "idle_power_w", "stacks", "inference_only",
                          "speed", "speed.cnn", "speed.transformer", "speed.rl", "speed.science", "speed.other"}));
  for (const auto& [key, node] : m.entries()) SUANLI_RETURN_IF_ERROR(m.Get(key).String().status());
  return Status::Ok();
}

Status ParseStacks(const yaml::Value& v, Catalog* catalog) {
  SUANLI_ASSIGN_OR_RETURN(size_t n, v.SequenceSize());
  for (size_t i = 0; i < n; ++i) {
    yaml::Value item = v.Item(i);
    std::string name;
    if (item.IsScalar()) {
      SUANLI_ASSIGN_OR_RETURN(name, item.String());
    } else {
      SUANLI_ASSIGN_OR_RETURN(yaml::Map m, yaml::Map::Open(item, {"name", "about"}));
      SUANLI_ASSIGN_OR_RETURN(yaml::Value nv, m.Require("name"));
      SUANLI_ASSIGN_OR_RETURN(name, nv.String());
      if (m.Has("about")) SUANLI_RETURN_IF_ERROR(m.Get("about").String().status());
    }
    if (catalog->FindStack(name)) return item.Error(fmt::format("stack '{}' declared twice", name));
    auto id = catalog->AddStack(name);
    if (!id.ok()) return item.Error(id.status().message());
  }
  return Status::Ok();
}

Result<AcceleratorModel> ParseModel(const yaml::Value& item, const Catalog& catalog) {
  SUANLI_ASSIGN_OR_RETURN(
      yaml::Map m,
      yaml::Map::Open(item, {"name", "aliases", "vendor", "opaque", "tflops16", "memory_gb", "power_w", "idle_power_w",
                             "stacks", "inference_only", "speed", "speed_basis", "sources", "notes"}));
  AcceleratorModel a;
  SUANLI_ASSIGN_OR_RETURN(yaml::Value name, m.Require("name"));
  SUANLI_ASSIGN_OR_RETURN(a.name, name.String());
  if (m.Has("aliases")) {
    yaml::Value av = m.Get("aliases");
    SUANLI_ASSIGN_OR_RETURN(a.aliases, av.StringList());
    std::set<std::string> seen = {ToLower(a.name)};
    for (const auto& alias : a.aliases)
      if (!seen.insert(ToLower(alias)).second)
        return av.Error(fmt::format("'{}' repeats the name or another alias (lookups ignore case)", alias));
  }
  SUANLI_ASSIGN_OR_RETURN(yaml::Value vendor, m.Require("vendor"));
  SUANLI_ASSIGN_OR_RETURN(a.vendor, vendor.String());
  if (m.Has("opaque")) SUANLI_RETURN_IF_ERROR(m.Get("opaque").Bool().status());
  if (m.Has("notes")) SUANLI_RETURN_IF_ERROR(m.Get("notes").String().status());

  // Figures: required, but may be `unknown` (stored as 0).
  for (auto [key, dst] :
       {std::pair{"tflops16", &a.tflops16}, std::pair{"memory_gb", &a.memory_gb}, std::pair{"power_w", &a.power_w}}) {
    SUANLI_ASSIGN_OR_RETURN(yaml::Value fv, m.Require(key));
    SUANLI_ASSIGN_OR_RETURN(*dst, fv.FigureOrUnknown());
  }
  // Idle power defaults to the catalog's rule: 15% of board power.
  if (m.Has("idle_power_w")) {
    yaml::Value iv = m.Get("idle_power_w");
    SUANLI_ASSIGN_OR_RETURN(a.idle_power_w, iv.FigureOrUnknown());
    if (a.power_w > 0 && a.idle_power_w > a.power_w)
      return iv.Error(fmt::format("idle power {} W is above the board power {} W", a.idle_power_w, a.power_w));
  } else {
    a.idle_power_w = 0.15 * a.power_w;
  }

  SUANLI_ASSIGN_OR_RETURN(yaml::Value sv, m.Require("stacks"));
  SUANLI_ASSIGN_OR_RETURN(std::vector<std::string> stacks, sv.StringList());
  if (stacks.empty()) return sv.Error("expected at least one software stack");
  for (const auto& s : stacks) {
    auto id = catalog.FindStack(s);
    if (!id) {
      std::string hint = yaml::Closest(s, catalog.stacks());
      return sv.Error(fmt::format("unknown stack '{}'{} (declared stacks: {})", s,
                                  hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint),
                                  Join(catalog.stacks(), ", ")));
    }
    a.stacks |= StackMask{1} << *id;
  }
  if (m.Has("inference_only")) {
    SUANLI_ASSIGN_OR_RETURN(a.inference_only, m.Get("inference_only").Bool());
  }

  SUANLI_ASSIGN_OR_RETURN(yaml::Value speed, m.Require("speed"));
  SUANLI_RETURN_IF_ERROR(ParseSpeed(speed, &a.speed));
  if (m.Has("speed_basis")) SUANLI_RETURN_IF_ERROR(CheckSpeedBasis(m.Get("speed_basis")));
  if (m.Has("sources")) SUANLI_RETURN_IF_ERROR(CheckSources(m.Get("sources")));
  return a;
}

}  // namespace

Result<Catalog> ParseCatalogYaml(std::string_view text, const std::string& name) {
  SUANLI_ASSIGN_OR_RETURN(YAML::Node doc, yaml::ParseDocument(text, name));
  yaml::Value root = yaml::Root(&name, doc);
  SUANLI_ASSIGN_OR_RETURN(yaml::Map top, yaml::Map::Open(root, {"reference", "stacks", "models"}));
  Catalog catalog;
  SUANLI_ASSIGN_OR_RETURN(yaml::Value stacks, top.Require("stacks"));
  SUANLI_RETURN_IF_ERROR(ParseStacks(stacks, &catalog));

  SUANLI_ASSIGN_OR_RETURN(yaml::Value models, top.Require("models"));
  SUANLI_ASSIGN_OR_RETURN(size_t n, models.SequenceSize());
  if (n == 0) return models.Error("expected at least one accelerator model");
  for (size_t i = 0; i < n; ++i) {
    yaml::Value item = models.Item(i);
    SUANLI_ASSIGN_OR_RETURN(AcceleratorModel a, ParseModel(item, catalog));
    auto id = catalog.AddModel(std::move(a));
    if (!id.ok()) return item.Error(id.status().message());
  }

  if (top.Has("reference")) {
    yaml::Value rv = top.Get("reference");
    SUANLI_ASSIGN_OR_RETURN(std::string ref, rv.String());
    auto id = catalog.Find(ref);
    if (!id) return rv.Error(fmt::format("no model named '{}' in this catalog", ref));
    for (int c = 0; c < kNumClasses; ++c)
      if (catalog.model(*id).speed[c] != 1.0)
        return rv.Error(
            fmt::format("the reference model '{}' must have speed 1.0 for every class, "
                        "but {} is {}",
                        ref, ClassName(static_cast<WorkloadClass>(c)), catalog.model(*id).speed[c]));
  }
  return catalog;
}

Result<Catalog> LoadCatalogFile(const std::string& path) {
  SUANLI_ASSIGN_OR_RETURN(std::string text, ReadFileMaybeGz(path));
  return ParseCatalogYaml(text, path);
}

const Catalog& BuiltinCatalog() {
  static const Catalog* const kCatalog = [] {
    auto text = FindEmbeddedFile("accelerators.yaml");
    if (!text) {
      std::fprintf(stderr, "suanli: the built-in accelerator catalog (accelerators.yaml) is missing\n");
      std::abort();
    }
    auto parsed = ParseCatalogYaml(*text, "accelerators.yaml (built-in)");
    if (!parsed.ok()) {
      std::fprintf(stderr, "suanli: the built-in accelerator catalog is broken: %s\n",
                   parsed.status().message().c_str());
      std::abort();
    }
    return new Catalog(std::move(parsed).value());
  }();
  return *kCatalog;
}

std::vector<std::string> BuiltinNetworkNames() {
  std::vector<std::string> out;
  constexpr std::string_view kPrefix = "networks/", kSuffix = ".yaml";
  for (const auto& f : EmbeddedFiles()) {
    std::string_view p = f.path;
    if (p.size() > kPrefix.size() + kSuffix.size() && p.substr(0, kPrefix.size()) == kPrefix &&
        p.substr(p.size() - kSuffix.size()) == kSuffix)
      out.emplace_back(p.substr(kPrefix.size(), p.size() - kPrefix.size() - kSuffix.size()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool IsBuiltinNetwork(const std::string& name) {
  return name.find('/') == std::string::npos && FindEmbeddedFile("networks/" + name + ".yaml").has_value();
}

Result<ScaledNetworkSpec> SplitNetworkSpec(const std::string& spec) {
  ScaledNetworkSpec out{spec, 1, false};
  std::error_code ec;
  if (IsBuiltinNetwork(spec) || std::filesystem::is_regular_file(spec, ec)) return out;
  auto colon = spec.rfind(':');
  if (colon == std::string::npos) return out;
  std::string base = spec.substr(0, colon), scale = spec.substr(colon + 1);
  auto how = [&] {
    return std::string("write NAME:1/N to divide each node group's count by N, e.g. china-aicc:1/100");
  };
  if (base.empty()) return InvalidArgument("network '{}': no network named before ':'; {}", spec, how());
  if (!IsBuiltinNetwork(base) && !std::filesystem::is_regular_file(base, ec)) return out;
  auto slash = scale.find('/');
  if (slash == std::string::npos) return InvalidArgument("network '{}': bad scale '{}'; {}", spec, scale, how());
  auto num = ParseInt(std::string_view(scale).substr(0, slash));
  auto den = ParseInt(std::string_view(scale).substr(slash + 1));
  if (!num || !den) return InvalidArgument("network '{}': bad scale '{}'; {}", spec, scale, how());
  if (*num != 1) return InvalidArgument("network '{}': bad scale '{}': only 1/N is supported; {}", spec, scale, how());
  if (*den < 1 || *den > kMaxNetworkDivisor)
    return InvalidArgument("network '{}': bad scale '{}': N must be a whole number from 1 to {}; {}", spec, scale,
                           kMaxNetworkDivisor, how());
  out.base = std::move(base);
  out.divisor = *den;
  out.scaled = true;
  return out;
}

Result<Network> LoadNetwork(const std::string& spec, const Catalog& catalog) {
  SUANLI_ASSIGN_OR_RETURN(ScaledNetworkSpec s, SplitNetworkSpec(spec));
  Result<Network> net = [&]() -> Result<Network> {
    if (IsBuiltinNetwork(s.base)) {
      std::string path = "networks/" + s.base + ".yaml";
      return ParseNetworkYaml(*FindEmbeddedFile(path), path + " (built-in)", catalog, s.divisor);
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(s.base, ec))
      return NotFound(
          "'{}' is neither a built-in network nor a readable file (built-in networks: {}; "
          "a scaled variant is written NAME:1/N)",
          s.base, Join(BuiltinNetworkNames(), ", "));
    SUANLI_ASSIGN_OR_RETURN(std::string text, ReadFileMaybeGz(s.base));
    return ParseNetworkYaml(text, s.base, catalog, s.divisor);
  }();
  if (net.ok() && s.scaled) net->name += fmt::format(":1/{}", s.divisor);
  return net;
}

}  // namespace suanli
