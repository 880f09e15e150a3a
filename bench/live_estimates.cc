// live_estimates: how good are start-time estimates? The same workload is
// run twice at once on two real local Slurm clusters of the same shape
// (scripts/slurm/start.sh): once through Suanli (a control plane whose one
// center is the first cluster; Suanli queues and starts the jobs and
// estimates their starts by a forward simulation, docs/control-plane.md),
// once submitted straight to the second cluster with sbatch (Slurm queues
// and starts them, and its backfill scheduler estimates their starts,
// `squeue --start`). For each job the first estimate seen while it was
// pending is compared with when it really started (its command writes the
// time as its first act). bench/estimate_compare.sh sets it all up.
//
//   live_estimates --workload W.csv --suanli-conf A/slurm.conf
//                  --slurm-conf B/slurm.conf --dir SCRATCH [--jobs N]
//                  [--span-s 300] [--min-run-s 5] [--max-run-s 240]
//                  [--max-gpus 8] [--deadline-s 1800] [--out jobs.csv]
//
// The workload is a `suanli gen` file (native format: id, tenant, submit_s,
// gpus, work_s). Its arrivals are compressed to --span-s seconds and its run
// times by the same factor (clamped to [min-run-s, max-run-s]); gpus above
// --max-gpus are cut to it. The traces carry no time limits, so each is
// made as users make them: whole minutes (Slurm's unit), over-asked by a
// factor each tenant keeps (1.5, 2, 3, 5 or 8 by the tenant's name) times a
// per-job jitter in [0.8, 1.25]. Both runs get the same limits, gpus, CPUs
// (1) and memory (1000 MiB).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "live/backend_slurm.h"
#include "live/control.h"
#include "live/subprocess.h"

namespace {

namespace fs = std::filesystem;
using suanli::WallMs;
using suanli::live::Caller;
using suanli::live::ControlPlane;
using suanli::live::JobSpec;
using suanli::live::JobState;
using suanli::live::ServerConfig;

struct Planned {
  int id = 0;
  std::string tenant;
  double at_s = 0;
  int gpus = 1;
  int run_s = 0;
  int limit_min = 1;
};

// One job in one of the two runs; times in ms since the epoch, 0 = none.
struct Seen {
  int64_t submit = 0, est = 0, start = 0;
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> f;
  std::stringstream ss(line);
  for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
  return f;
}

std::vector<Planned> Plan(const std::string& path, int jobs, double span_s, int min_run, int max_run, int max_gpus) {
  std::ifstream in(path);
  std::string line;
  std::map<std::string, size_t> col;
  struct Row {
    int id;
    std::string tenant;
    double submit, work;
    int gpus;
  };
  std::vector<Row> rows;
  while (std::getline(in, line) && static_cast<int>(rows.size()) < jobs) {
    if (line.empty() || line[0] == '#') continue;
    auto f = Split(line);
    if (col.empty()) {
      for (size_t i = 0; i < f.size(); ++i) col[f[i]] = i;
      for (const char* k : {"id", "tenant", "submit_s", "gpus", "work_s"})
        if (!col.contains(k)) {
          std::fprintf(stderr, "live_estimates: %s has no column %s\n", path.c_str(), k);
          std::exit(2);
        }
      continue;
    }
    rows.push_back({std::atoi(f[col["id"]].c_str()), f[col["tenant"]], std::atof(f[col["submit_s"]].c_str()),
                    std::atof(f[col["work_s"]].c_str()), std::atoi(f[col["gpus"]].c_str())});
  }
  if (rows.empty()) {
    std::fprintf(stderr, "live_estimates: no jobs in %s\n", path.c_str());
    std::exit(2);
  }
  const double first = rows.front().submit, last = rows.back().submit;
  const double scale = last > first ? span_s / (last - first) : 1.0;
  static constexpr double kOverAsk[] = {1.5, 2, 3, 5, 8};
  std::vector<Planned> out;
  for (const Row& r : rows) {
    Planned p;
    p.id = r.id;
    p.tenant = r.tenant;
    p.at_s = (r.submit - first) * scale;
    p.gpus = std::clamp(r.gpus, 1, max_gpus);
    p.run_s = std::clamp(static_cast<int>(std::lround(r.work * scale)), min_run, max_run);
    std::mt19937 rng(static_cast<uint32_t>(r.id) * 2654435761u);
    const double jitter = std::uniform_real_distribution<double>(0.8, 1.25)(rng);
    unsigned h = 0;
    for (char ch : r.tenant) h = h * 31 + static_cast<unsigned char>(ch);
    const double over = kOverAsk[h % 5];
    p.limit_min = std::max(1, static_cast<int>(std::ceil(p.run_s * over * jitter / 60.0)));
    if (p.limit_min * 60 < p.run_s + 10) p.limit_min = (p.run_s + 10 + 59) / 60;
    out.push_back(p);
  }
  return out;
}

suanli::Result<suanli::live::SubprocessResult> Slurm(const std::string& conf, std::vector<std::string> argv) {
  suanli::live::SubprocessOptions o;
  o.argv = std::move(argv);
  o.env["SLURM_CONF"] = conf;
  o.timeout_ms = 30'000;
  return suanli::live::RunSubprocess(o);
}

std::string JobCommand(const std::string& stamp, int run_s) {
  return "date +%s%3N > " + stamp + "; sleep " + std::to_string(run_s);
}

int64_t ReadStamp(const std::string& path) {
  std::ifstream in(path);
  int64_t ms = 0;
  in >> ms;
  return ms;
}

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1];
}

int Usage() {
  std::fprintf(stderr,
               "usage: live_estimates --workload W.csv --suanli-conf SLURM_CONF --slurm-conf SLURM_CONF --dir DIR "
               "[--jobs N] [--span-s S] [--min-run-s S] [--max-run-s S] [--max-gpus G] [--deadline-s S] "
               "[--out FILE]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string workload, suanli_conf, slurm_conf, dir, out_path;
  int jobs = 40, min_run = 5, max_run = 240, max_gpus = 8, deadline_s = 1800;
  double span_s = 300;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return Usage();
    const std::string v = argv[++i];
    if (a == "--workload") workload = v;
    else if (a == "--suanli-conf") suanli_conf = v;
    else if (a == "--slurm-conf") slurm_conf = v;
    else if (a == "--dir") dir = v;
    else if (a == "--out") out_path = v;
    else if (a == "--jobs") jobs = std::atoi(v.c_str());
    else if (a == "--span-s") span_s = std::atof(v.c_str());
    else if (a == "--min-run-s") min_run = std::atoi(v.c_str());
    else if (a == "--max-run-s") max_run = std::atoi(v.c_str());
    else if (a == "--max-gpus") max_gpus = std::atoi(v.c_str());
    else if (a == "--deadline-s") deadline_s = std::atoi(v.c_str());
    else return Usage();
  }
  if (workload.empty() || suanli_conf.empty() || slurm_conf.empty() || dir.empty() || jobs < 1) return Usage();
  spdlog::set_level(spdlog::level::warn);
  const std::vector<Planned> plan = Plan(workload, jobs, span_s, min_run, max_run, max_gpus);
  fs::create_directories(dir + "/stamps");
  fs::permissions(dir + "/stamps", fs::perms::all);

  ServerConfig cfg;
  cfg.data_dir = dir + "/suanli-data";
  suanli::live::CenterConfig hpc;
  hpc.name = "hpc";
  hpc.backend.kind = "slurm";
  hpc.backend.slurm_conf = suanli_conf;
  cfg.centers.push_back(hpc);
  cfg.pass_interval_ms = 500;
  auto started = ControlPlane::Start(cfg);
  if (!started.ok()) {
    std::fprintf(stderr, "live_estimates: the control plane: %s\n", started.status().message().c_str());
    return 1;
  }
  auto cp = std::move(started).value();

  std::vector<Seen> viaSuanli(plan.size()), direct(plan.size());
  std::vector<int64_t> suanli_ids(plan.size(), 0);
  int failed = 0;
  std::map<int64_t, size_t> slurm_ids;
  const int64_t t0 = NowMs() + 1000;
  size_t next = 0;
  int64_t last_poll = 0;
  auto stamp = [&](char arm, size_t k) { return dir + "/stamps/" + arm + std::to_string(plan[k].id); };
  while (NowMs() < t0 + deadline_s * 1000LL) {
    const int64_t now = NowMs();
    for (; next < plan.size() && t0 + static_cast<int64_t>(plan[next].at_s * 1000) <= now; ++next) {
      const Planned& p = plan[next];
      JobSpec s;
      s.command = {"sh", "-c", JobCommand(stamp('s', next), p.run_s)};
      s.gpus = p.gpus;
      s.cpu_milli = 1000;
      s.mem_mib = 1000;
      s.time_limit_s = p.limit_min * 60;
      viaSuanli[next].submit = NowMs();
      auto r = cp->Submit(Caller{p.tenant, false}, s);
      if (!r.ok()) {
        std::fprintf(stderr, "live_estimates: job %d via Suanli: %s\n", p.id, r.status().message().c_str());
        ++failed;
      } else {
        suanli_ids[next] = r->id;
      }
      direct[next].submit = NowMs();
      auto sb = Slurm(slurm_conf, {"sbatch", "--parsable", "--job-name=est-" + std::to_string(p.id),
                                   "--gres=gpu:" + std::to_string(p.gpus), "--ntasks=1", "--cpus-per-task=1",
                                   "--mem=1000", "--time=" + std::to_string(p.limit_min), "--output=/dev/null",
                                   "--wrap=" + JobCommand(stamp('d', next), p.run_s)});
      if (!sb.ok() || !sb->ok()) {
        std::fprintf(stderr, "live_estimates: job %d via sbatch failed: %s\n", p.id,
                     sb.ok() ? sb->err.c_str() : sb.status().message().c_str());
        ++failed;
      } else {
        slurm_ids[std::atoll(sb->out.c_str())] = next;
      }
    }
    if (now - last_poll >= 1000) {
      last_poll = now;
      // Suanli: the first estimate of a job still pending.
      for (size_t k = 0; k < next; ++k) {
        if (suanli_ids[k] == 0 || viaSuanli[k].est != 0 || viaSuanli[k].start != 0) continue;
        auto g = cp->Get(Caller{plan[k].tenant, false}, suanli_ids[k]);
        if (g.ok() && g->state == JobState::kPending && g->est_start_ms.ms() > 0)
          viaSuanli[k].est = g->est_start_ms.ms();
      }
      // Slurm: the backfill scheduler's estimate of each pending job.
      if (auto q = Slurm(slurm_conf, {"squeue", "-h", "-t", "PD", "-o", "%i %S"}); q.ok() && q->ok()) {
        std::stringstream ss(q->out);
        for (std::string line; std::getline(ss, line);) {
          const auto sp = line.find(' ');
          if (sp == std::string::npos) continue;
          auto it = slurm_ids.find(std::atoll(line.substr(0, sp).c_str()));
          if (it == slurm_ids.end() || direct[it->second].est != 0) continue;
          const WallMs at = suanli::live::ParseSlurmTime(line.substr(sp + 1));
          if (at.ms() > 0) direct[it->second].est = at.ms();
        }
      }
      size_t done = 0;
      for (size_t k = 0; k < next; ++k) {
        if (viaSuanli[k].start == 0) viaSuanli[k].start = ReadStamp(stamp('s', k));
        if (direct[k].start == 0) direct[k].start = ReadStamp(stamp('d', k));
        done += viaSuanli[k].start != 0 && direct[k].start != 0;
      }
      if (next == plan.size() && done == plan.size()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (size_t k = 0; k < plan.size(); ++k)
    if (suanli_ids[k] != 0) (void)cp->Cancel(Caller{plan[k].tenant, false}, suanli_ids[k]);
  for (const auto& [id, k] : slurm_ids) (void)Slurm(slurm_conf, {"scancel", "--quiet", std::to_string(id)});
  cp->Stop();

  // Per job, and the errors of each run's first estimates.
  std::ofstream out(out_path.empty() ? "/dev/null" : out_path);
  out << "id,tenant,gpus,run_s,limit_s,suanli_submit_s,suanli_est_s,suanli_start_s,slurm_submit_s,slurm_est_s,"
         "slurm_start_s\n";
  auto rel = [&](int64_t ms) { return ms == 0 ? std::string() : fmt::format("{:.3f}", (ms - t0) / 1000.0); };
  std::vector<double> s_err, d_err, s_both, d_both;
  int s_waited = 0, d_waited = 0, unfinished = 0;
  for (size_t k = 0; k < plan.size(); ++k) {
    const Seen &s = viaSuanli[k], &d = direct[k];
    out << fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", plan[k].id, plan[k].tenant, plan[k].gpus, plan[k].run_s,
                       plan[k].limit_min * 60, rel(s.submit), rel(s.est), rel(s.start), rel(d.submit), rel(d.est),
                       rel(d.start));
    if (s.start == 0 || d.start == 0) {
      ++unfinished;
      continue;
    }
    s_waited += s.start - s.submit > 2000;
    d_waited += d.start - d.submit > 2000;
    const double se = std::abs(static_cast<double>(s.start - s.est)) / 1000.0;
    const double de = std::abs(static_cast<double>(d.start - d.est)) / 1000.0;
    if (s.est) s_err.push_back(se);
    if (d.est) d_err.push_back(de);
    if (s.est && d.est) {
      s_both.push_back(se);
      d_both.push_back(de);
    }
  }
  std::printf("jobs: %zu (%d not started by the deadline); waited > 2 s: %d via Suanli, %d on Slurm\n", plan.size(),
              unfinished, s_waited, d_waited);
  std::printf("%-44s %6s %12s %12s\n", "first estimate vs. actual start", "jobs", "median err s", "p90 err s");
  std::printf("%-44s %6zu %12.1f %12.1f\n", "Suanli (forward simulation)", s_err.size(), Quantile(s_err, 0.5),
              Quantile(s_err, 0.9));
  std::printf("%-44s %6zu %12.1f %12.1f\n", "Slurm (squeue --start)", d_err.size(), Quantile(d_err, 0.5),
              Quantile(d_err, 0.9));
  std::printf("%-44s %6zu %12.1f %12.1f\n", "Suanli, jobs both estimated", s_both.size(), Quantile(s_both, 0.5),
              Quantile(s_both, 0.9));
  std::printf("%-44s %6zu %12.1f %12.1f\n", "Slurm, jobs both estimated", d_both.size(), Quantile(d_both, 0.5),
              Quantile(d_both, 0.9));
  // Exits 1 if a submission failed or a job never started: the short run in
  // the test suite checks that the comparison keeps working.
  return failed == 0 && unfinished == 0 ? 0 : 1;
}
