// Trace importers: turn a public GPU-cluster trace (or Suanli's native
// format) into a Workload, and cluster descriptions into a Network.
// Every importer reads plain or gzip input, names file, line, field and what
// was expected on a malformed row, and with skip_invalid counts and reports
// skipped rows instead of stopping.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "core/model/catalog.h"
#include "core/model/job.h"
#include "core/model/network.h"
#include "io/line_reader.h"

namespace suanli {

struct ImportOptions {
  bool skip_invalid = false;
  size_t max_reported_errors = 10;  // first N skipped-row messages kept
  // Gavel: file with measured per-type throughputs (simulation_throughputs.json[.gz]);
  // empty = use the bundled copy.
  std::string throughputs_path;
  // Helios/Acme/PAI/Philly: default GPU model for jobs whose trace names none ("" = any).
  std::string default_model;
};

struct ImportReport {
  size_t rows = 0;       // data rows read
  size_t imported = 0;   // jobs produced
  size_t skipped = 0;    // invalid rows skipped (skip_invalid)
  size_t ignored = 0;    // valid rows that are not jobs (e.g. never started, CPU-only where dropped)
  std::vector<std::string> errors;  // the first max_reported_errors skip messages
  std::string Summary() const;
};

// One trace format: a name, a description, and a parser.
struct TraceFormat {
  std::string name;         // "native", "openb", "gavel", ...
  std::string description;  // one line for `suanli trace formats`
  // Parses the whole input into `out`. Errors name reader.Where() and the field.
  Status (*parse)(LineReader& reader, const Catalog& catalog, const ImportOptions& opts,
                  Workload* out, ImportReport* report) = nullptr;
};

const std::vector<TraceFormat>& TraceFormats();
const TraceFormat* FindTraceFormat(std::string_view name);
// Guesses the format from the file name and first line ("" if unknown).
std::string GuessTraceFormat(const std::string& path);

// Opens `path` and parses it with the named format ("" = guess).
Result<Workload> ImportWorkload(const std::string& path, std::string_view format,
                                const Catalog& catalog, const ImportOptions& opts,
                                ImportReport* report);

// Cluster descriptions found in traces.
struct ClusterFormat {
  std::string name;  // "openb-nodes", "tiresias-cluster", "pai-machines", "philly-machines", "spot-nodes"
  std::string description;
  Status (*parse)(LineReader& reader, const Catalog& catalog, const ImportOptions& opts,
                  Network* out) = nullptr;
};
const std::vector<ClusterFormat>& ClusterFormats();
const ClusterFormat* FindClusterFormat(std::string_view name);
Result<Network> ImportCluster(const std::string& path, std::string_view format,
                              const Catalog& catalog, const ImportOptions& opts);

}  // namespace suanli
