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
  if (!data) {  // builtin:NAME may leave out the file's extension
    data = FindEmbeddedFile(builtin + ".csv.gz");
    if (data) builtin += ".csv.gz";
  }
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
  for (JobId i : b.jobs.ids()) {
    Job j = b.jobs[i];
    j.tenant = a->tenants.Intern(b.tenants.size() ? b.tenants.Name(j.tenant) : "default");
    j.user = a->users.Intern(b.users.size() ? b.users.Name(j.user) : "default");
    // Places are matched by name too. A workload holds at most kNoPlace - 1
    // distinct places; past that an appended job's place is left unset.
    for (uint16_t* place : {&j.home, &j.data_at, &j.region}) {
      if (*place == kNoPlace) continue;
      if (*place >= b.places.size()) {
        *place = kNoPlace;
        continue;
      }
      const std::string& name = b.places.Name(*place);
      if (!a->places.Find(name) && a->places.size() >= kNoPlace) {
        *place = kNoPlace;
        continue;
      }
      *place = static_cast<uint16_t>(a->places.Intern(name));
    }
    if (j.speed_override != kNoOverride) {
      a->overrides.push_back(b.overrides[j.speed_override]);
      j.speed_override = static_cast<uint32_t>(a->overrides.size() - 1);
    }
    a->Add(j, b.JobName(i));
  }
  a->SortBySubmit();
}

Result<Network> LoadNetworkSpec(const std::string& spec, const std::string& format, const Catalog& catalog) {
  auto ends_with = [](const std::string& s, const char* suffix) {
    std::string x(suffix);
    return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
  };
  // "NAME:1/N": a scaled variant of a YAML network (built-in or file).
  SUANLI_ASSIGN_OR_RETURN(ScaledNetworkSpec s, SplitNetworkSpec(spec));
  const std::string& base = s.base;
  bool yaml = format == "yaml" ||
              (format.empty() && (ends_with(base, ".yaml") || ends_with(base, ".yml") || IsBuiltinNetwork(base)));
  if (yaml) return LoadNetwork(spec, catalog);
  if (s.scaled)
    return InvalidArgument(
        "network '{}': scaled variants (NAME:1/N) are for YAML networks; '{}' is read as a cluster table "
        "(give --network-format yaml if it is YAML)",
        spec, base);
  std::string f = format.empty() ? GuessClusterFormat(spec) : format;
  if (f.empty()) {
    if (format.empty()) return LoadNetwork(spec, catalog);  // its error lists the built-in names
    return InvalidArgument("cannot tell the format of cluster file '{}'; give --network-format", spec);
  }
  return ImportCluster(spec, f, catalog, ImportOptions{});
}

}  // namespace suanli
