// Microsoft Philly (ATC'19): the cluster_job_log JSON and the machine lists.
#include <cmath>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "io/trace.h"

namespace suanli::import_detail {
namespace {

using nlohmann::json;

constexpr size_t kMaxObjectBytes = size_t{64} << 20;

// Splits the log into its job objects as they stream in: a JSON list of
// objects, or one object per line (JSON lines). Each object's text and the
// line it starts on go to `fn`.
class ObjectSplitter {
 public:
  // Feeds one line; returns an error for text outside objects.
  template <typename Fn>
  Status Feed(std::string_view line, size_t line_no, const std::string& name, Fn&& fn) {
    for (size_t i = 0; i < line.size(); ++i) {
      char ch = line[i];
      if (depth_ == 0) {
        if (ch == ' ' || ch == '\t' || ch == '\r') continue;
        if (ch == '[' && !in_list_ && !list_done_) {
          in_list_ = true;
          continue;
        }
        if (ch == ',' && in_list_) continue;
        if (ch == ']' && in_list_) {
          in_list_ = false;
          list_done_ = true;
          continue;
        }
        if (ch == '{') {
          depth_ = 1;
          text_.assign(1, '{');
          start_line_ = line_no;
          continue;
        }
        return ParseError("{}:{}: expected a JSON list of job objects, got '{}'", name, line_no, line.substr(i, 20));
      }
      text_.push_back(ch);
      if (text_.size() > kMaxObjectBytes)
        return ParseError("{}:{}: job object larger than {} MiB", name, start_line_, kMaxObjectBytes >> 20);
      if (in_string_) {
        if (escape_) {
          escape_ = false;
        } else if (ch == '\\') {
          escape_ = true;
        } else if (ch == '"') {
          in_string_ = false;
        }
        continue;
      }
      if (ch == '"') {
        in_string_ = true;
      } else if (ch == '{' || ch == '[') {
        ++depth_;
      } else if (ch == '}' || ch == ']') {
        if (--depth_ == 0) SUANLI_RETURN_IF_ERROR(fn(text_, start_line_));
      }
    }
    if (depth_ > 0) text_.push_back('\n');
    return Status::Ok();
  }
  Status Finish(const std::string& name) const {
    if (depth_ > 0) return ParseError("{}:{}: job object not closed at end of input", name, start_line_);
    if (in_list_) return ParseError("{}: JSON list not closed at end of input", name);
    return Status::Ok();
  }

 private:
  int depth_ = 0;
  bool in_string_ = false, escape_ = false, in_list_ = false, list_done_ = false;
  std::string text_;
  size_t start_line_ = 0;
};

// A time string, or nullopt for null / "None" / missing.
std::optional<std::string> TimeText(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return std::string("<not a string>");
  const std::string& s = it->get_ref<const std::string&>();
  if (s.empty() || s == "None" || s == "null") return std::nullopt;
  return s;
}

std::string StringField(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return "";
  if (it->is_string()) return it->get_ref<const std::string&>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  return "";
}

}  // namespace

Status ParsePhilly(LineReader& reader, const Catalog& catalog, const ImportOptions& opts, Workload* out,
                   ImportReport* report) {
  ImportReport local;
  if (!report) report = &local;
  RowErrors errors(opts, report);
  const size_t first = out->jobs.size();
  SUANLI_ASSIGN_OR_RETURN(ModelMask dflt, DefaultModelMask(catalog, opts));
  ObjectSplitter splitter;
  auto on_job = [&](const std::string& text, size_t line_no) -> Status {
    ++report->rows;
    std::string where = fmt::format("{}:{}", reader.name(), line_no);
    bool ignored = false;
    auto parse = [&]() -> Status {
      json obj = json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (obj.is_discarded() || !obj.is_object()) return ParseError("{}: job object is not valid JSON", where);
      std::string id = StringField(obj, "jobid");
      std::string label = id.empty() ? where : fmt::format("{}: job '{}'", where, id.substr(0, 60));
      auto bad = [&](const char* field, std::string_view expected) {
        return ParseError("{}: field '{}': expected {}", label, field, expected);
      };
      auto submitted = TimeText(obj, "submitted_time");
      if (!submitted) return bad("submitted_time", "a date-time 'YYYY-MM-DD HH:MM:SS'");
      auto submit = ParseDateTime(*submitted);
      if (!submit) return bad("submitted_time", "a date-time 'YYYY-MM-DD HH:MM:SS'");
      auto att = obj.find("attempts");
      if (att != obj.end() && !att->is_array() && !att->is_null()) return bad("attempts", "a list");
      if (att == obj.end() || att->is_null() || att->empty()) {
        ignored = true;  // never ran
        return Status::Ok();
      }
      // GPUs: from the detail of the first attempt that has one.
      int64_t gpus = -1;
      for (const auto& a : *att) {
        if (!a.is_object()) return bad("attempts", "a list of objects");
        auto det = a.find("detail");
        if (det == a.end() || det->is_null()) continue;
        if (!det->is_array()) return bad("attempts[].detail", "a list of {ip, gpus} objects");
        if (det->empty()) continue;
        gpus = 0;
        for (const auto& d : *det) {
          if (!d.is_object()) return bad("attempts[].detail", "a list of {ip, gpus} objects");
          auto g = d.find("gpus");
          if (g == d.end() || g->is_null()) continue;
          if (!g->is_array()) return bad("attempts[].detail[].gpus", "a list of GPU names");
          gpus += static_cast<int64_t>(g->size());
        }
        break;
      }
      const json& last = att->back();
      if (!last.is_object()) return bad("attempts", "a list of objects");
      auto start_s = TimeText(last, "start_time");
      auto end_s = TimeText(last, "end_time");
      if (!start_s || !end_s || gpus < 0) {
        ignored = true;  // still running when the log was taken, or never placed
        return Status::Ok();
      }
      auto start = ParseDateTime(*start_s);
      if (!start) return bad("attempts[-1].start_time", "a date-time 'YYYY-MM-DD HH:MM:SS'");
      auto end = ParseDateTime(*end_s);
      if (!end) return bad("attempts[-1].end_time", "a date-time 'YYYY-MM-DD HH:MM:SS'");
      if (*end < *start) return bad("attempts[-1].end_time", "a time >= start_time");
      if (*end - *start > kMaxSeconds || gpus > kMaxGpus) return bad("attempts", "a plausible job");
      Job job;
      job.submit = SecondsF(*submit);
      job.work = *end - *start;
      job.num_gpus = static_cast<uint32_t>(gpus);
      job.models = gpus > 0 ? dflt : 0;
      std::string vc = StringField(obj, "vc"), user = StringField(obj, "user");
      job.tenant = out->tenants.Intern(vc.empty() ? "default" : vc);
      job.user = out->users.Intern(user.empty() ? "default" : user);
      out->Add(job, std::string(id));
      return Status::Ok();
    };
    Status st = parse();
    if (!st.ok()) return errors.Skip(st);
    if (ignored) ++report->ignored;
    return Status::Ok();
  };
  std::string_view line;
  while (reader.Next(&line)) {
    SUANLI_RETURN_IF_ERROR(splitter.Feed(line, reader.line_number(), reader.name(), on_job));
  }
  SUANLI_RETURN_IF_ERROR(reader.status());
  SUANLI_RETURN_IF_ERROR(splitter.Finish(reader.name()));
  ShiftToZero(out, first);
  return FinishWorkload(reader, first, out, report);
}

// Philly machine lists: cluster_machine_list ("machineId, number of GPUs, single GPU mem")
// or revised_machine_list.csv (",machineId,number of GPUs").
Status ParsePhillyMachines(LineReader& reader, const Catalog& catalog, const ImportOptions& opts, Network* out) {
  SUANLI_ASSIGN_OR_RETURN(auto header, ReadHeader(reader));
  SUANLI_ASSIGN_OR_RETURN(size_t c_id, RequireColumn(reader, header, "machineId"));
  SUANLI_ASSIGN_OR_RETURN(size_t c_gpu, RequireColumn(reader, header, "number of GPUs"));
  const size_t c_mem = OptionalColumn(header, "single GPU mem");
  // Philly publishes GPU memory sizes, not models: every GPU machine gets the default model.
  std::string model_name = Trim(opts.default_model).empty() ? "V100-16GB" : opts.default_model;
  auto model = ResolveModel(catalog, model_name);
  if (!model) return InvalidArgument("GPU model '{}' is not in the catalog; pass another default model", model_name);
  NetworkBuilder b(TraceStem(reader.name()), catalog);
  auto row_fn = [&](const CsvRow& row) -> Status {
    SUANLI_ASSIGN_OR_RETURN(int64_t gpus, Integer(row, c_gpu, "number of GPUs", 0, kMaxDevicesPerNode));
    if (c_mem != SIZE_MAX && gpus > 0) {
      std::string mem = ToLower(Trim(row.Str(c_mem)));
      if (mem.size() > 2 && mem.substr(mem.size() - 2) == "gb") mem.resize(mem.size() - 2);
      auto gb = ParseDouble(mem);
      if (!gb || *gb <= 0) return row.Error(c_mem, "single GPU mem", "a memory size such as '12GB'");
    }
    // The lists give no CPU or memory: 8 cores and 64 GiB per GPU (at least one GPU's worth).
    int64_t share = std::max<int64_t>(1, gpus);
    b.AddNode(std::string(Trim(row.Str(c_id))), gpus > 0 ? *model : kNoModel, static_cast<int>(gpus), 8000 * share,
              65536 * share);
    return Status::Ok();
  };
  SUANLI_RETURN_IF_ERROR(ForEachRow(reader, ',', 0, opts, nullptr, row_fn));
  SUANLI_ASSIGN_OR_RETURN(*out, b.Finish());
  return Status::Ok();
}

}  // namespace suanli::import_detail
