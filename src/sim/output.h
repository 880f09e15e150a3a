// What a simulation run writes (docs/formats-output.md): summary.json, jobs.csv,
// utilization.csv, centers.csv, usage.csv, and
// the comparison table printed on the terminal. All output is a pure function
// of the results, so identical runs give byte-identical files.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "core/model/catalog.h"
#include "core/model/job.h"
#include "core/model/network.h"
#include "sim/engine.h"

namespace suanli {

struct RunInfo {
  std::string workload;  // name or path as given
  std::string network;
  uint64_t seed = 0;
};

std::string SummaryJson(const RunInfo& info, const std::vector<SimResult>& results);
Status WriteSummaryJson(const std::string& path, const RunInfo& info, const std::vector<SimResult>& results);
Status WriteJobsCsv(const std::string& path, const Workload& w, const Catalog& c, const Network& net,
                    const std::vector<SimResult>& results);
// Per time step and (center, model) pool.
Status WriteCentersCsv(const std::string& path, const Network& net, const Catalog& c,
                       const std::vector<SimResult>& results);
// The metering: per run, tenant, center and model.
Status WriteUsageCsv(const std::string& path, const Workload& w, const Network& net, const Catalog& c,
                     const std::vector<SimResult>& results);
Status WriteUtilizationCsv(const std::string& path, const std::vector<SimResult>& results);
// The table printed by `suanli sim`.
std::string ComparisonTable(const std::vector<SimResult>& results);
// "42s", "12.5m", "3.2h", "4.1d".
std::string HumanSeconds(double s);

}  // namespace suanli
