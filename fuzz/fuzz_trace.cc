// libFuzzer target for one trace or cluster importer, named at compile time by
// SUANLI_FUZZ_FORMAT (SUANLI_FUZZ_CLUSTER=1 for cluster formats).
//
// Input: one flags byte, then the file's text. Flags: bit 0 = skip_invalid,
// bit 1 = keep no error messages, bit 2 = a default GPU model, bit 3 = (gavel
// only) parse the rest as a throughputs JSON instead of a trace.
//
// Beyond "no crash", a successful parse must give a consistent result: jobs
// sorted with dense ids, valid GPU shares, and a workload that the native
// writer and reader carry over unchanged; networks must validate.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "io/model_loader.h"
#include "io/native_format.h"
#include "io/trace.h"

#ifndef SUANLI_FUZZ_FORMAT
#error "define SUANLI_FUZZ_FORMAT"
#endif

namespace {

using namespace suanli;

// A slice of Gavel's simulation_throughputs.json, so that the gavel target reads no files.
const char kThroughputs[] = R"json({
  "v100": {"('ResNet-18 (batch size 64)', 1)": {"null": 10.5}, "('ResNet-18 (batch size 64)', 4)": {"null": 30.0},
           "('Transformer (batch size 128)', 1)": {"null": 5.4}, "('A3C', 1)": {"null": 7.1},
           "('Recommendation (batch size 8192)', 1)": {"null": 2.8}, "('LM (batch size 80)', 2)": {"null": 3.0}},
  "p100": {"('ResNet-18 (batch size 64)', 1)": {"null": 5.2}, "('ResNet-18 (batch size 64)', 4)": {"null": 14.0},
           "('Transformer (batch size 128)', 1)": {"null": 3.1}, "('A3C', 1)": {"null": 5.0},
           "('Recommendation (batch size 8192)', 1)": {"null": 5.5}, "('LM (batch size 80)', 2)": {"null": 2.0}},
  "k80": {"('ResNet-18 (batch size 64)', 1)": {"null": 2.0}, "('ResNet-18 (batch size 64)', 4)": {"null": 0.0},
          "('Transformer (batch size 128)', 1)": {"null": 0.98}, "('A3C', 1)": {"null": 4.1},
          "('Recommendation (batch size 8192)', 1)": {"null": 2.7}, "('LM (batch size 80)', 2)": {"null": 0.5}}
})json";

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "fuzz_trace(%s): invariant violated: %s\n", SUANLI_FUZZ_FORMAT, what);
  std::abort();
}

#if !SUANLI_FUZZ_CLUSTER
void CheckWorkload(const Workload& w, const Catalog& catalog) {
  if (w.names.size() != w.jobs.size()) Fail("names not aligned with jobs");
  for (JobId i : w.jobs.ids()) {
    const Job& j = w.jobs[i];
    if (j.id != i) Fail("ids not dense");
    if (i.value() > 0 && w.jobs[JobId{i.value() - 1}].submit > j.submit) Fail("not sorted by submit");
    if (j.submit < 0) Fail("negative submit");
    if (!(j.work >= 0) || !std::isfinite(j.work)) Fail("bad work");
    if (!(j.estimate >= 0) || !std::isfinite(j.estimate)) Fail("bad estimate");
    if (j.gpu_milli < 1 || j.gpu_milli > kWholeDevice) Fail("gpu_milli out of range");
    if (j.num_gpus != 1 && j.gpu_milli != kWholeDevice) Fail("a share on a multi-GPU or CPU job");
    if (j.cpu_milli < 0 || j.mem_mib < 0) Fail("negative cpu or memory");
    if (j.tenant.value() >= w.tenants.size() || j.user >= w.users.size()) Fail("tenant or user out of range");
    if (j.speed_override != kNoOverride) {
      if (j.speed_override >= w.overrides.size()) Fail("override out of range");
      for (const auto& [m, secs] : w.overrides[j.speed_override].seconds)
        if (m >= catalog.size() || !(secs >= 0) || !std::isfinite(secs)) Fail("bad override");
    }
  }
  // The native writer and reader must carry the workload over unchanged.
  auto reader = LineReader::FromString(NativeWorkloadString(w, catalog), "roundtrip");
  Workload back;
  ImportReport report;
  Status st = FindTraceFormat("native")->parse(*reader, catalog, ImportOptions{}, &back, &report);
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    Fail("native round trip does not parse");
  }
  if (back.jobs.size() != w.jobs.size()) Fail("native round trip lost jobs");
  for (JobId i : w.jobs.ids()) {
    const Job &a = w.jobs[i], &b = back.jobs[i];
    if (a.submit != b.submit || a.num_gpus != b.num_gpus || a.gpu_milli != b.gpu_milli || a.cpu_milli != b.cpu_milli ||
        a.mem_mib != b.mem_mib || a.models != b.models || a.cls != b.cls || a.work != b.work ||
        a.estimate != b.estimate || a.priority != b.priority ||
        (a.speed_override == kNoOverride) != (b.speed_override == kNoOverride))
      Fail("native round trip changed a job");
    // Names are compared as the writer leaves them: line breaks become spaces
    // (docs/formats-traces.md), and the reader trims place names.
    auto place = [](const Workload& x, uint16_t p) {
      if (p == kNoPlace) return std::string("\n");
      std::string s = x.places.Name(p);
      for (char& c : s)
        if (c == '\r' || c == '\n') c = ' ';
      return std::string(Trim(s));
    };
    if (a.data_gb != b.data_gb || a.latency_ms != b.latency_ms || a.service != b.service || a.deadline != b.deadline ||
        a.checkpoint != b.checkpoint || place(w, a.home) != place(back, b.home) ||
        place(w, a.data_at) != place(back, b.data_at) || place(w, a.region) != place(back, b.region))
      Fail("native round trip changed a job's network fields");
  }
}
#endif

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Catalog& catalog = BuiltinCatalog();
  uint8_t flags = 0;
  if (size > 0) {
    flags = data[0];
    ++data;
    --size;
  }
  std::string text(reinterpret_cast<const char*>(data), size);
  ImportOptions opts;
  opts.skip_invalid = flags & 1;
  opts.max_reported_errors = (flags & 2) ? 0 : 3;
  if (flags & 4) opts.default_model = "V100";
  opts.throughputs_data = kThroughputs;
#if SUANLI_FUZZ_CLUSTER
  const ClusterFormat* f = FindClusterFormat(SUANLI_FUZZ_FORMAT);
  if (!f) Fail("unknown cluster format");
  auto reader = LineReader::FromString(std::move(text), "fuzz");
  Network net;
  Status st = f->parse(*reader, catalog, opts, &net);
  if (st.ok()) {
    if (!net.Validate(catalog).ok()) Fail("imported network does not validate");
    if (net.centers.size() != 1) Fail("expected one center");
  } else if (st.message().empty()) {
    Fail("error without a message");
  }
#else
  const TraceFormat* f = FindTraceFormat(SUANLI_FUZZ_FORMAT);
  if (!f) Fail("unknown trace format");
  if (std::string_view(SUANLI_FUZZ_FORMAT) == "gavel" && (flags & 8)) {
    auto tp = ParseGavelThroughputs(text, "fuzz", catalog);
    if (tp.ok()) {
      for (const auto& [key, rates] : tp->table)
        for (const auto& r : rates)
          if (r.model >= catalog.size() || !(r.steps_per_s >= 0)) Fail("bad throughput");
    }
    return 0;
  }
  auto reader = LineReader::FromString(std::move(text), "fuzz");
  Workload w;
  ImportReport report;
  Status st = f->parse(*reader, catalog, opts, &w, &report);
  if (st.ok()) {
    if (report.imported != w.jobs.size()) Fail("report.imported != jobs");
    if (report.errors.size() > opts.max_reported_errors) Fail("too many kept errors");
    if (!opts.skip_invalid && report.skipped != 0) Fail("skipped rows without skip_invalid");
    CheckWorkload(w, catalog);
  } else if (st.message().empty()) {
    Fail("error without a message");
  }
#endif
  return 0;
}
