#include "sim/sweep.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include <fmt/format.h>

#include "base/strings.h"
#include "sim/output.h"
#include "sim/run_dir.h"

namespace suanli {
namespace {

namespace fs = std::filesystem;

// A piece of a directory name: letters, digits and . + - _ only.
std::string Label(std::string_view v) {
  std::string s;
  for (char c : v) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '-' || c == '_';
    s += ok ? c : '_';
  }
  if (s.size() > 40) s = s.substr(s.size() - 40);
  return s;
}

std::string NetworkLabel(const std::string& v) {
  std::error_code ec;
  if (fs::is_regular_file(v, ec)) {
    std::string stem = fs::path(v).filename().string();
    for (const char* ext : {".gz", ".yaml", ".yml", ".csv", ".json"})
      if (stem.size() > std::strlen(ext) && stem.ends_with(ext)) stem.resize(stem.size() - std::strlen(ext));
    return Label(stem);
  }
  return Label(v);
}

std::string ShellQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

bool HasSpace(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Keys that are columns of their own, not metrics.
bool IsDimensionKey(const std::string& k) {
  return k == "network" || k == "dispatch" || k == "policy" || k == "scale" || k == "seed";
}

std::string JsonScalarText(const nlohmann::ordered_json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  return "";
}

std::string FormatValue(const std::string& key, double v) {
  if (std::isnan(v)) return "-";
  if (key.ends_with("_s")) return HumanSeconds(v);
  if (key == "utilization" || key == "goodput") return fmt::format("{:.1f}%", 100 * v);
  if (v == std::floor(v) && std::fabs(v) < 1e9) return fmt::format("{:.0f}", v);
  return fmt::format("{:.4g}", v);
}

std::string FormatDeviation(const std::string& key, double v) {
  if (std::isnan(v)) return "-";
  if (key.ends_with("_s")) return HumanSeconds(v);
  if (key == "utilization" || key == "goodput") return fmt::format("{:.1f}", 100 * v);
  return fmt::format("{:.3g}", v);
}

}  // namespace

Result<std::vector<std::string>> ParseSweepList(std::string_view flag, std::string_view text) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (auto part : Split(text, ',')) {
    std::string v(Trim(part));
    if (v.empty()) return InvalidArgument("{} '{}': empty item in the comma-separated list", flag, text);
    if (!seen.insert(v).second) return InvalidArgument("{} '{}': '{}' is listed twice", flag, text, v);
    out.push_back(v);
  }
  return out;
}

Result<std::vector<std::string>> ParseSweepSeeds(std::string_view text) {
  auto items = ParseSweepList("--seeds", text);
  if (!items.ok()) return items.status();
  std::vector<std::string> out;
  std::set<uint64_t> seen;
  auto number = [](std::string_view s) -> std::optional<uint64_t> {
    s = Trim(s);
    if (s.empty() || s.size() > 19) return std::nullopt;
    uint64_t x = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      x = x * 10 + static_cast<uint64_t>(c - '0');
    }
    return x;
  };
  for (const auto& item : *items) {
    uint64_t lo, hi;
    size_t dash = item.find('-');
    if (dash == std::string::npos) {
      auto v = number(item);
      if (!v) return InvalidArgument("--seeds '{}': '{}' is not a non-negative integer or a range A-B", text, item);
      lo = hi = *v;
    } else {
      auto a = number(std::string_view(item).substr(0, dash)), b = number(std::string_view(item).substr(dash + 1));
      if (!a || !b)
        return InvalidArgument("--seeds '{}': '{}' is not a non-negative integer or a range A-B", text, item);
      if (*a > *b) return InvalidArgument("--seeds '{}': the range '{}' is empty", text, item);
      if (*b - *a >= 100000) return InvalidArgument("--seeds '{}': the range '{}' is too long", text, item);
      lo = *a;
      hi = *b;
    }
    for (uint64_t s = lo; s <= hi; ++s) {
      if (!seen.insert(s).second) return InvalidArgument("--seeds '{}': seed {} is listed twice", text, s);
      out.push_back(std::to_string(s));
    }
  }
  return out;
}

Result<std::vector<std::string>> ParseSweepScales(std::string_view text) {
  auto items = ParseSweepList("--scale", text);
  if (!items.ok()) return items.status();
  for (const auto& s : *items) {
    auto v = ParseDouble(s);
    if (!v || !std::isfinite(*v) || *v <= 0)
      return InvalidArgument("--scale '{}': '{}' is not a positive number (an arrival-rate factor such as 0.5 or 2)",
                             text, s);
  }
  return items;
}

Status CheckSweepExtraArgs(const std::vector<std::string>& extra) {
  static const std::map<std::string, std::string> owned = {
      {"--network", "--network"},   {"-n", "--network"},    {"--dispatch", "--dispatch"}, {"--policy", "--policy"},
      {"-p", "--policy"},           {"--scale", "--scale"}, {"--seed", "--seeds"},        {"-s", "--seeds"},
      {"--workload", "--workload"}, {"-w", "--workload"},   {"--out", "--out"},           {"-o", "--out"}};
  for (const auto& a : extra) {
    std::string flag = a.substr(0, a.find('='));
    auto it = owned.find(flag);
    if (it != owned.end())
      return InvalidArgument("extra simulator argument '{}' sets what the sweep sets; use the sweep's {} instead", a,
                             it->second);
    if (a.empty() || a.find_first_of("\t\n\r") != std::string::npos)
      return InvalidArgument("extra simulator argument '{}' is empty or holds a tab or line break", a);
  }
  return Status::Ok();
}

std::vector<SweepPoint> ExpandSweepGrid(const SweepGrid& g) {
  auto dim = [](const std::vector<std::string>& v) { return v.empty() ? std::vector<std::string>{""} : v; };
  auto nets = dim(g.networks), disps = dim(g.dispatches), pols = dim(g.policies), scales = dim(g.scales),
       seeds = dim(g.seeds);
  size_t n = nets.size() * disps.size() * pols.size() * scales.size() * seeds.size();
  int width = std::max<int>(3, static_cast<int>(std::to_string(n ? n - 1 : 0).size()));
  std::vector<SweepPoint> out;
  for (const auto& net : nets)
    for (const auto& d : disps)
      for (const auto& p : pols)
        for (const auto& sc : scales)
          for (const auto& s : seeds) {
            SweepPoint pt;
            pt.index = out.size();
            pt.network = net;
            pt.dispatch = d;
            pt.policy = p;
            pt.scale = sc;
            pt.seed = s;
            pt.id = fmt::format("{:0{}d}", pt.index, width);
            if (!net.empty()) pt.id += "-" + NetworkLabel(net);
            if (!d.empty()) pt.id += "-" + Label(d);
            if (!p.empty()) pt.id += "-" + Label(p);
            if (!sc.empty()) pt.id += "-x" + Label(sc);
            if (!s.empty()) pt.id += "-s" + Label(s);
            out.push_back(std::move(pt));
          }
  return out;
}

std::vector<std::string> SweepSimArgs(const SweepGrid& g, const SweepPoint& p, const std::string& run_dir) {
  std::vector<std::string> a = {"sim"};
  auto add = [&](const char* flag, const std::string& v) {
    if (!v.empty()) {
      a.push_back(flag);
      a.push_back(v);
    }
  };
  add("--network", p.network);
  add("--dispatch", p.dispatch);
  add("--policy", p.policy);
  add("--scale", p.scale);
  add("--seed", p.seed);
  add("--workload", g.workload);
  a.insert(a.end(), g.extra.begin(), g.extra.end());
  a.push_back("--out");
  a.push_back(run_dir);
  a.push_back("-q");
  return a;
}

Result<std::string> SweepPointsTsv(const std::vector<SweepPoint>& points,
                                   const std::vector<std::vector<std::string>>& args) {
  std::string out;
  for (size_t i = 0; i < points.size(); ++i) {
    out += std::to_string(points[i].index) + "\t" + points[i].id;
    for (const auto& a : args[i]) {
      if (a.empty() || a.find_first_of("\t\n\r") != std::string::npos)
        return InvalidArgument(
            "point {}: argument '{}' is empty or holds a tab or line break, which points.tsv cannot carry",
            points[i].id, a);
      out += "\t" + a;
    }
    out += "\n";
  }
  return out;
}

Result<std::string> SweepSbatchScript(const SbatchOptions& o) {
  for (const auto* p : {&o.dir, &o.workdir, &o.binary})
    if (HasSpace(*p))
      return InvalidArgument("'{}' holds whitespace, which #SBATCH lines cannot carry; use a path without spaces", *p);
  if (o.points == 0) return InvalidArgument("a sweep with no points");
  for (const auto& a : o.sbatch_args)
    if (a.empty() || a.find_first_of("\n\r") != std::string::npos || a[0] != '-')
      return InvalidArgument("--sbatch-arg '{}': expected one sbatch option such as --time=30", a);
  size_t max = o.max_parallel ? std::min(o.max_parallel, o.points) : o.points;
  std::string s;
  s += "#!/bin/bash\n";
  s += "# Written by `suanli sweep --slurm`: one array task per grid point; task i runs the\n";
  s += "# `suanli` arguments on the line of points.tsv whose first field is i.\n";
  s += "#SBATCH --job-name=suanli-sweep\n";
  s += fmt::format("#SBATCH --array=0-{}%{}\n", o.points - 1, max);
  s += "#SBATCH --ntasks=1\n";
  s += "#SBATCH --cpus-per-task=1\n";
  s += fmt::format("#SBATCH --chdir={}\n", o.workdir);
  s += fmt::format("#SBATCH --output={}/slurm/%A_%a.out\n", o.dir);
  if (!o.partition.empty()) s += fmt::format("#SBATCH --partition={}\n", o.partition);
  for (const auto& a : o.sbatch_args) s += "#SBATCH " + a + "\n";
  s += "set -euo pipefail\n";
  s += fmt::format("dir={}\n", ShellQuote(o.dir));
  s += "line=$(awk -F'\\t' -v i=\"$SLURM_ARRAY_TASK_ID\" '$1 == i { print; exit }' \"$dir/points.tsv\")\n";
  s += "if [[ -z $line ]]; then echo \"no point $SLURM_ARRAY_TASK_ID in $dir/points.tsv\" >&2; exit 1; fi\n";
  s += "IFS=$'\\t' read -r -a f <<<\"$line\"\n";
  s += "mkdir -p \"$dir/runs/${f[1]}\"\n";
  s += fmt::format("exec {} \"${{f[@]:2}}\" >\"$dir/runs/${{f[1]}}/log\" 2>&1\n", ShellQuote(o.binary));
  return s;
}

Result<SweepTable> GatherSweep(const std::string& dir, const std::vector<SweepPoint>& points) {
  SweepTable t;
  std::set<std::string> seen;
  for (const auto& p : points) {
    auto summary = ReadSummaryJson(dir + "/runs/" + p.id + "/summary.json");
    if (!summary.ok()) return summary.status().Wrap(fmt::format("point {}", p.id));
    const nlohmann::ordered_json& root = *summary;
    for (const auto& run : root.at("policies")) {
      SweepRow row;
      row.point = p.id;
      row.run = run.contains("policy") ? JsonScalarText(run["policy"]) : "";
      row.network = !p.network.empty() ? p.network : JsonScalarText(root.value("network", nlohmann::ordered_json()));
      if (!p.dispatch.empty()) row.dispatch = p.dispatch;
      else if (run.contains("dispatch")) row.dispatch = JsonScalarText(run["dispatch"]);
      if (!p.policy.empty()) row.policy = p.policy;
      else row.policy = run.contains("center_policy") ? JsonScalarText(run["center_policy"]) : row.run;
      if (!p.scale.empty()) row.scale = p.scale;
      else if (run.contains("scale")) row.scale = JsonScalarText(run["scale"]);
      else if (root.contains("scale")) row.scale = JsonScalarText(root["scale"]);
      else row.scale = "1";
      row.seed = !p.seed.empty() ? p.seed : JsonScalarText(root.value("seed", nlohmann::ordered_json()));
      row.values = nlohmann::ordered_json::object();
      for (auto it = run.begin(); it != run.end(); ++it) {
        if (!it.value().is_number() || IsDimensionKey(it.key())) continue;
        row.values[it.key()] = it.value();
        if (seen.insert(it.key()).second) t.metrics.push_back(it.key());
      }
      t.rows.push_back(std::move(row));
    }
  }
  return t;
}

std::string SweepCsv(const SweepTable& t) {
  std::string out = "network,dispatch,policy,scale,seed";
  for (const auto& m : t.metrics) out += "," + CsvField(m);
  out += "\n";
  for (const auto& r : t.rows) {
    out += CsvField(r.network) + "," + CsvField(r.dispatch) + "," + CsvField(r.policy) + "," + CsvField(r.scale) + "," +
           CsvField(r.seed);
    for (const auto& m : t.metrics) {
      out += ",";
      if (r.values.contains(m)) out += r.values[m].dump();
    }
    out += "\n";
  }
  return out;
}

std::vector<SweepGroup> GroupSweep(const SweepTable& t) {
  std::vector<SweepGroup> groups;
  std::map<std::tuple<std::string, std::string, std::string, std::string>, size_t> index;
  std::vector<std::vector<const SweepRow*>> members;
  for (const auto& r : t.rows) {
    auto key = std::make_tuple(r.network, r.dispatch, r.policy, r.scale);
    auto [it, fresh] = index.emplace(key, groups.size());
    if (fresh) {
      SweepGroup g;
      g.network = r.network;
      g.dispatch = r.dispatch;
      g.policy = r.policy;
      g.scale = r.scale;
      groups.push_back(std::move(g));
      members.emplace_back();
    }
    members[it->second].push_back(&r);
    groups[it->second].runs++;
    groups[it->second].seeds.push_back(r.seed);
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    auto& g = groups[gi];
    for (const auto& m : t.metrics) {
      std::vector<double> xs;
      for (const auto* r : members[gi])
        if (r->values.contains(m)) xs.push_back(r->values[m].get<double>());
      g.count.push_back(xs.size());
      if (xs.empty()) {
        g.mean.push_back(nan);
        g.stddev.push_back(nan);
        continue;
      }
      if (std::all_of(xs.begin(), xs.end(), [&](double x) { return x == xs[0]; })) {  // exact, no rounding noise
        g.mean.push_back(xs[0]);
        g.stddev.push_back(0.0);
        continue;
      }
      double sum = 0;
      for (double x : xs) sum += x;
      double mean = sum / static_cast<double>(xs.size());
      double ss = 0;
      for (double x : xs) ss += (x - mean) * (x - mean);
      g.mean.push_back(mean);
      g.stddev.push_back(xs.size() > 1 ? std::sqrt(ss / static_cast<double>(xs.size() - 1)) : 0.0);
    }
  }
  return groups;
}

std::string SweepJson(const SweepInfo& info, const SweepTable& t, const std::vector<SweepGroup>& groups) {
  using J = nlohmann::ordered_json;
  J root;
  root["workload"] = info.workload.empty() ? "default" : info.workload;
  root["mode"] = info.mode;
  J grid;
  grid["network"] = info.grid.networks;
  grid["dispatch"] = info.grid.dispatches;
  grid["policy"] = info.grid.policies;
  grid["scale"] = info.grid.scales;
  grid["seed"] = info.grid.seeds;
  grid["extra_args"] = info.grid.extra;
  root["grid"] = grid;
  root["points"] = info.points;
  root["failed"] = info.failed;
  root["metrics"] = t.metrics;
  J runs = J::array();
  for (const auto& r : t.rows) {
    J o;
    o["point"] = r.point;
    o["network"] = r.network;
    o["dispatch"] = r.dispatch;
    o["policy"] = r.policy;
    o["scale"] = r.scale;
    o["seed"] = r.seed;
    o["run"] = r.run;
    o["values"] = r.values;
    runs.push_back(std::move(o));
  }
  root["runs"] = std::move(runs);
  J gs = J::array();
  for (const auto& g : groups) {
    J o;
    o["network"] = g.network;
    o["dispatch"] = g.dispatch;
    o["policy"] = g.policy;
    o["scale"] = g.scale;
    o["runs"] = g.runs;
    o["seeds"] = g.seeds;
    J mean = J::object(), sd = J::object();
    for (size_t i = 0; i < t.metrics.size(); ++i) {
      if (g.count[i] == 0) continue;
      mean[t.metrics[i]] = g.mean[i];
      sd[t.metrics[i]] = g.stddev[i];
    }
    o["mean"] = std::move(mean);
    o["stddev"] = std::move(sd);
    gs.push_back(std::move(o));
  }
  root["groups"] = std::move(gs);
  return root.dump(2) + "\n";
}

std::string SweepSummaryJson(const SweepInfo& info, const SweepTable& t, const std::vector<SweepGroup>& groups) {
  using J = nlohmann::ordered_json;
  std::set<std::string> nets, disps, scales;
  for (const auto& g : groups) {
    nets.insert(g.network);
    disps.insert(g.dispatch);
    scales.insert(g.scale);
  }
  J root;
  root["workload"] = info.workload.empty() ? "default" : info.workload;
  std::vector<std::string> net_list(nets.begin(), nets.end());
  root["network"] = Join(net_list, ",");
  root["seed"] = Join(info.grid.seeds, ",");
  root["sweep"] = "means over seeds of every (network, dispatch, policy, scale); see sweep.json";
  J arr = J::array();
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const auto& g = groups[gi];
    std::string label;
    if (nets.size() > 1) label += g.network + " ";
    label += g.dispatch.empty() ? g.policy : g.dispatch + "/" + g.policy;
    if (scales.size() > 1) label += " x" + g.scale;
    J o;
    o["policy"] = label;
    if (!g.dispatch.empty()) o["dispatch"] = g.dispatch;
    o["center_policy"] = g.policy;
    o["network"] = g.network;
    o["scale"] = g.scale;
    o["runs"] = g.runs;
    for (size_t i = 0; i < t.metrics.size(); ++i)
      if (g.count[i] > 0 && t.metrics[i] != "runs") o[t.metrics[i]] = g.mean[i];
    arr.push_back(std::move(o));
  }
  root["policies"] = std::move(arr);
  return root.dump(2) + "\n";
}

std::string SweepMeansTable(const SweepTable& t, const std::vector<SweepGroup>& groups,
                            const std::vector<std::string>& metrics) {
  std::vector<std::string> chosen = metrics;
  if (chosen.empty())
    for (const char* m :
         {"avg_jct_s", "p99_jct_s", "avg_wait_s", "utilization", "energy_kwh", "cost", "carbon_kg", "goodput"})
      if (std::find(t.metrics.begin(), t.metrics.end(), m) != t.metrics.end()) chosen.push_back(m);
  std::vector<size_t> idx;
  for (const auto& m : chosen) {
    auto it = std::find(t.metrics.begin(), t.metrics.end(), m);
    if (it != t.metrics.end()) idx.push_back(static_cast<size_t>(it - t.metrics.begin()));
  }
  // Dimension columns that say something (not empty in every group).
  struct Col {
    std::string title;
    std::vector<std::string> cells;
  };
  std::vector<Col> cols;
  auto dim = [&](const char* title, auto get) {
    Col c{title, {}};
    bool any = false;
    for (const auto& g : groups) {
      c.cells.push_back(get(g));
      any |= !c.cells.back().empty();
    }
    if (any) cols.push_back(std::move(c));
  };
  dim("network", [](const SweepGroup& g) { return g.network; });
  dim("dispatch", [](const SweepGroup& g) { return g.dispatch; });
  dim("policy", [](const SweepGroup& g) { return g.policy; });
  dim("scale", [](const SweepGroup& g) { return g.scale; });
  Col seeds{"seeds", {}};
  for (const auto& g : groups) seeds.cells.push_back(std::to_string(g.runs));
  cols.push_back(std::move(seeds));
  size_t ndims = cols.size();
  for (size_t i : idx) {
    const std::string& m = t.metrics[i];
    Col c{m, {}};
    for (const auto& g : groups) {
      if (g.count[i] == 0) c.cells.push_back("-");
      else if (g.count[i] == 1) c.cells.push_back(FormatValue(m, g.mean[i]));
      else c.cells.push_back(FormatValue(m, g.mean[i]) + " ± " + FormatDeviation(m, g.stddev[i]));
    }
    cols.push_back(std::move(c));
  }
  // Width in characters (the ± sign is one character, two bytes).
  auto width = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  };
  std::vector<size_t> w;
  for (const auto& c : cols) {
    size_t x = width(c.title);
    for (const auto& cell : c.cells) x = std::max(x, width(cell));
    w.push_back(x);
  }
  auto pad = [&](const std::string& s, size_t n, bool left) {
    std::string fill(n > width(s) ? n - width(s) : 0, ' ');
    return left ? s + fill : fill + s;
  };
  std::string out;
  for (size_t c = 0; c < cols.size(); ++c) out += (c ? "  " : "") + pad(cols[c].title, w[c], c < ndims - 1);
  out += "\n";
  for (size_t r = 0; r < groups.size(); ++r) {
    for (size_t c = 0; c < cols.size(); ++c) out += (c ? "  " : "") + pad(cols[c].cells[r], w[c], c < ndims - 1);
    out += "\n";
  }
  return out;
}

}  // namespace suanli
