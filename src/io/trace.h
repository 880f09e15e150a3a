// Trace importers: turn a public GPU-cluster trace (or Suanli's native
// format) into a Workload, and cluster descriptions into a Network.
// Every importer reads plain or gzip input, names file, line, field and what
// was expected on a malformed row, and with skip_invalid counts and reports
// skipped rows instead of stopping.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "core/model/catalog.h"
#include "core/model/job.h"
#include "core/model/network.h"
#include "io/csv.h"
#include "io/line_reader.h"

namespace suanli {

struct ImportOptions {
  bool skip_invalid = false;
  size_t max_reported_errors = 10;  // first N skipped-row messages kept
  // Gavel: file with measured per-type throughputs (simulation_throughputs.json[.gz]);
  // empty = use the bundled copy (see docs/formats-traces.md for the search order).
  std::string throughputs_path;
  // Gavel: the throughputs file's contents (plain or gzip bytes); when set it is used
  // instead of any file, e.g. for data compiled into the binary.
  std::string throughputs_data;
  // Helios/Acme/PAI/Philly: default GPU model for jobs whose trace names none ("" = any).
  std::string default_model;
};

struct ImportReport {
  size_t rows = 0;                  // data rows read
  size_t imported = 0;              // jobs produced
  size_t skipped = 0;               // invalid rows skipped (skip_invalid)
  size_t ignored = 0;               // valid rows that are not jobs (e.g. never started, CPU-only where dropped)
  size_t assumed = 0;               // jobs with a figure the trace lacks, filled by a documented assumption
  std::string assumed_note;         // what was assumed (one line)
  std::vector<std::string> errors;  // the first max_reported_errors skip messages
  std::string Summary() const;
};

// One trace format: a name, a description, and a parser.
struct TraceFormat {
  std::string name;         // "native", "openb", "gavel", ...
  std::string description;  // one line for `suanli trace formats`
  // Parses the whole input into `out`. Errors name reader.Where() and the field.
  Status (*parse)(LineReader& reader, const Catalog& catalog, const ImportOptions& opts, Workload* out,
                  ImportReport* report) = nullptr;
};

const std::vector<TraceFormat>& TraceFormats();
const TraceFormat* FindTraceFormat(std::string_view name);
// Guesses the format from the file name and first line ("" if unknown).
std::string GuessTraceFormat(const std::string& path);

// Opens `path` and parses it with the named format ("" = guess).
Result<Workload> ImportWorkload(const std::string& path, std::string_view format, const Catalog& catalog,
                                const ImportOptions& opts, ImportReport* report);

// Cluster descriptions found in traces.
struct ClusterFormat {
  // "openb-nodes", "tiresias-cluster", "pai-machines", "philly-machines", "spot-nodes"
  std::string name;
  std::string description;
  Status (*parse)(LineReader& reader, const Catalog& catalog, const ImportOptions& opts, Network* out) = nullptr;
};
const std::vector<ClusterFormat>& ClusterFormats();
const ClusterFormat* FindClusterFormat(std::string_view name);
Result<Network> ImportCluster(const std::string& path, std::string_view format, const Catalog& catalog,
                              const ImportOptions& opts);
// Guesses the cluster format from the file name and first line ("" if unknown).
std::string GuessClusterFormat(const std::string& path);

// Gavel's measured throughputs: steps per second of (job type, scale factor)
// running alone on each accelerator model; 0 = cannot run there.
struct GavelThroughputs {
  struct Rate {
    ModelId model = 0;
    double steps_per_s = 0;
  };
  std::map<std::pair<std::string, int>, std::vector<Rate>> table;
  const std::vector<Rate>* Find(std::string_view job_type, int scale_factor) const;
};
// Parses simulation_throughputs.json from memory (plain or gzip bytes). Worker types
// ("v100", "p100", "k80") are resolved with Catalog::Find; "*_unconsolidated" are ignored.
Result<GavelThroughputs> ParseGavelThroughputs(std::string_view data, const std::string& name, const Catalog& catalog);
// Parses one Gavel trace (msr or physical_cluster layout) with the given throughputs.
// `tenant` is the VC name (Gavel traces name it only in the file name).
Status ParseGavelTrace(LineReader& reader, const GavelThroughputs& throughputs, std::string_view tenant,
                       const Catalog& catalog, const ImportOptions& opts, Workload* out, ImportReport* report);

// Helpers shared by the importers (src/io/import_*.cc); not a stable API.
namespace import_detail {

// Counts and keeps skipped-row messages under ImportOptions::skip_invalid.
class RowErrors {
 public:
  RowErrors(const ImportOptions& opts, ImportReport* report) : opts_(opts), report_(report) {}
  // Ok when the row may be dropped (skip_invalid), else the error itself.
  Status Skip(const Status& error);

 private:
  const ImportOptions& opts_;
  ImportReport* report_;
};

// LineReader::Open, but a gzip stream cut short is always reported by status().
Result<std::unique_ptr<LineReader>> OpenTraceFile(const std::string& path);

// "dir/openb_pod_list_default.csv.gz" -> "openb_pod_list_default".
std::string TraceStem(std::string_view path);
// Directory part of a path ("" when there is none).
std::string DirName(std::string_view path);
// Catalog::Find, then a few spellings traces use ("A100-SXM4-80GB" -> "A100-80GB" -> "A100").
std::optional<ModelId> ResolveModel(const Catalog& catalog, std::string_view name);
// A list of GPU type names (e.g. "V100M16|V100M32") as a model mask; "" -> 0 (any).
Result<ModelMask> ParseModelList(const CsvRow& row, size_t i, const char* field, const Catalog& catalog,
                                 char sep = '|');
// Model for traces that name none: opts.default_model ("" -> 0 = any).
Result<ModelMask> DefaultModelMask(const Catalog& catalog, const ImportOptions& opts);

// Largest accepted magnitudes; anything above is a row error, so that later
// arithmetic (seconds to microseconds, milli units) cannot overflow.
inline constexpr double kMaxSeconds = 1e11;     // about 3,000 years
inline constexpr int64_t kMaxGpus = 1'000'000;  // devices in one job

// Numeric fields with a range check; the message names the range.
Result<double> Number(const CsvRow& row, size_t i, const char* field, double lo, double hi);
Result<double> NumberOr(const CsvRow& row, size_t i, const char* field, double lo, double hi, double dflt);
Result<int64_t> Integer(const CsvRow& row, size_t i, const char* field, int64_t lo, int64_t hi);
// Integer given as a float with no fraction ("8.0"); PAI prints counts that way.
Result<int64_t> WholeNumber(const CsvRow& row, size_t i, const char* field, int64_t lo, int64_t hi);

// "YYYY-MM-DD HH:MM:SS[.ffff][Z|+HH:MM|-HH:MM]" (or 'T' between date and time) to
// seconds since 1970-01-01 UTC; a time without an offset is read as UTC.
std::optional<double> ParseDateTime(std::string_view s);

// Reads data rows (blank lines are skipped), splits them on `sep` and calls `fn`.
// A row with fewer than `min_fields` fields, an unterminated quote or an error
// from `fn` stops the parse, or with skip_invalid is counted and skipped.
// Counts report->rows (report may be null).
Status ForEachRow(LineReader& reader, char sep, size_t min_fields, const ImportOptions& opts, ImportReport* report,
                  const std::function<Status(const CsvRow&)>& fn);

// Reads the header line (the first non-empty line) and splits it.
Result<std::vector<std::string>> ReadHeader(LineReader& reader, char sep = ',');
// Column index of `name`, or an error naming the file and the missing column.
Result<size_t> RequireColumn(const LineReader& reader, const std::vector<std::string>& header, std::string_view name);
// Index of `name` or SIZE_MAX when absent.
size_t OptionalColumn(const std::vector<std::string>& header, std::string_view name);

// Shifts the jobs from `first` on so that the earliest submit among them is 0.
void ShiftToZero(Workload* w, size_t first);
// Ends a parse: checks the reader's status (e.g. a truncated gzip), sorts by submit,
// renumbers speed overrides in job order, fills the report.
Status FinishWorkload(LineReader& reader, size_t first, Workload* w, ImportReport* report);
// Workload class from a model name in a trace ("resnet50" -> cnn, "bert" -> transformer).
WorkloadClass ClassFromModelName(std::string_view name);

// Builds a one-center network from node rows: one pool per model, 8 consecutive
// nodes per rack (or racks given explicitly), 8 racks per pod.
class NetworkBuilder {
 public:
  NetworkBuilder(std::string name, const Catalog& catalog);
  // rack < 0: the next rack of 8 consecutive nodes.
  void AddNode(std::string name, ModelId model, int devices, int64_t cpu_milli, int64_t mem_mib, int64_t rack = -1);
  size_t size() const { return net_.nodes.size(); }
  Result<Network> Finish();

 private:
  const Catalog& catalog_;
  Network net_;
  std::map<ModelId, PoolId> pools_;
  int64_t auto_rack_count_ = 0;
  std::map<int64_t, uint32_t> explicit_racks_;
};

// The parsers behind TraceFormats() and ClusterFormats().
using TraceParser = Status (*)(LineReader&, const Catalog&, const ImportOptions&, Workload*, ImportReport*);
using ClusterParser = Status (*)(LineReader&, const Catalog&, const ImportOptions&, Network*);
Status ParseNative(LineReader&, const Catalog&, const ImportOptions&, Workload*, ImportReport*);
Status ParseOpenb(LineReader&, const Catalog&, const ImportOptions&, Workload*, ImportReport*);
Status ParseGavel(LineReader&, const Catalog&, const ImportOptions&, Workload*, ImportReport*);
Status ParseTiresias(LineReader&, const Catalog&, const ImportOptions&, Workload*, ImportReport*);
Status ParseSynergy(LineReader&, const Catalog&, const ImportOptions&, Workload*, ImportReport*);
Status ParseSwf(LineReader&, const Catalog&, const ImportOptions&, Workload*, ImportReport*);
Status ParsePai(LineReader&, const Catalog&, const ImportOptions&, Workload*, ImportReport*);
Status ParseHelios(LineReader&, const Catalog&, const ImportOptions&, Workload*, ImportReport*);
Status ParseAcme(LineReader&, const Catalog&, const ImportOptions&, Workload*, ImportReport*);
Status ParsePhilly(LineReader&, const Catalog&, const ImportOptions&, Workload*, ImportReport*);
Status ParseDlrm(LineReader&, const Catalog&, const ImportOptions&, Workload*, ImportReport*);
Status ParseOpenbNodes(LineReader&, const Catalog&, const ImportOptions&, Network*);
Status ParseTiresiasCluster(LineReader&, const Catalog&, const ImportOptions&, Network*);
Status ParsePaiMachines(LineReader&, const Catalog&, const ImportOptions&, Network*);
Status ParsePhillyMachines(LineReader&, const Catalog&, const ImportOptions&, Network*);
Status ParseSpotNodes(LineReader&, const Catalog&, const ImportOptions&, Network*);

}  // namespace import_detail
}  // namespace suanli
