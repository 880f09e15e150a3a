// End-to-end tests of `suanli sweep`: a local grid, a failing point, bad
// grids, and the same grid as a job array on a real local Slurm cluster
// started by scripts/slurm/start.sh.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/cli.h"

namespace suanli {
namespace {

using testing::ReadFile;
using testing::RunSuanli;
using testing::Source;
using testing::TempDir;

// Per-process names, so that two builds testing at once do not share a directory.
std::string Dir(const std::string& name) { return TempDir(name + "_" + std::to_string(getpid())); }

std::string Workload() { return Source("data/traces/tiresias/60_job.csv.gz"); }

// A tiny network with one center (4 nodes x 8 A100), so that each point is
// one run whatever the simulator's default dispatch for several centers.
std::string OneCenterNetwork(const std::string& dir) {
  std::string path = dir + "/one.yaml";
  std::ofstream f(path);
  f << "name: one-center\n"
       "centers:\n"
       "  - name: east\n"
       "    pue: 1.3\n"
       "    price_per_kwh: 0.6\n"
       "    carbon_g_per_kwh: 570.3\n"
       "    pools:\n"
       "      - name: gpu\n"
       "        nodes:\n"
       "          - {count: 4, prefix: a100-, accelerator: A100-80GB, devices: 8, cpu: 64, memory_gib: 512}\n";
  return path;
}

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t c = line.find(',', start);
    out.push_back(line.substr(start, c == std::string::npos ? std::string::npos : c - start));
    if (c == std::string::npos) return out;
    start = c + 1;
  }
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

TEST(Sweep, LocalGridGathersOneRowPerPointEqualToTheSingleRuns) {
  std::string d = Dir("sweep_local");
  std::string net = OneCenterNetwork(d);
  auto r = RunSuanli("sweep -q --network " + net + " --policy fifo,sjf --seeds 1,2 --workload " + Workload() +
                     " --parallel 2 --out " + d + "/out");
  ASSERT_EQ(r.code, 0) << r.out;

  d += "/out";
  auto lines = Lines(ReadFile(d + "/sweep.csv"));
  ASSERT_EQ(lines.size(), 5u) << ReadFile(d + "/sweep.csv");
  auto header = SplitCsvLine(lines[0]);
  ASSERT_GE(header.size(), 5u);
  EXPECT_EQ(std::vector<std::string>(header.begin(), header.begin() + 5),
            (std::vector<std::string>{"network", "dispatch", "policy", "scale", "seed"}));
  for (const char* k : {"jobs", "finished", "avg_jct_s", "p99_jct_s", "avg_wait_s", "makespan_s", "utilization"})
    EXPECT_NE(std::find(header.begin(), header.end(), k), header.end()) << k << "\n" << lines[0];

  // Deterministic order: policy, then seed; each row equals the single `suanli sim` run.
  const std::pair<const char*, const char*> order[] = {{"fifo", "1"}, {"fifo", "2"}, {"sjf", "1"}, {"sjf", "2"}};
  for (size_t i = 0; i < 4; ++i) {
    auto row = SplitCsvLine(lines[i + 1]);
    ASSERT_EQ(row.size(), header.size()) << lines[i + 1];
    EXPECT_EQ(row[0], net);
    EXPECT_EQ(row[2], order[i].first);
    EXPECT_EQ(row[3], "1");
    EXPECT_EQ(row[4], order[i].second);
    std::string single = Dir(std::string("sweep_single_") + order[i].first + order[i].second);
    auto s = RunSuanli("sim -q --network " + net + " --policy " + std::string(order[i].first) + " --seed " +
                       order[i].second + " --workload " + Workload() + " --out " + single);
    ASSERT_EQ(s.code, 0) << s.out;
    auto summary = nlohmann::json::parse(ReadFile(single + "/summary.json"));
    ASSERT_EQ(summary["policies"].size(), 1u);
    const auto& run = summary["policies"][0];
    EXPECT_EQ(row[1], run.contains("dispatch") ? run["dispatch"].get<std::string>() : "");
    size_t compared = 0;
    for (size_t c = 5; c < header.size(); ++c) {
      ASSERT_TRUE(run.contains(header[c])) << header[c];
      EXPECT_EQ(row[c], run[header[c]].dump()) << header[c] << " of " << order[i].first << " seed " << order[i].second;
      ++compared;
    }
    for (auto it = run.begin(); it != run.end(); ++it) {
      if (it.value().is_number() && it.key() != "seed" && it.key() != "scale") {
        EXPECT_NE(std::find(header.begin(), header.end(), it.key()), header.end()) << it.key() << " not gathered";
      }
    }
    EXPECT_GT(compared, 5u);
  }

  // Every point kept its own output and log.
  auto points = std::filesystem::directory_iterator(d + "/runs");
  EXPECT_EQ(std::distance(points, std::filesystem::directory_iterator()), 4);
  EXPECT_TRUE(std::filesystem::exists(d + "/runs/000-one-fifo-s1/summary.json"));
  EXPECT_TRUE(std::filesystem::exists(d + "/runs/000-one-fifo-s1/log"));

  // sweep.json: the runs and the means over seeds per policy.
  auto js = nlohmann::json::parse(ReadFile(d + "/sweep.json"));
  EXPECT_EQ(js["points"], 4);
  EXPECT_TRUE(js["failed"].empty());
  ASSERT_EQ(js["runs"].size(), 4u);
  ASSERT_EQ(js["groups"].size(), 2u);
  for (const auto& g : js["groups"]) {
    EXPECT_EQ(g["runs"], 2);
    EXPECT_TRUE(g["mean"].contains("avg_jct_s"));
    EXPECT_TRUE(g["stddev"].contains("avg_jct_s"));
  }
  double a = js["runs"][0]["values"]["avg_jct_s"], b = js["runs"][1]["values"]["avg_jct_s"];
  EXPECT_DOUBLE_EQ(js["groups"][0]["mean"]["avg_jct_s"].get<double>(), (a + b) / 2);

  // The printed table: one line per policy, with the number of seeds.
  EXPECT_NE(r.out.find("policy"), std::string::npos) << r.out;
  size_t fifo = 0, sjf = 0;
  for (const auto& line : Lines(r.out)) {
    if (line.rfind(net + " ", 0) != 0) continue;
    fifo += line.find(" fifo ") != std::string::npos;
    sjf += line.find(" sjf ") != std::string::npos;
  }
  EXPECT_EQ(fifo, 1u) << r.out;
  EXPECT_EQ(sjf, 1u) << r.out;
}

TEST(Sweep, AFailingPointIsReportedWithItsLogAndTheOthersFinish) {
  std::string d = Dir("sweep_fail");
  auto r = RunSuanli("sweep --network " + OneCenterNetwork(d) + " --policy fifo,nosuch --seeds 1 --workload " +
                     Workload() + " --out " + d);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("point 001-one-nosuch-s1 failed (exit 2)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("unknown part 'nosuch'"), std::string::npos) << r.out;  // the log's tail
  EXPECT_NE(r.out.find("1 of 2 points failed: 001-one-nosuch-s1"), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::exists(d + "/runs/000-one-fifo-s1/summary.json"));
  EXPECT_EQ(Lines(ReadFile(d + "/sweep.csv")).size(), 2u);
  auto js = nlohmann::json::parse(ReadFile(d + "/sweep.json"));
  EXPECT_EQ(js["failed"], nlohmann::json::array({"001-one-nosuch-s1"}));
}

TEST(Sweep, BadGridsAreUsageErrors) {
  std::string d = Dir("sweep_bad");
  struct Case {
    std::string args, needle;
  };
  const Case cases[] = {
      {"sweep --policy fifo", "--out"},
      {"sweep --out " + d + " --scale 0.5,0", "'0' is not a positive number"},
      {"sweep --out " + d + " --scale 1,x", "'x' is not a positive number"},
      {"sweep --out " + d + " --seeds 3-1", "the range '3-1' is empty"},
      {"sweep --out " + d + " --seeds 1,1", "listed twice"},
      {"sweep --out " + d + " --policy fifo,,sjf", "empty item"},
      {"sweep --out " + d + " --policy fifo -- --seed 4", "use the sweep's --seeds"},
      {"sweep --out " + d + " --policy fifo --slurm --slurm-conf /nonexistent/slurm.conf", "no such file"},
  };
  for (const auto& c : cases) {
    auto r = RunSuanli(c.args);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.needle), std::string::npos) << c.args << "\n" << r.out;
  }
}

// ---- on a real Slurm cluster ---------------------------------------------------

bool InPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "";
  p += ":/usr/sbin:/sbin";  // daemons live in sbin, which a non-root PATH may lack
  size_t start = 0;
  while (start <= p.size()) {
    size_t c = p.find(':', start);
    if (c == std::string::npos) c = p.size();
    std::string dir = p.substr(start, c - start);
    if (!dir.empty() && access((dir + "/" + name).c_str(), X_OK) == 0) return true;
    start = c + 1;
  }
  return false;
}

// A cluster started by scripts/slurm/start.sh, stopped when it goes out of
// scope, also when the test fails.
class LocalSlurm {
 public:
  explicit LocalSlurm(std::string dir) : dir_(std::move(dir)) {}
  ~LocalSlurm() {
    auto r = testing::RunShell("bash " + Source("scripts/slurm/stop.sh") + " " + dir_);
    if (r.code != 0) ADD_FAILURE() << "scripts/slurm/stop.sh failed:\n" << r.out;
  }
  testing::CliResult Start() {
    return testing::RunShell("bash " + Source("scripts/slurm/start.sh") + " " + dir_ +
                             " --name sweeptest --nodes 2 --timeout 90");
  }
  std::string conf() const { return dir_ + "/etc/slurm.conf"; }

 private:
  std::string dir_;
};

TEST(SweepSlurm, JobArrayOnARealClusterGivesTheSameTableAsALocalSweep) {
  std::vector<std::string> missing;
  for (const char* b : {"munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "sinfo"})
    if (!InPath(b)) missing.push_back(b);
  std::string list;
  for (const auto& m : missing) list += " " + m;
  ASSERT_TRUE(missing.empty()) << "Slurm or munge is not installed (missing:" << list
                               << "); run scripts/install-deps.sh (packages slurm-wlm slurm-client munge)";

  std::string base = Dir("sweep_slurm");
  std::string grid = "--network " + OneCenterNetwork(base) + " --policy fifo,sjf --seeds 1,2 --workload " + Workload();
  auto local = RunSuanli("sweep -q " + grid + " --out " + base + "/local");
  ASSERT_EQ(local.code, 0) << local.out;

  LocalSlurm cluster(base + "/cluster");
  auto up = cluster.Start();
  ASSERT_EQ(up.code, 0) << "scripts/slurm/start.sh failed:\n" << up.out;

  auto r = RunSuanli("sweep " + grid + " --slurm --slurm-conf " + cluster.conf() + " --slurm-timeout 240 --out " +
                     base + "/slurm");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("Slurm job array"), std::string::npos) << r.out;

  std::string script = ReadFile(base + "/slurm/sweep.sbatch");
  EXPECT_NE(script.find("#SBATCH --array=0-3%4\n"), std::string::npos) << script;
  EXPECT_EQ(Lines(ReadFile(base + "/slurm/points.tsv")).size(), 4u);
  std::string csv = ReadFile(base + "/slurm/sweep.csv");
  EXPECT_EQ(Lines(csv).size(), 5u) << csv;
  EXPECT_EQ(csv, ReadFile(base + "/local/sweep.csv"));
  for (const char* id : {"000-one-fifo-s1", "001-one-fifo-s2", "002-one-sjf-s1", "003-one-sjf-s2"}) {
    EXPECT_EQ(ReadFile(base + "/slurm/runs/" + id + "/summary.json"),
              ReadFile(base + "/local/runs/" + id + "/summary.json"))
        << id;
  }
  // The jobs really went through Slurm: the completion log lists the four array tasks.
  std::string jobcomp = ReadFile(base + "/cluster/log/jobcomp.txt");
  for (const char* t : {"ArrayTaskId=0 ", "ArrayTaskId=1 ", "ArrayTaskId=2 ", "ArrayTaskId=3 "})
    EXPECT_NE(jobcomp.find(t), std::string::npos) << t << "\n" << jobcomp;
  EXPECT_EQ(std::count(jobcomp.begin(), jobcomp.end(), '\n'), 4) << jobcomp;
}

}  // namespace
}  // namespace suanli
