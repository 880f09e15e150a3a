#include "server/metrics.h"

#include <cmath>
#include <map>

#include <fmt/format.h>

namespace suanli::server {
namespace {

std::string Num(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

void Header(std::string& out, const char* name, const char* type, const char* help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

std::string EscapeLabel(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string RenderMetrics(const std::vector<live::CenterView>& centers, const live::PassStats& stats,
                          const HttpCounters& http) {
  std::string out;
  out.reserve(4096);
  auto app = std::back_inserter(out);

  Header(out, "suanli_queue_depth", "gauge", "Jobs pending in the center's queue.");
  for (const auto& c : centers)
    fmt::format_to(app, "suanli_queue_depth{{center=\"{}\"}} {}\n", EscapeLabel(c.name), c.pending);
  Header(out, "suanli_running_jobs", "gauge", "Jobs running in the center.");
  for (const auto& c : centers)
    fmt::format_to(app, "suanli_running_jobs{{center=\"{}\"}} {}\n", EscapeLabel(c.name), c.running);
  Header(out, "suanli_center_up", "gauge", "1 if the center's backend answers, else 0.");
  for (const auto& c : centers)
    fmt::format_to(app, "suanli_center_up{{center=\"{}\"}} {}\n", EscapeLabel(c.name), c.up ? 1 : 0);
  Header(out, "suanli_center_drained", "gauge", "1 if an operator drained the center (it takes no new jobs).");
  for (const auto& c : centers) {
    fmt::format_to(app, "suanli_center_drained{{center=\"{}\"}} {}\n", EscapeLabel(c.name), c.drained ? 1 : 0);
  }
  Header(out, "suanli_accelerators", "gauge", "Accelerators in the center, by model.");
  for (const auto& c : centers) {
    for (const auto& m : c.models) {
      fmt::format_to(app, "suanli_accelerators{{center=\"{}\",model=\"{}\"}} {}\n", EscapeLabel(c.name),
                     EscapeLabel(m.model), m.total);
    }
  }
  Header(out, "suanli_accelerators_busy", "gauge", "Accelerators in use in the center, by model.");
  for (const auto& c : centers) {
    for (const auto& m : c.models) {
      fmt::format_to(app, "suanli_accelerators_busy{{center=\"{}\",model=\"{}\"}} {}\n", EscapeLabel(c.name),
                     EscapeLabel(m.model), Num(m.busy));
    }
  }
  std::map<std::string, std::pair<double, double>> by_model;  // model -> busy, total
  for (const auto& c : centers) {
    for (const auto& m : c.models) {
      auto& [busy, total] = by_model[m.model];
      busy += m.busy;
      total += m.total;
    }
  }
  Header(out, "suanli_utilisation", "gauge", "Busy share of the model's accelerators over all centers (0..1).");
  for (const auto& [model, bt] : by_model) {
    fmt::format_to(app, "suanli_utilisation{{model=\"{}\"}} {}\n", EscapeLabel(model),
                   Num(bt.second > 0 ? bt.first / bt.second : 0.0));
  }
  Header(out, "suanli_power_watts", "gauge",
         "Estimated power draw of the center's busy accelerators times its PUE (watts).");
  for (const auto& c : centers)
    fmt::format_to(app, "suanli_power_watts{{center=\"{}\"}} {}\n", EscapeLabel(c.name), Num(c.power_kw * 1000.0));

  // Durations in the base unit, seconds (the pass figures are kept in ms).
  Header(out, "suanli_pass_duration_seconds", "histogram", "Duration of the control loop's scheduling passes.");
  size_t nb = std::min(stats.pass_ms_buckets_le.size(), stats.pass_ms_counts.size());
  for (size_t i = 0; i < nb; ++i) {
    fmt::format_to(app, "suanli_pass_duration_seconds_bucket{{le=\"{}\"}} {}\n",
                   Num(stats.pass_ms_buckets_le[i] / 1000.0), stats.pass_ms_counts[i]);
  }
  fmt::format_to(app, "suanli_pass_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", stats.passes);
  fmt::format_to(app, "suanli_pass_duration_seconds_sum {}\n", Num(stats.pass_ms_sum / 1000.0));
  fmt::format_to(app, "suanli_pass_duration_seconds_count {}\n", stats.passes);
  Header(out, "suanli_last_pass_seconds", "gauge", "Duration of the last scheduling pass.");
  fmt::format_to(app, "suanli_last_pass_seconds {}\n", Num(stats.last_pass_ms / 1000.0));
  Header(out, "suanli_last_decision_to_launch_seconds", "gauge",
         "For the last pass acted on: from its decisions to their launches (store commit, then launches).");
  fmt::format_to(app, "suanli_last_decision_to_launch_seconds {}\n", Num(stats.last_decision_to_launch_ms / 1000.0));

  Header(out, "suanli_submissions_total", "counter", "Jobs accepted since the server started.");
  fmt::format_to(app, "suanli_submissions_total {}\n", stats.submissions);
  Header(out, "suanli_jobs_succeeded_total", "counter", "Jobs that ended successfully since the server started.");
  fmt::format_to(app, "suanli_jobs_succeeded_total {}\n", stats.successes);
  Header(out, "suanli_job_failures_total", "counter", "Jobs that failed since the server started.");
  fmt::format_to(app, "suanli_job_failures_total {}\n", stats.failures);
  Header(out, "suanli_job_cancellations_total", "counter", "Jobs cancelled since the server started.");
  fmt::format_to(app, "suanli_job_cancellations_total {}\n", stats.cancellations);
  Header(out, "suanli_job_preemptions_total", "counter",
         "Runs stopped for another job (a preemptive order or a quota's reclaim) since the server started.");
  fmt::format_to(app, "suanli_job_preemptions_total {}\n", stats.preemptions);

  Header(out, "suanli_http_requests_total", "counter", "HTTP responses since the server started, by status code.");
  bool any = false;
  for (int code = 100; code < 600; ++code) {
    int64_t n = http.Get(code);
    if (n == 0) continue;
    any = true;
    fmt::format_to(app, "suanli_http_requests_total{{code=\"{}\"}} {}\n", code, n);
  }
  if (!any) out += "suanli_http_requests_total{code=\"200\"} 0\n";
  return out;
}

}  // namespace suanli::server
