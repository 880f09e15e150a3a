// Benchmark of the control plane's SQLite store (live/store.h).
//
//   live_store [--threads N] [--inserts M] [--normal] [--max-batch B] [--dir D]
//     N threads (default 16) each make M (default 2000) durable InsertJob
//     calls of submitted (pending) jobs: throughput, p50/p99/max latency per
//     insert, writes per commit.
//   live_store --fill J [--threads N] [--dir D]
//     fills a store with J jobs (e.g. 1000000; 1% pending or running, 100
//     tenants, 8 centers, 30 days of end times), then reports the file size,
//     the time of ListJobs(limit 100) with and without filters, LoadActive,
//     Counts, ActiveJobs and Usage, durable submissions into the full store, and
//     the peak resident memory (VmHWM).
//   live_store --reads --dir D
//     the same reads and inserts on the store a --fill left in D (each
//     --reads run adds 16 x 500 jobs to it).
//
// The store goes to a fresh folder under the system's temporary directory
// (removed at the end) unless --dir names one (kept).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "live/store.h"

namespace {

using namespace suanli::live;
using Clock = std::chrono::steady_clock;

struct Args {
  int threads = 16;
  int inserts = 2000;
  int64_t fill = 0;
  bool normal = false;
  bool reads = false;
  int max_batch = 1024;
  std::string dir;
};

[[noreturn]] void Usage(const char* msg) {
  std::fprintf(stderr,
               "live_store: %s\nusage: live_store [--threads N] [--inserts M] [--normal] [--max-batch B] "
               "[--fill J] [--reads] [--dir D]\n",
               msg);
  std::exit(2);
}

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Usage(("missing value after " + k).c_str());
      return argv[++i];
    };
    auto number = [&](int64_t lo) {
      std::string v = next();
      char* end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0' || n < lo) Usage((k + ": bad number '" + v + "'").c_str());
      return static_cast<int64_t>(n);
    };
    if (k == "--threads") {
      a.threads = static_cast<int>(number(1));
    } else if (k == "--inserts") {
      a.inserts = static_cast<int>(number(1));
    } else if (k == "--fill") {
      a.fill = number(1);
    } else if (k == "--reads") {
      a.reads = true;
    } else if (k == "--normal") {
      a.normal = true;
    } else if (k == "--max-batch") {
      a.max_batch = static_cast<int>(number(1));
    } else if (k == "--dir") {
      a.dir = next();
    } else {
      Usage(("unknown argument " + k).c_str());
    }
  }
  return a;
}

std::string VmHWM() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      auto p = line.find_first_not_of(" \t", 6);
      return p == std::string::npos ? line : line.substr(p);
    }
  }
  return "?";
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::unique_ptr<Store> OpenOrExit(const std::string& path, const StoreOptions& o) {
  auto s = Store::Open(path, o);
  if (!s.ok()) {
    std::fprintf(stderr, "live_store: %s\n", s.status().message().c_str());
    std::exit(1);
  }
  return std::move(*s);
}

// Job number n of the fill (a mix of states), or, with `submission`, as a
// client submits it: pending, not yet placed.
JobRecord SampleJob(int64_t n, bool submission) {
  static const char* kCenters[] = {"beijing", "shanghai", "shenzhen", "guiyang", "wuhan", "chengdu", "hefei", "xian"};
  static const char* kModels[] = {"a100", "h800", "ascend-910", "mlu370"};
  JobRecord r;
  const uint64_t h = static_cast<uint64_t>(n) * 0x9E3779B97F4A7C15ull;  // tenants and centers independent of states
  r.tenant = fmt::format("tenant{:02}", (h >> 40) % 100);
  r.spec.name = fmt::format("job-{}", n);
  r.spec.command = {"python3", "train.py", "--epochs", std::to_string(n % 50), "--seed", std::to_string(n)};
  r.spec.env = {{"MASTER_PORT", "29500"}, {"RUN", std::to_string(n)}};
  r.spec.gpus = static_cast<uint32_t>(1u << (n % 4));
  r.spec.cpu_milli = 8000;
  r.spec.mem_mib = 65536;
  r.spec.models = {kModels[n % 4]};
  r.spec.stacks = {n % 4 == 2 ? "cann" : "cuda"};
  r.spec.workload_class = n % 3 == 0 ? "inference" : "training";
  r.spec.time_limit_s = 86400;
  r.spec.priority = static_cast<int32_t>(n % 5);
  const int64_t day0 = 1700000000000;
  r.submit_ms = suanli::WallMs(day0 + n * 2592);  // 1,000,000 jobs over 30 days
  r.center = kCenters[(h >> 20) % 8];
  r.model = r.spec.models[0];
  r.node = fmt::format("node{:03}", n % 128);
  for (uint32_t d = 0; d < r.spec.gpus; ++d) r.devices.push_back(static_cast<int>(d));
  r.backend_id = std::to_string(100000 + n);
  int64_t k = submission ? 0 : n % 200;
  if (k == 0) {
    r.state = JobState::kPending;
    r.center.clear();
    r.model.clear();
    r.node.clear();
    r.devices.clear();
    r.backend_id.clear();
    r.reason = "waiting for 8 x a100";
  } else if (k == 1) {
    r.state = JobState::kRunning;
    r.start_ms = r.submit_ms + 1000;
  } else {
    r.state = k < 172 ? JobState::kSucceeded : (k < 192 ? JobState::kFailed : JobState::kCancelled);
    r.start_ms = r.submit_ms + 1000;
    r.end_ms = r.start_ms + 3600000;
    r.exit_code = r.state == JobState::kSucceeded ? 0 : 1;
    r.gpu_seconds = 3600.0 * r.spec.gpus.value();
    r.energy_kwh = 0.4 * r.spec.gpus.value();
    r.cost = 2.5 * r.spec.gpus.value();
    r.carbon_kg = 0.2 * r.spec.gpus.value();
  }
  return r;
}

struct InsertRun {
  double seconds = 0;
  std::vector<double> latency_ms;  // sorted
  int64_t errors = 0;
};

// `threads` threads each insert `per_thread` jobs numbered from `first`.
InsertRun Inserts(Store& s, int threads, int64_t per_thread, int64_t first, bool keep_latency, bool submissions) {
  std::vector<std::vector<double>> lat(threads);
  std::atomic<int64_t> errors{0};
  std::vector<std::thread> ts;
  auto t0 = Clock::now();
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      if (keep_latency) lat[t].reserve(per_thread);
      for (int64_t i = 0; i < per_thread; ++i) {
        JobRecord r = SampleJob(first + i * threads + t, submissions);
        auto a = Clock::now();
        auto id = s.InsertJob(r);
        auto b = Clock::now();
        if (!id.ok()) {
          if (errors.fetch_add(1) == 0) std::fprintf(stderr, "live_store: %s\n", id.status().message().c_str());
          continue;
        }
        if (keep_latency) lat[t].push_back(Ms(b - a));
      }
    });
  }
  for (auto& t : ts) t.join();
  InsertRun run;
  run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  for (auto& v : lat) run.latency_ms.insert(run.latency_ms.end(), v.begin(), v.end());
  std::sort(run.latency_ms.begin(), run.latency_ms.end());
  run.errors = errors.load();
  return run;
}

double Pct(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(std::llround(p * static_cast<double>(sorted.size() - 1)));
  return sorted[std::min(i, sorted.size() - 1)];
}

void PrintInserts(const char* label, const InsertRun& r, int64_t n, int64_t writes, int64_t commits) {
  std::printf(
      "%s: %lld inserts in %.2f s = %.0f inserts/s; latency p50 %.2f ms, p99 %.2f ms, max %.2f ms; "
      "%.1f writes per commit (%lld commits)%s\n",
      label, static_cast<long long>(n), r.seconds, static_cast<double>(n) / r.seconds, Pct(r.latency_ms, 0.5),
      Pct(r.latency_ms, 0.99), r.latency_ms.empty() ? 0.0 : r.latency_ms.back(),
      commits > 0 ? static_cast<double>(writes) / static_cast<double>(commits) : 0.0, static_cast<long long>(commits),
      r.errors > 0 ? fmt::format(" ({} ERRORS)", r.errors).c_str() : "");
}

// Median time of `reps` calls; `rows` gets the last call's row count.
double TimeIt(int reps, const std::function<size_t()>& f, size_t* rows) {
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    auto a = Clock::now();
    *rows = f();
    ms.push_back(Ms(Clock::now() - a));
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

int64_t FileSize(const std::string& p) {
  std::error_code ec;
  auto n = std::filesystem::file_size(p, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

template <typename R>
size_t RowsOrExit(R r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "live_store: %s: %s\n", what, r.status().message().c_str());
    std::exit(1);
  }
  if constexpr (requires { r->size(); }) {
    return r->size();
  } else {
    return 1;
  }
}

void Fill(const Args& a, const std::string& path) {
  {
    StoreOptions o;
    o.synchronous_full = false;  // filling only; the inserts measured below are durable
    o.max_batch = a.max_batch;
    auto s = OpenOrExit(path, o);
    int64_t per = a.fill / a.threads;
    int64_t extra = a.fill - per * a.threads;
    InsertRun r = Inserts(*s, a.threads, per, 0, false, false);
    if (extra > 0) {
      InsertRun r2 = Inserts(*s, static_cast<int>(extra), 1, per * a.threads, false, false);
      r.seconds += r2.seconds;
      r.errors += r2.errors;
    }
    std::printf("fill: %lld jobs in %.1f s (%.0f inserts/s, synchronous=NORMAL, %d threads, %.1f writes per commit)\n",
                static_cast<long long>(a.fill), r.seconds, static_cast<double>(a.fill) / r.seconds, a.threads,
                static_cast<double>(s->writes()) / static_cast<double>(std::max<int64_t>(1, s->commits())));
    if (r.errors > 0) std::exit(1);
  }
  std::printf("file size after close: %.1f MiB (%lld bytes/job)\n", static_cast<double>(FileSize(path)) / 1048576.0,
              static_cast<long long>(FileSize(path) / a.fill));
}

// Reads on a filled store of `jobs` jobs, then durable inserts into it.
void Reads(const Args& a, const std::string& path, int64_t jobs) {
  auto t0 = Clock::now();
  auto s = OpenOrExit(path, StoreOptions{});
  std::printf("open (durable): %.1f ms\n", Ms(Clock::now() - t0));

  const int reps = 21;
  auto list = [&](const char* label, JobFilter f) {
    size_t rows = 0;
    double ms = TimeIt(
        reps, [&] { return RowsOrExit(s->ListJobs(f), label); }, &rows);
    std::printf("  ListJobs %-44s %8.3f ms  (%zu rows)\n", label, ms, rows);
  };
  std::printf("reads (median of %d):\n", reps);
  JobFilter f;
  list("limit 100, no filter", f);
  f = {};
  f.tenant = "tenant42";
  list("tenant", f);
  f = {};
  f.states = {JobState::kRunning};
  list("state running", f);
  f = {};
  f.states = {JobState::kPending, JobState::kRunning};
  list("states pending+running", f);
  f = {};
  f.states = {JobState::kFailed, JobState::kCancelled};
  list("states failed+cancelled", f);
  f = {};
  f.center = "wuhan";
  list("center", f);
  f = {};
  f.tenant = "tenant42";
  f.states = {JobState::kPending, JobState::kRunning};
  list("tenant + states pending+running", f);
  f = {};
  f.center = "wuhan";
  f.states = {JobState::kRunning};
  list("center + state running", f);
  f = {};
  f.tenant = "tenant42";
  f.center = "wuhan";
  list("tenant + center", f);
  f = {};
  f.before_id = jobs / 2;
  list("before_id = middle (paging)", f);
  f = {};
  f.tenant = "tenant42";
  f.before_id = jobs / 2;
  list("tenant, before_id = middle", f);
  f = {};
  f.tenant = "nobody";
  list("tenant with no jobs", f);

  size_t rows = 0;
  double ms = TimeIt(
      5, [&] { return RowsOrExit(s->LoadActive(), "LoadActive"); }, &rows);
  std::printf("  LoadActive                                          %8.3f ms  (%zu rows)\n", ms, rows);
  ms = TimeIt(
      reps, [&] { return RowsOrExit(s->Counts(), "Counts"); }, &rows);
  std::printf("  Counts (all tenants)                                %8.3f ms\n", ms);
  ms = TimeIt(
      reps, [&] { return RowsOrExit(s->Counts("tenant42"), "Counts"); }, &rows);
  std::printf("  Counts (one tenant)                                 %8.3f ms\n", ms);
  ms = TimeIt(
      reps, [&] { return RowsOrExit(s->ActiveJobs("tenant42"), "ActiveJobs"); }, &rows);
  std::printf("  ActiveJobs (one tenant)                             %8.3f ms\n", ms);
  ms = TimeIt(
      reps, [&] { return RowsOrExit(s->GetJob(jobs / 3), "GetJob"); }, &rows);
  std::printf("  GetJob                                              %8.3f ms\n", ms);
  const suanli::WallMs day0{1700000000000};
  ms = TimeIt(
      5, [&] { return RowsOrExit(s->Usage("", day0 + 86400000LL * 10, day0 + 86400000LL * 11), "Usage"); }, &rows);
  std::printf("  Usage, all tenants, one day                         %8.3f ms  (%zu groups)\n", ms, rows);
  ms = TimeIt(
      5, [&] { return RowsOrExit(s->Usage("tenant42", day0, day0 + 86400000LL * 31), "Usage"); }, &rows);
  std::printf("  Usage, one tenant, 31 days                          %8.3f ms  (%zu groups)\n", ms, rows);

  InsertRun r = Inserts(*s, a.threads, 500, jobs, true, true);
  std::string label = fmt::format("{} threads x 500 durable submissions into the full store", a.threads);
  PrintInserts(label.c_str(), r, static_cast<int64_t>(a.threads) * 500, s->writes(), s->commits());
  std::printf("files: %s %.1f MiB, -wal %.1f MiB, -shm %.1f KiB\n", path.c_str(),
              static_cast<double>(FileSize(path)) / 1048576.0, static_cast<double>(FileSize(path + "-wal")) / 1048576.0,
              static_cast<double>(FileSize(path + "-shm")) / 1024.0);
}

}  // namespace

int main(int argc, char** argv) {
  Args a = Parse(argc, argv);
  bool temp = a.dir.empty();
  std::string dir =
      temp ? (std::filesystem::temp_directory_path() / fmt::format("suanli-store-bench-{}", getpid())).string() : a.dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string path = dir + "/store.db";
  if (a.fill > 0 && std::filesystem::exists(path)) {
    std::fprintf(stderr, "live_store: %s already exists; --fill needs a fresh folder\n", path.c_str());
    return 2;
  }
  if (a.fill > 0) {
    Fill(a, path);
    Reads(a, path, a.fill);
  } else if (a.reads) {
    if (!std::filesystem::exists(path)) {
      std::fprintf(stderr, "live_store: --reads needs a store filled by --fill in --dir (no %s)\n", path.c_str());
      return 2;
    }
    int64_t jobs = 0;
    {
      auto s = OpenOrExit(path, StoreOptions{});
      auto c = s->Counts();
      if (!c.ok()) {
        std::fprintf(stderr, "live_store: %s\n", c.status().message().c_str());
        return 1;
      }
      jobs = c->pending + c->running + c->succeeded + c->failed + c->cancelled;
    }
    std::printf("store of %lld jobs, %.1f MiB\n", static_cast<long long>(jobs),
                static_cast<double>(FileSize(path)) / 1048576.0);
    Reads(a, path, jobs);
  } else {
    StoreOptions o;
    o.synchronous_full = !a.normal;
    o.max_batch = a.max_batch;
    auto s = OpenOrExit(path, o);
    InsertRun r = Inserts(*s, a.threads, a.inserts, 0, true, true);
    std::string label = fmt::format("{} threads x {} {} submissions", a.threads, a.inserts,
                                    a.normal ? "synchronous=NORMAL" : "durable (synchronous=FULL)");
    PrintInserts(label.c_str(), r, static_cast<int64_t>(a.threads) * a.inserts, s->writes(), s->commits());
  }
  std::printf("peak RSS (VmHWM): %s\n", VmHWM().c_str());
  if (temp) std::filesystem::remove_all(dir, ec);
  return 0;
}
