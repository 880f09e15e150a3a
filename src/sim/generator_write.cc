// The workload generator run to the end (see generator.h): the whole workload
// in memory, or written to a native workload file while the next chunks are
// generated.
#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "io/native_format.h"
#include "io/output_file.h"
#include "sim/generator.h"

namespace suanli {

namespace {
constexpr size_t kChunk = 1 << 15;
}  // namespace

Result<Workload> GenerateWorkload(const GenOptions& opts, const Catalog& catalog) {
  SUANLI_ASSIGN_OR_RETURN(auto gen, WorkloadGenerator::Create(opts, catalog));
  Workload w = gen.NewWorkload();
  while (gen.Next(kChunk, &w) > 0) {}
  return w;
}

Status WriteGeneratedWorkload(const GenOptions& opts, const Catalog& catalog, const std::string& path,
                              GenSummary* summary) {
  SUANLI_ASSIGN_OR_RETURN(auto gen, WorkloadGenerator::Create(opts, catalog));
  SUANLI_ASSIGN_OR_RETURN(auto sink, OutputFile::Open(path, 1));  // fastest: 10M jobs well under a minute
  // Two stages: this thread writes (and compresses) while a second one generates
  // and formats the next chunks. The order of the chunks, and so the file, does
  // not depend on the timing.
  const bool network = gen.network_columns();
  const NativeColumns columns = network ? NativeColumns::kNetwork : NativeColumns::kBase;
  const std::string header = fmt::format("{}\n{}\n", kNativeMagic, NativeHeaderLine(network));
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> queue;
  bool done = false, stop = false;
  Status produced;
  GenSummary sum;
  Time first = 0, last = 0;
  std::vector<Job> large;  // china-aicc large-model jobs (a few)
  std::thread producer([&] {
    Workload chunk = gen.NewWorkload();
    bool first_chunk = true;
    while (gen.Next(kChunk, &chunk) > 0) {
      for (const Job& j : chunk.jobs) {
        if (network && j.checkpoint != 0) {
          large.push_back(j);  // counted inside the span at the end
        } else {
          sum.accelerator_seconds += static_cast<double>(j.GpuMilli()) / 1000 * j.work;
        }
        sum.services += j.service;
        sum.deferrable += j.Deferrable();
        sum.large_jobs += j.checkpoint != 0;
      }
      if (first_chunk) first = chunk.jobs.front().submit;
      last = chunk.jobs.back().submit;
      std::string text = NativeWorkloadString(chunk, catalog, columns);
      chunk.jobs.clear();
      // Every chunk is written as a whole workload; keep the header of the first only.
      if (!first_chunk) {
        if (text.compare(0, header.size(), header) != 0) {
          std::lock_guard<std::mutex> lock(mu);
          produced = Internal("native writer output does not start with the expected header");
          break;
        }
        text.erase(0, header.size());
      }
      first_chunk = false;
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return queue.size() < 4 || stop; });
      if (stop) break;
      queue.push_back(std::move(text));
      cv.notify_all();
    }
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_all();
  });
  Status written;
  while (true) {
    std::string text;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return !queue.empty() || done; });
      if (queue.empty()) break;
      text = std::move(queue.front());
      queue.pop_front();
      cv.notify_all();
    }
    written = sink.Write(text);
    if (!written.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
      cv.notify_all();
      break;
    }
  }
  producer.join();
  SUANLI_RETURN_IF_ERROR(produced);
  SUANLI_RETURN_IF_ERROR(written);
  SUANLI_RETURN_IF_ERROR(sink.Close());
  sum.jobs = gen.generated();
  sum.span = last - first;
  sum.arrival_rate = gen.arrival_rate();
  sum.mean_accelerators = gen.mean_accelerators();
  sum.mean_duration = gen.mean_duration();
  sum.work_scale = gen.work_scale();
  // A large-model job offers, within the span, the part of its run before the
  // last arrival (as if it started when submitted).
  for (const Job& j : large)
    sum.accelerator_seconds += static_cast<double>(j.GpuMilli()) / 1000 * std::min(j.work, ToSeconds(last - j.submit));
  if (sum.span > 0) sum.offered_load = sum.accelerator_seconds / (ToSeconds(sum.span) * static_cast<double>(opts.gpus));
  if (summary) *summary = sum;
  return Status::Ok();
}

}  // namespace suanli
