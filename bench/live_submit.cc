// live_submit: submission throughput and latency of a running `suanli serve`.
//
//   live_submit --url http://127.0.0.1:8080 --token TOKEN [--threads 16] [--seconds 10] [--runs 3]
//
// Each of --threads client threads holds one keep-alive connection and posts
// jobs (POST /api/v1/jobs; durable: the server answers 201 only once the job
// is on disk) back to back for --seconds. It prints the acknowledged (201)
// submissions per second and the latency percentiles of each run, then the
// median run. --json prints one JSON object per run and the median.
//
// The job by default: {"command":["true"],"cpu_milli":100,"mem_mib":64,
// "duration_s":3600,"name":"bench"} (on a simulated network it "runs" an hour);
// --body gives another.
//
// Fill mode, for the 1,000,000-job memory test (bench/live_memory.sh):
//
//   live_submit --fill-store DATA_DIR/suanli.db --jobs 1000000 [--threads 16]
//
// writes finished jobs (succeeded, with metering) straight into a server's
// store with the store's own API (live::Store::InsertJob, group-committed),
// while the server is stopped; much faster than the HTTP API.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <httplib.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "live/store.h"

namespace {

using Clock = std::chrono::steady_clock;

struct RunResult {
  int64_t acked = 0, errors = 0, transport_errors = 0;
  double seconds = 0;
  double rate = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
  std::string first_error;
};

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

RunResult RunOnce(const std::string& url, const std::string& token, const std::string& body, int threads,
                  double seconds) {
  std::vector<std::vector<double>> lat(static_cast<size_t>(threads));
  std::vector<int64_t> acked(static_cast<size_t>(threads), 0), errors(static_cast<size_t>(threads), 0),
      transport(static_cast<size_t>(threads), 0);
  std::vector<std::string> first_error(static_cast<size_t>(threads));
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> ts;
  Clock::time_point start, end;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      httplib::Client c(url);
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);  // headers and body are two writes: no Nagle delay between them
      c.set_bearer_token_auth(token);
      c.set_connection_timeout(5, 0);
      c.set_read_timeout(30, 0);
      c.enable_server_certificate_verification(false);
      // Connect before the clock starts.
      (void)c.Get("/api/v1/health");
      auto& l = lat[static_cast<size_t>(t)];
      l.reserve(1 << 16);
      ++ready;
      while (!go.load()) std::this_thread::yield();
      while (true) {
        auto t0 = Clock::now();
        if (t0 >= end) break;
        auto r = c.Post("/api/v1/jobs", body, "application/json");
        auto t1 = Clock::now();
        if (!r) {
          ++transport[static_cast<size_t>(t)];
          if (first_error[static_cast<size_t>(t)].empty())
            first_error[static_cast<size_t>(t)] = httplib::to_string(r.error());
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
          continue;
        }
        if (r->status == 201) {
          ++acked[static_cast<size_t>(t)];
          l.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        } else {
          ++errors[static_cast<size_t>(t)];
          if (first_error[static_cast<size_t>(t)].empty()) {
            first_error[static_cast<size_t>(t)] = fmt::format("HTTP {}: {}", r->status, r->body.substr(0, 200));
          }
        }
      }
    });
  }
  while (ready.load() < threads) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  start = Clock::now();
  end = start + std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
  go.store(true);
  for (auto& t : ts) t.join();
  RunResult r;
  r.seconds = std::chrono::duration<double>(std::max(Clock::now(), end) - start).count();
  std::vector<double> all;
  for (int t = 0; t < threads; ++t) {
    r.acked += acked[static_cast<size_t>(t)];
    r.errors += errors[static_cast<size_t>(t)];
    r.transport_errors += transport[static_cast<size_t>(t)];
    if (r.first_error.empty()) r.first_error = first_error[static_cast<size_t>(t)];
    all.insert(all.end(), lat[static_cast<size_t>(t)].begin(), lat[static_cast<size_t>(t)].end());
  }
  r.rate = static_cast<double>(r.acked) / seconds;
  r.p50_ms = Percentile(all, 0.50);
  r.p90_ms = Percentile(all, 0.90);
  r.p99_ms = Percentile(all, 0.99);
  r.max_ms = all.empty() ? 0 : *std::max_element(all.begin(), all.end());
  return r;
}

nlohmann::json ToJson(const RunResult& r) {
  return {{"acked", r.acked},     {"errors", r.errors}, {"transport_errors", r.transport_errors},
          {"seconds", r.seconds}, {"rate", r.rate},     {"p50_ms", r.p50_ms},
          {"p90_ms", r.p90_ms},   {"p99_ms", r.p99_ms}, {"max_ms", r.max_ms}};
}

int Fill(const std::string& db, int64_t jobs, int threads) {
  suanli::live::StoreOptions so;
  so.synchronous_full = false;  // filling a test store: speed over power-cut safety
  auto store = suanli::live::Store::Open(db, so);
  if (!store.ok()) {
    std::fprintf(stderr, "live_submit: %s\n", store.status().message().c_str());
    return 1;
  }
  const int64_t base_ms = 1'700'000'000'000;
  const char* tenants[] = {"alice", "bob", "carol", "dave"};
  const char* centers[] = {"east", "west"};
  const char* models[] = {"A100-80GB", "V100-32GB"};
  std::atomic<int64_t> next{0}, failed{0};
  auto t0 = Clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&] {
      while (true) {
        int64_t i = next.fetch_add(1);
        if (i >= jobs) break;
        suanli::live::JobRecord r;
        r.tenant = tenants[i % 4];
        r.spec.name = fmt::format("job-{}", i);
        r.spec.command = {"python", "train.py", "--epochs", std::to_string(1 + i % 50)};
        r.spec.gpus = static_cast<uint32_t>(1 << (i % 4));
        r.spec.cpu_milli = 4000;
        r.spec.mem_mib = 16384;
        r.spec.workload_class = "training";
        r.spec.time_limit_s = 7200;
        r.state = suanli::live::JobState::kSucceeded;
        r.submit_ms = suanli::WallMs(base_ms + i * 1000);
        r.start_ms = r.submit_ms + 5000;
        r.end_ms = r.start_ms + 600'000;
        r.center = centers[i % 2];
        r.model = models[i % 2];
        r.node = fmt::format("{}-node-{}", r.center, i % 16);
        for (uint32_t d = 0; d < r.spec.gpus; ++d) r.devices.push_back(static_cast<int>(d));
        r.backend_id = std::to_string(i);
        r.exit_code = 0;
        r.reason = "exit 0";
        r.gpu_seconds = 600.0 * r.spec.gpus.value();
        r.energy_kwh = 0.07 * r.spec.gpus.value();
        r.cost = 0.05 * r.spec.gpus.value();
        r.carbon_kg = 0.04 * r.spec.gpus.value();
        auto id = (*store)->InsertJob(r);
        if (!id.ok()) {
          if (failed.fetch_add(1) == 0)
            std::fprintf(stderr, "live_submit: insert: %s\n", id.status().message().c_str());
        }
        if (i > 0 && i % 100000 == 0) {
          std::fprintf(stderr, "live_submit: %lld jobs written (%.0f/s)\n", static_cast<long long>(i),
                       static_cast<double>(i) / std::chrono::duration<double>(Clock::now() - t0).count());
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("live_submit: filled %s with %lld finished jobs in %.1f s (%.0f/s), %lld failed, %lld commits\n",
              db.c_str(), static_cast<long long>(jobs), s, static_cast<double>(jobs) / s,
              static_cast<long long>(failed.load()), static_cast<long long>((*store)->commits()));
  return failed.load() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Submission throughput and latency of a running suanli serve (or --fill-store)"};
  std::string url = "http://127.0.0.1:8080", token, body, fill;
  int threads = 16, runs = 1;
  double seconds = 10;
  int64_t jobs = 1'000'000;
  bool json_out = false;
  app.add_option("--url", url, "Server URL");
  app.add_option("--token", token, "Bearer token (default: $SUANLI_TOKEN)");
  app.add_option("--threads", threads, "Client threads, one keep-alive connection each")->check(CLI::Range(1, 1024));
  app.add_option("--seconds", seconds, "Duration of one run")->check(CLI::Range(0.1, 86400.0));
  app.add_option("--runs", runs, "Runs; the median run is reported last")->check(CLI::Range(1, 100));
  app.add_option("--body", body, "Job spec JSON to post");
  app.add_flag("--json", json_out, "JSON output");
  app.add_option("--fill-store", fill, "Fill this store file (suanli.db of a stopped server) instead");
  app.add_option("--jobs", jobs, "Jobs to write with --fill-store")->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  CLI11_PARSE(app, argc, argv);
  if (!fill.empty()) return Fill(fill, jobs, threads);
  if (token.empty()) {
    const char* t = std::getenv("SUANLI_TOKEN");
    if (t) token = t;
  }
  if (body.empty()) {
    body = R"({"command":["true"],"cpu_milli":100,"mem_mib":64,"duration_s":3600,"name":"bench"})";
  }
  std::vector<RunResult> results;
  for (int i = 0; i < runs; ++i) {
    RunResult r = RunOnce(url, token, body, threads, seconds);
    results.push_back(r);
    if (json_out) {
      nlohmann::json j = ToJson(r);
      j["run"] = i + 1;
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf(
          "run %d: %lld acknowledged in %.1f s: %.0f/s  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.1f ms"
          "  (%lld error answers, %lld transport errors)\n",
          i + 1, static_cast<long long>(r.acked), seconds, r.rate, r.p50_ms, r.p90_ms, r.p99_ms, r.max_ms,
          static_cast<long long>(r.errors), static_cast<long long>(r.transport_errors));
    }
    if (!r.first_error.empty()) std::fprintf(stderr, "live_submit: first error: %s\n", r.first_error.c_str());
    std::fflush(stdout);
  }
  std::sort(results.begin(), results.end(), [](const RunResult& a, const RunResult& b) { return a.rate < b.rate; });
  const RunResult& med = results[results.size() / 2];
  if (json_out) {
    nlohmann::json j = ToJson(med);
    j["median_of"] = runs;
    j["threads"] = threads;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("median of %d run(s), %d threads: %.0f acknowledged submissions/s, p50 %.2f ms, p99 %.2f ms\n", runs,
                threads, med.rate, med.p50_ms, med.p99_ms);
  }
  return med.acked > 0 ? 0 : 1;
}
