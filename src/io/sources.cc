#include "io/sources.h"

#include "io/embedded.h"
#include "io/line_reader.h"
#include "io/model_loader.h"

namespace suanli {

Result<Workload> LoadWorkload(const std::string& spec, const std::string& format, const Catalog& catalog,
                              const ImportOptions& opts, ImportReport* report) {
  std::string builtin;
  if (spec.empty() || spec == kDefaultWorkload) builtin = "workloads/default.csv.gz";
  else if (spec.rfind("builtin:", 0) == 0) builtin = "workloads/" + spec.substr(8);
  if (builtin.empty()) return ImportWorkload(spec, format, catalog, opts, report);

  auto data = FindEmbeddedFile(builtin);
  if (!data) return NotFound("no built-in workload '{}'", builtin);
  SUANLI_ASSIGN_OR_RETURN(std::string text, MaybeGunzip(*data, builtin));
  auto reader = LineReader::FromString(std::move(text), builtin);
  const TraceFormat* f = FindTraceFormat(format.empty() ? "native" : format);
  if (!f) return InvalidArgument("unknown trace format '{}'", format);
  Workload w;
  ImportReport local;
  SUANLI_RETURN_IF_ERROR(f->parse(*reader, catalog, opts, &w, report ? report : &local));
  if (w.name.empty()) w.name = spec.empty() ? kDefaultWorkload : spec;
  return w;
}

void AppendWorkload(Workload* a, const Workload& b) {
  for (size_t i = 0; i < b.jobs.size(); ++i) {
    Job j = b.jobs[i];
    j.tenant = a->tenants.Intern(b.tenants.size() ? b.tenants.Name(j.tenant) : "default");
    j.user = a->users.Intern(b.users.size() ? b.users.Name(j.user) : "default");
    if (j.speed_override != kNoOverride) {
      a->overrides.push_back(b.overrides[j.speed_override]);
      j.speed_override = static_cast<uint32_t>(a->overrides.size() - 1);
    }
    a->Add(j, b.JobName(static_cast<JobId>(i)));
  }
  a->SortBySubmit();
}

Result<Network> LoadNetworkSpec(const std::string& spec, const std::string& format, const Catalog& catalog) {
  auto ends_with = [&](const char* suffix) {
    std::string s(suffix);
    return spec.size() >= s.size() && spec.compare(spec.size() - s.size(), s.size(), s) == 0;
  };
  bool yaml = format == "yaml" || (format.empty() && (ends_with(".yaml") || ends_with(".yml") ||
                                                      FindEmbeddedFile("networks/" + spec + ".yaml")));
  if (yaml) return LoadNetwork(spec, catalog);
  std::string f = format.empty() ? GuessClusterFormat(spec) : format;
  if (f.empty()) {
    if (format.empty()) return LoadNetwork(spec, catalog);  // its error lists the built-in names
    return InvalidArgument("cannot tell the format of cluster file '{}'; give --network-format", spec);
  }
  return ImportCluster(spec, f, catalog, ImportOptions{});
}

}  // namespace suanli
