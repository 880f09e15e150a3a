// The sections of the `suanli report` page about the runs themselves: the
// table of runs, the map and table of centers, utilisation and queues over
// time, and the distributions of job completion time and wait.
#include <algorithm>
#include <cmath>
#include <functional>

#include <fmt/format.h>

#include "base/strings.h"
#include "sim/report_internal.h"

namespace suanli::report_detail {

using svg::Escape;
using svg::Format;
using svg::FormatValue;

namespace {

// A column of the table of runs: the summary.json key, its header, which way
// is better, and how its values are shown.
struct Column {
  const char* key;
  const char* header;
  int better;  // -1 lower is better, +1 higher, 0 neither
  std::function<std::string(double)> format;
};

}  // namespace

void RunsTable(Page& page, const Data& d) {
  auto dur = [](double v) { return FormatValue(v, Format::kDuration); };
  auto pct = [](double v) { return FormatValue(v, Format::kPercent); };
  std::vector<Column> all = {
      {"jobs", "jobs", 0, Count},
      {"finished", "finished", +1, Count},
      {"unschedulable", "unsched.", -1, Count},
      {"avg_jct_s", "avg JCT", -1, dur},
      {"p50_jct_s", "p50 JCT", -1, dur},
      {"p99_jct_s", "p99 JCT", -1, dur},
      {"avg_wait_s", "avg wait", -1, dur},
      {"makespan_s", "makespan", -1, dur},
      {"utilization", "utilisation", +1, pct},
      {"energy_kwh", "energy", -1, Energy},
      {"cost", "cost", -1, [](double v) { return FormatValue(v, Format::kNumber); }},
      {"carbon_kg", "carbon", -1, Mass},
      {"goodput", "goodput", +1, pct},
      {"lost_work_s", "lost work", -1, AccHours},
  };
  const auto& runs = d.summary.runs;
  std::vector<Column> cols;
  for (const auto& c : all)
    if (std::any_of(runs.begin(), runs.end(), [&](const RunSummary& r) { return !std::isnan(r.Get(c.key)); }))
      cols.push_back(c);
  std::string& h = page.html();
  h += "<div class=\"scroll\"><table class=\"runs\">\n<thead><tr><th>run</th>";
  for (const auto& c : cols) h += fmt::format("<th>{}</th>", c.header);
  h += "</tr></thead>\n<tbody>\n";
  std::vector<double> best(cols.size(), kNaN);
  for (size_t k = 0; k < cols.size(); ++k) {
    if (cols[k].better == 0) continue;
    double lo = kNaN, hi = kNaN;
    for (const auto& r : runs) {
      double v = r.Get(cols[k].key);
      if (std::isnan(v)) continue;
      lo = std::isnan(lo) ? v : std::min(lo, v);
      hi = std::isnan(hi) ? v : std::max(hi, v);
    }
    if (runs.size() > 1 && lo != hi) best[k] = cols[k].better < 0 ? lo : hi;
  }
  for (const auto& r : runs) {
    h += "<tr><th scope=\"row\">" + Escape(r.policy) + "</th>";
    for (size_t k = 0; k < cols.size(); ++k) {
      double v = r.Get(cols[k].key);
      bool is_best = !std::isnan(best[k]) && v == best[k];
      h += fmt::format("<td{} title=\"{}\">{}</td>", is_best ? " class=\"best\"" : "",
                       Escape(std::isnan(v) ? "not in summary.json" : fmt::format("{}", v)), Escape(cols[k].format(v)));
    }
    h += "</tr>\n";
  }
  h += "</tbody></table></div>\n";
  h += "<p class=\"hint\">The best value in each column is highlighted (lower is better for times, energy, cost, "
       "carbon and lost work; higher for utilisation, goodput and finished jobs). Hover a cell for its exact "
       "value.</p>\n";
}

namespace {

// A center marker's tooltip: its name and whichever figures summary.json has.
std::string CenterTooltip(const CenterInfo& c) {
  std::string t = c.name + (c.edge ? " (edge site)" : "");
  std::vector<std::string> parts;
  if (!std::isnan(c.accelerators)) parts.push_back(Count(c.accelerators) + " accelerators");
  if (!std::isnan(c.utilization)) parts.push_back(FormatValue(c.utilization, Format::kPercent) + " busy");
  if (!std::isnan(c.jobs)) parts.push_back(Count(c.jobs) + " jobs");
  if (!std::isnan(c.energy)) parts.push_back(Energy(c.energy));
  if (!std::isnan(c.cost)) parts.push_back("cost " + FormatValue(c.cost, Format::kNumber));
  if (!std::isnan(c.carbon)) parts.push_back(Mass(c.carbon) + " CO2");
  if (!parts.empty()) t += ": " + Join(parts, ", ");
  return t;
}

// The map of one run's centers: at their positions, or in a grid when
// summary.json has none.
std::string MapChart(const RunSummary& r) {
  svg::ScatterChart ch;
  ch.title = "Centers \xE2\x80\x94 " + r.policy;
  ch.size_label = "accelerators";
  ch.color_label = "utilisation";
  ch.shape_label = "center";
  ch.alt_shape_label = "edge site";
  bool geo = !r.centers.empty();
  for (const auto& c : r.centers)
    if (std::isnan(c.lat) || std::isnan(c.lon) || (c.lat == 0 && c.lon == 0)) geo = false;
  std::map<std::string, double> size;
  for (const auto& c : r.centers) size[c.name] = std::isnan(c.accelerators) ? 0 : c.accelerators;
  auto labelled = Top(size, kMaxMapLabels);
  std::set<std::string> label_set(labelled.begin(), labelled.end());
  size_t cols = static_cast<size_t>(std::ceil(std::sqrt(r.centers.size() * 1.6)));
  for (size_t i = 0; i < r.centers.size(); ++i) {
    const auto& c = r.centers[i];
    svg::Marker m;
    m.label = c.name;
    m.tooltip = CenterTooltip(c);
    m.size = std::isnan(c.accelerators) ? 0 : c.accelerators;
    m.color_value = c.utilization;
    m.alt_shape = c.edge;
    m.show_label = label_set.count(c.name) > 0;
    if (geo) {
      m.x = c.lon;
      m.y = c.lat;
    } else {
      m.x = static_cast<double>(i % cols);
      size_t row = i / cols;
      m.y = -static_cast<double>(row);
    }
    ch.markers.push_back(std::move(m));
  }
  if (geo) {
    // China's bounding box, widened to every center.
    double x0 = 73, x1 = 135, y0 = 18, y1 = 54;
    for (const auto& c : r.centers) {
      x0 = std::min(x0, c.lon - 3);
      x1 = std::max(x1, c.lon + 3);
      y0 = std::min(y0, c.lat - 3);
      y1 = std::max(y1, c.lat + 3);
    }
    ch.x.min = std::max(-180.0, x0);
    ch.x.max = std::min(180.0, x1);
    ch.y.min = std::max(-90.0, y0);
    ch.y.max = std::min(90.0, y1);
    ch.x.format = Format::kLongitude;
    ch.y.format = Format::kLatitude;
    ch.y_per_x = 1 / std::cos((ch.y.min + ch.y.max) / 2 * M_PI / 180);
    ch.subtitle = "equirectangular projection; circle area \xE2\x88\x9D accelerators, colour = utilisation";
  } else {
    ch.show_axes = false;
    ch.height = 120 + 70 * static_cast<int>((r.centers.size() + cols - 1) / std::max<size_t>(cols, 1));
    ch.subtitle =
        "no positions in summary.json: centers in a grid; area \xE2\x88\x9D accelerators, colour = utilisation";
  }
  if (r.centers.size() > kMaxMapLabels) ch.subtitle += fmt::format("; the {} largest labelled", kMaxMapLabels);
  return svg::Render(ch);
}

// The table of one run's centers, with energy, cost and carbon when known.
void CentersTable(std::string& h, const RunSummary& r) {
  bool has = std::any_of(r.centers.begin(), r.centers.end(), [](const CenterInfo& c) { return !std::isnan(c.energy); });
  h += "<div class=\"scroll\"><table class=\"centers\"><thead><tr><th>center</th><th>kind</th><th>accelerators</th>"
       "<th>utilisation</th><th>jobs</th>";
  if (has) h += "<th>energy</th><th>cost</th><th>carbon</th>";
  h += "</tr></thead><tbody>\n";
  for (const auto& c : r.centers) {
    h += fmt::format("<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td>", Escape(c.name),
                     c.edge ? "edge" : "center", Count(c.accelerators), FormatValue(c.utilization, Format::kPercent),
                     Count(c.jobs));
    if (has)
      h += fmt::format("<td>{}</td><td>{}</td><td>{}</td>", Escape(Energy(c.energy)),
                       Escape(FormatValue(c.cost, Format::kNumber)), Escape(Mass(c.carbon)));
    h += "</tr>\n";
  }
  h += "</tbody></table></div>\n";
}

}  // namespace

void MapSection(Page& page, const Data& d, const std::vector<std::string>& slugs) {
  std::string& h = page.html();
  h += "<section id=\"centers\"><h2>Centers</h2>\n";
  std::vector<size_t> with;
  for (size_t i = 0; i < d.summary.runs.size(); ++i)
    if (d.summary.runs[i].has_centers && !d.summary.runs[i].centers.empty()) with.push_back(i);
  if (with.empty()) {
    page.Note("summary.json has no per-center figures (key 'centers'): the map of centers is left out.");
  } else {
    h += "<p class=\"hint\">Each marker is a center: its area is proportional to the center's accelerators, its "
         "colour is the share of them that was busy over the run (dark = idle, yellow = full); diamonds with a "
         "dashed outline are edge sites. Hover a marker for its figures. One map per run.</p>\n";
    for (size_t k = 0; k < with.size(); ++k) {
      const auto& r = d.summary.runs[with[k]];
      OpenDetails(page.html(), r.policy, k == 0);
      page.Figure("map-" + slugs[with[k]], MapChart(r), "Centers of the network under " + Escape(r.policy) + ".");
      CentersTable(page.html(), r);
      page.html() += "</details>\n";
    }
  }
  page.html() += "</section>\n";
}

void TimeSection(Page& page, const Data& d, const std::vector<std::string>& slugs) {
  std::string& h0 = page.html();
  h0 += "<section id=\"time\"><h2>Over time</h2>\n";
  const auto& names = d.runs.names();
  if (!d.has_util) {
    page.Note(d.Missing("utilization.csv") + ": the network's utilisation and queue over time are left out.");
  } else {
    double t0 = kNaN, t1 = kNaN;
    for (const auto& r : d.run)
      for (const auto& row : r.util.rows) {
        t0 = std::isnan(t0) ? row[0] : std::min(t0, row[0]);
        t1 = std::isnan(t1) ? row[0] : std::max(t1, row[0]);
      }
    TimeAxis ta = MakeTimeAxis(std::isnan(t0) ? 0 : t0, std::isnan(t1) ? 0 : t1);
    svg::LineChart u, q;
    u.title = "Utilisation of the whole network";
    u.subtitle = "busy accelerators / all accelerators, per time step";
    q.title = "Queue: pending jobs in the whole network";
    u.x = q.x = ta.axis;
    u.y.format = Format::kPercent;
    u.y.min = 0;
    u.y.max = 1;
    u.y.label = "utilisation";
    q.y.label = "pending jobs";
    q.y.include_zero = true;
    for (size_t i = 0; i < names.size() && i < d.run.size(); ++i) {
      if (d.run[i].util.rows.empty()) continue;
      std::vector<svg::Point> pu, pq;
      for (const auto& row : d.run[i].util.rows) {
        pu.push_back({ta(row[0]), row[1]});
        pq.push_back({ta(row[0]), row[3]});
      }
      u.series.push_back({names[i], Thin(pu), "", false});
      q.series.push_back({names[i], Thin(pq), "", false});
    }
    Style(u.series);
    Style(q.series);
    page.Figure("utilization", svg::Render(u),
                "Share of all accelerators busy over time, one line per run. Higher and steadier is better use of "
                "the hardware; a line that ends early means that run finished its jobs sooner.");
    page.Figure("pending", svg::Render(q),
                "Jobs waiting in the queue over time, one line per run. Peaks show congestion; a run whose queue "
                "drains faster serves jobs sooner.");
  }
  if (!d.has_centers_csv) {
    page.Note(d.Missing("centers.csv") + ": utilisation and queue per center and per accelerator model are left out.");
  } else {
    page.html() +=
        "<p class=\"hint\">Per run, from centers.csv: utilisation of the largest centers (the rest "
        "together as \xE2\x80\x9Cother centers\xE2\x80\x9D), utilisation per accelerator model over all "
        "centers, and the centers' queues.</p>\n";
    bool first = true;
    for (size_t i = 0; i < names.size() && i < d.run.size(); ++i) {
      const RunData& r = d.run[i];
      if (r.centers.empty()) continue;
      double t0 = kNaN, t1 = kNaN;
      std::map<std::string, double> cap, queue;
      for (const auto& [name, ts] : r.centers)
        for (const auto& row : ts.rows) {
          t0 = std::isnan(t0) ? row[0] : std::min(t0, row[0]);
          t1 = std::isnan(t1) ? row[0] : std::max(t1, row[0]);
          cap[name] = std::max(cap[name], row[2]);
          queue[name] += row[3];
        }
      TimeAxis ta = MakeTimeAxis(t0, t1);
      auto top_cap = Top(cap, kTopCenters);
      auto top_queue = Top(queue, kTopCenters);
      // Utilisation per center (sum busy / sum capacity for "other centers").
      auto util_series = [&](const std::map<std::string, TimeSeries>& all, const std::vector<std::string>& top,
                             const char* other_name) {
        std::vector<svg::Series> out;
        std::set<std::string> shown(top.begin(), top.end());
        for (const auto& name : top) {
          std::vector<svg::Point> pts;
          for (const auto& row : all.at(name).rows) pts.push_back({ta(row[0]), row[2] > 0 ? row[1] / row[2] : kNaN});
          out.push_back({name, Thin(pts), "", false});
        }
        if (all.size() > top.size()) {
          std::map<double, std::pair<double, double>> agg;
          for (const auto& [name, ts] : all)
            if (!shown.count(name))
              for (const auto& row : ts.rows) {
                agg[row[0]].first += row[1];
                agg[row[0]].second += row[2];
              }
          std::vector<svg::Point> pts;
          for (const auto& [t, bc] : agg) pts.push_back({ta(t), bc.second > 0 ? bc.first / bc.second : kNaN});
          out.push_back(
              {fmt::format("{} ({})", other_name, all.size() - top.size()), Thin(pts), svg::kOtherColor, false});
        }
        Style(out);
        return out;
      };
      svg::LineChart uc, um, qc;
      uc.title = "Utilisation per center \xE2\x80\x94 " + names[i];
      um.title = "Utilisation per accelerator model \xE2\x80\x94 " + names[i];
      qc.title = "Pending jobs per center \xE2\x80\x94 " + names[i];
      uc.x = um.x = qc.x = ta.axis;
      for (auto* c : {&uc, &um}) {
        c->y.format = Format::kPercent;
        c->y.min = 0;
        c->y.max = 1;
        c->y.label = "utilisation";
      }
      qc.y.label = "pending jobs";
      qc.y.include_zero = true;
      uc.series = util_series(r.centers, top_cap, "other centers");
      std::map<std::string, double> model_cap;
      for (const auto& [name, ts] : r.models)
        for (const auto& row : ts.rows) model_cap[name] = std::max(model_cap[name], row[2]);
      um.series = util_series(r.models, Top(model_cap, kTopCenters), "other models");
      if (r.centers.size() > top_cap.size())
        uc.subtitle = fmt::format("the {} largest of {} centers; the rest together", top_cap.size(), r.centers.size());
      {
        std::set<std::string> shown(top_queue.begin(), top_queue.end());
        for (const auto& name : top_queue) {
          std::vector<svg::Point> pts;
          for (const auto& row : r.centers.at(name).rows) pts.push_back({ta(row[0]), row[3]});
          qc.series.push_back({name, Thin(pts), "", false});
        }
        if (r.centers.size() > top_queue.size()) {
          std::map<double, double> agg;
          for (const auto& [name, ts] : r.centers)
            if (!shown.count(name))
              for (const auto& row : ts.rows) agg[row[0]] += row[3];
          std::vector<svg::Point> pts;
          for (const auto& [t, p] : agg) pts.push_back({ta(t), p});
          qc.series.push_back({fmt::format("other centers ({})", r.centers.size() - top_queue.size()), Thin(pts),
                               svg::kOtherColor, false});
          qc.subtitle = fmt::format("the {} centers with the longest queues; the rest summed", top_queue.size());
        }
        Style(qc.series);
      }
      OpenDetails(page.html(), names[i], first);
      first = false;
      page.Figure("util-centers-" + slugs[i], svg::Render(uc),
                  "Share of each center's accelerators busy over time. A center stuck near 100% while others idle "
                  "points at dispatch that does not spread work.");
      page.Figure("util-models-" + slugs[i], svg::Render(um),
                  "Share of each accelerator model's devices busy over time, over all centers. Scarce or fast models "
                  "usually fill first.");
      page.Figure("pending-centers-" + slugs[i], svg::Render(qc),
                  "Jobs waiting at each center over time. Long queues at one center while others have free "
                  "capacity are the cost of the dispatch policy's choices.");
      page.html() += "</details>\n";
    }
  }
  page.html() += "</section>\n";
}

void JctSection(Page& page, const Data& d) {
  page.html() += "<section id=\"jct\"><h2>Job completion time</h2>\n";
  if (!d.has_jobs) {
    page.Note(d.Missing("jobs.csv") + ": the distributions of job completion time and wait are left out.");
    page.html() += "</section>\n";
    return;
  }
  svg::Axis x;
  x.scale = svg::Scale::kLog;
  x.format = Format::kDuration;
  std::vector<svg::Series> jct, wait;
  const auto& names = d.runs.names();
  for (size_t i = 0; i < names.size() && i < d.run.size(); ++i) {
    if (!d.run[i].has_jobs) continue;
    jct.push_back({names[i], d.run[i].jobs.jct.Cdf(), "", false});
    wait.push_back({names[i], d.run[i].jobs.wait.Cdf(), "", false});
  }
  Style(jct);
  Style(wait);
  x.label = "job completion time (submit to end, log scale)";
  auto c1 = svg::CdfChart("Job completion time, CDF per run", x, std::move(jct));
  c1.subtitle = "finished jobs; times under 1 s drawn at 1 s";
  c1.y.label = "fraction of finished jobs";
  x.label = "wait (submit to first start, log scale)";
  auto c2 = svg::CdfChart("Wait before start, CDF per run", x, std::move(wait));
  c2.subtitle = "jobs that started; waits under 1 s drawn at 1 s";
  c2.y.label = "fraction of started jobs";
  page.Figure("jct-cdf", svg::Render(c1),
              "For each run, the share of finished jobs (y) that completed within a time (x). A curve further left "
              "and higher is better; where it crosses the p50 and p99 lines are the median and tail JCT.");
  page.Figure("wait-cdf", svg::Render(c2),
              "The same for the wait in the queue before the first start. A curve that starts high at the left "
              "edge means most jobs started at once.");
  page.html() += "</section>\n";
}

}  // namespace suanli::report_detail
