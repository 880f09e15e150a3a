// The cost, carbon and energy section of the `suanli report` page: bars per
// tenant and per center (from usage.csv), energy per center (usage.csv or
// summary.json) and the metering table per tenant.
#include <cmath>

#include <fmt/format.h>

#include "sim/report_internal.h"

namespace suanli::report_detail {

using svg::Escape;
using svg::Format;
using svg::FormatValue;

namespace {

constexpr const char* kIdleTenant = "(idle)";
constexpr const char* kIdleColor = "#d4d4d4";

// Stacked bars per run (or plain bars of one run) of `metric` split by the keys of `by`.
std::string SplitBars(const std::string& title, const std::string& unit, const Data& d,
                      const std::map<std::string, UsageTotals> RunData::*by, double UsageTotals::*metric,
                      const std::string& what, size_t top_k) {
  const auto& names = d.runs.names();
  std::vector<size_t> runs;
  for (size_t i = 0; i < names.size() && i < d.run.size(); ++i)
    if (!(d.run[i].*by).empty()) runs.push_back(i);
  std::map<std::string, double> total;
  bool idle = false;
  for (size_t i : runs)
    for (const auto& [k, a] : d.run[i].*by) {
      if (k == kIdleTenant && what == "tenants") {
        idle = true;
        continue;
      }
      total[k] += std::fabs(a.*metric);
    }
  auto top = Top(total, top_k);
  std::set<std::string> shown(top.begin(), top.end());
  bool other = total.size() > top.size();
  svg::BarChart ch;
  ch.title = title;
  ch.y.label = unit;
  auto value = [&](size_t run, const std::string& key) {
    const auto& m = d.run[run].*by;
    auto it = m.find(key);
    return it == m.end() ? 0.0 : it->second.*metric;
  };
  auto other_value = [&](size_t run) {
    double s = 0;
    for (const auto& [k, a] : d.run[run].*by)
      if (!shown.count(k) && !(k == kIdleTenant && what == "tenants")) s += a.*metric;
    return s;
  };
  std::string other_name = fmt::format("other {} ({})", what, total.size() - top.size());
  if (runs.size() == 1) {
    // One run: one bar per key.
    size_t r = runs[0];
    svg::BarSeries s{names[r], {}, ""};
    for (const auto& k : top) {
      ch.categories.push_back(k);
      s.values.push_back(value(r, k));
    }
    if (other) {
      ch.categories.push_back(other_name);
      s.values.push_back(other_value(r));
    }
    if (idle) {
      ch.categories.push_back(kIdleTenant);
      s.values.push_back(value(r, kIdleTenant));
    }
    ch.subtitle = names[r];
    s.name.clear();
    ch.series.push_back(std::move(s));
  } else {
    ch.stacked = true;
    for (size_t r : runs) ch.categories.push_back(names[r]);
    for (size_t k = 0; k < top.size(); ++k) {
      svg::BarSeries s{top[k], {}, svg::PaletteColor(k)};
      for (size_t r : runs) s.values.push_back(value(r, top[k]));
      ch.series.push_back(std::move(s));
    }
    if (other) {
      svg::BarSeries s{other_name, {}, svg::kOtherColor};
      for (size_t r : runs) s.values.push_back(other_value(r));
      ch.series.push_back(std::move(s));
    }
    if (idle) {
      svg::BarSeries s{kIdleTenant, {}, kIdleColor};
      for (size_t r : runs) s.values.push_back(value(r, kIdleTenant));
      ch.series.push_back(std::move(s));
    }
    ch.subtitle = fmt::format("one bar per run, split by {}", what);
  }
  return svg::Render(ch);
}

void TenantTable(std::string& h, const std::map<std::string, UsageTotals>& tenants) {
  std::map<std::string, double> hours;
  for (const auto& [k, a] : tenants) hours[k] = a.accelerator_hours;
  auto top = Top(hours, kMaxTableRows);
  h += "<div class=\"scroll\"><table class=\"tenants\"><thead><tr><th>tenant</th><th>accelerator-hours</th>"
       "<th>reference-hours</th><th>PFLOP-days</th><th>energy</th><th>cost</th><th>carbon</th></tr></thead>"
       "<tbody>\n";
  auto row = [&](const std::string& name, const UsageTotals& a) {
    h += fmt::format(
        "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "</tr>\n",
        Escape(name), FormatValue(a.accelerator_hours, Format::kNumber),
        FormatValue(a.reference_hours, Format::kNumber), FormatValue(a.pflop_days, Format::kNumber),
        Escape(Energy(a.energy_kwh)), FormatValue(a.cost, Format::kNumber), Escape(Mass(a.carbon_kg)));
  };
  for (const auto& k : top) row(k, tenants.at(k));
  if (tenants.size() > top.size()) {
    UsageTotals rest;
    std::set<std::string> shown(top.begin(), top.end());
    for (const auto& [k, a] : tenants)
      if (!shown.count(k)) rest.Add(a);
    row(fmt::format("{} other tenants", tenants.size() - top.size()), rest);
  }
  h += "</tbody></table></div>\n";
}

}  // namespace

void UsageSection(Page& page, const Data& d) {
  page.html() += "<section id=\"usage\"><h2>Cost, carbon and energy</h2>\n";
  const auto& names = d.runs.names();
  if (!d.has_usage) {
    page.Note(d.Missing("usage.csv") + ": cost and carbon per tenant and per center are left out.");
  } else {
    page.Figure("cost-by-tenant",
                SplitBars("Cost per tenant", "cost", d, &RunData::tenants, &UsageTotals::cost, "tenants", kTopTenants),
                "Energy cost metered to each tenant (the largest tenants; the rest together; idle accelerators' "
                "energy under (idle)). Bars of different runs compare what each policy costs.");
    page.Figure(
        "carbon-by-tenant",
        SplitBars("Carbon per tenant", "kg CO2", d, &RunData::tenants, &UsageTotals::carbon_kg, "tenants", kTopTenants),
        "Emissions of the energy each tenant used, at the grid intensity of the hour and center it ran in.");
    page.Figure(
        "cost-by-center",
        SplitBars("Cost per center", "cost", d, &RunData::usage_centers, &UsageTotals::cost, "centers", kTopTenants),
        "Energy cost per center: moving work to centers with cheaper power lowers the bar.");
    page.Figure("carbon-by-center",
                SplitBars("Carbon per center", "kg CO2", d, &RunData::usage_centers, &UsageTotals::carbon_kg, "centers",
                          kTopTenants),
                "Emissions per center: cleaner grids and hours lower the bar.");
  }
  // Energy per center: usage.csv, or else the centers of summary.json.
  std::vector<std::string> run_names;
  std::vector<std::map<std::string, double>> energy;
  if (d.has_usage) {
    for (size_t i = 0; i < names.size() && i < d.run.size(); ++i) {
      if (d.run[i].usage_centers.empty()) continue;
      run_names.push_back(names[i]);
      std::map<std::string, double> e;
      for (const auto& [k, a] : d.run[i].usage_centers) e[k] = a.energy_kwh;
      energy.push_back(std::move(e));
    }
  } else {
    for (const auto& r : d.summary.runs) {
      std::map<std::string, double> e;
      for (const auto& c : r.centers)
        if (!std::isnan(c.energy)) e[c.name] += c.energy;
      if (e.empty()) continue;
      run_names.push_back(r.policy);
      energy.push_back(std::move(e));
    }
  }
  if (energy.empty()) {
    page.Note(
        "No energy per center (neither usage.csv nor centers with energy_kwh in summary.json): the energy "
        "chart is left out.");
  } else {
    std::map<std::string, double> total;
    for (const auto& e : energy)
      for (const auto& [k, v] : e) total[k] += v;
    auto top = Top(total, 12);
    std::set<std::string> shown(top.begin(), top.end());
    svg::BarChart ch;
    ch.title = "Energy per center";
    ch.subtitle = d.has_usage ? "facility energy from usage.csv" : "facility energy from summary.json";
    ch.y.label = "kWh";
    ch.categories = top;
    if (total.size() > top.size())
      ch.categories.push_back(fmt::format("other centers ({})", total.size() - top.size()));
    for (size_t r = 0; r < energy.size(); ++r) {
      svg::BarSeries s{run_names[r], {}, ""};
      for (const auto& k : top) s.values.push_back(energy[r].count(k) ? energy[r].at(k) : 0.0);
      if (total.size() > top.size()) {
        double rest = 0;
        for (const auto& [k, v] : energy[r])
          if (!shown.count(k)) rest += v;
        s.values.push_back(rest);
      }
      ch.series.push_back(std::move(s));
    }
    page.Figure("energy-by-center", svg::Render(ch),
                "Facility energy (busy and idle accelerators, times the center's PUE) per center, one bar per run.");
  }
  if (d.has_usage) {
    page.html() += "<p class=\"hint\">Metering per tenant (from usage.csv), one table per run.</p>\n";
    bool first = true;
    for (size_t i = 0; i < names.size() && i < d.run.size(); ++i) {
      if (d.run[i].tenants.empty()) continue;
      OpenDetails(page.html(), names[i], first);
      first = false;
      TenantTable(page.html(), d.run[i].tenants);
      page.html() += "</details>\n";
    }
  }
  page.html() += "</section>\n";
}

}  // namespace suanli::report_detail
