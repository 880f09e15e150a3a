#include "io/quota_loader.h"

#include <cmath>
#include <unordered_map>

#include "base/strings.h"
#include "io/line_reader.h"
#include "io/yaml_fields.h"

namespace suanli {
namespace {

// One figure: a percentage of the capacity, a number of accelerators, or
// (borrowing_limit only) unlimited.
struct Figure {
  double value = 0;
  bool percent = false;
  bool unlimited = false;
};

Result<Figure> ParseFigure(const yaml::Value& v, bool may_be_unlimited) {
  const char* expected = may_be_unlimited
                             ? "expected a number of accelerators >= 0, a percentage from 0% to 100%, or 'unlimited'"
                             : "expected a number of accelerators >= 0 or a percentage from 0% to 100%";
  if (!v.IsScalar()) return v.Error(fmt::format("{}, got {}", expected, v.Shown()));
  std::string s(Trim(v.node().Scalar()));
  Figure f;
  if (may_be_unlimited && ToLower(s) == "unlimited") {
    f.unlimited = true;
    return f;
  }
  if (!s.empty() && s.back() == '%') {
    auto d = ParseDouble(Trim(std::string_view(s).substr(0, s.size() - 1)));
    if (!d || !std::isfinite(*d)) return v.Error(fmt::format("{}, got {}", expected, v.Shown()));
    if (*d < 0) return v.Error(fmt::format("negative percentage {}", v.Shown()));
    if (*d > 100) return v.Error(fmt::format("{} is more than 100% of the capacity", v.Shown()));
    f.value = *d / 100.0;
    f.percent = true;
    return f;
  }
  auto d = ParseDouble(s);
  if (!d || !std::isfinite(*d)) return v.Error(fmt::format("{}, got {}", expected, v.Shown()));
  if (*d < 0) return v.Error(fmt::format("negative number of accelerators {}", v.Shown()));
  if (*d > 1e12) return v.Error(fmt::format("{} accelerators is beyond any center", v.Shown()));
  f.value = *d;
  return f;
}

// nominal and borrowing_limit of one entry (a tenant or the default).
Result<TenantQuota> ParseQuota(const yaml::Map& m) {
  TenantQuota q;
  SUANLI_ASSIGN_OR_RETURN(yaml::Value nv, m.Require("nominal"));
  SUANLI_ASSIGN_OR_RETURN(Figure nominal, ParseFigure(nv, false));
  Figure limit;
  limit.unlimited = true;
  yaml::Value lv = m.Get("borrowing_limit");
  if (m.Has("borrowing_limit")) {
    SUANLI_ASSIGN_OR_RETURN(limit, ParseFigure(lv, true));
  }
  // One kind per entry; zero and unlimited go with either.
  bool nominal_abs = !nominal.percent && nominal.value != 0;
  bool limit_abs = !limit.unlimited && !limit.percent && limit.value != 0;
  if ((nominal.percent && limit_abs) || (nominal_abs && limit.percent))
    return lv.Error(
        fmt::format("nominal is {} but borrowing_limit is {}: give both as percentages or both as accelerators",
                    nominal.percent ? "a percentage" : "a number of accelerators",
                    limit.percent ? "a percentage" : "a number of accelerators"));
  q.fraction = nominal.percent || limit.percent;
  q.nominal = nominal.value;
  q.borrowing_limit = limit.unlimited ? -1 : limit.value;
  return q;
}

}  // namespace

Result<QuotaSpec> ParseQuotasYaml(std::string_view text, const std::string& name) {
  SUANLI_ASSIGN_OR_RETURN(YAML::Node doc, yaml::ParseDocument(text, name));
  return ParseQuotas(yaml::Root(&name, doc), name);
}

Result<QuotaSpec> ParseQuotas(const yaml::Value& root, const std::string& name) {
  SUANLI_ASSIGN_OR_RETURN(yaml::Map top, yaml::Map::Open(root, {"cohort", "reclaim", "default", "tenants"}));
  QuotaSpec spec;
  if (top.Has("cohort")) {
    SUANLI_ASSIGN_OR_RETURN(spec.cohort, top.Get("cohort").String());
  }
  if (top.Has("reclaim")) {
    SUANLI_ASSIGN_OR_RETURN(spec.reclaim, top.Get("reclaim").Bool());
  }
  if (top.Has("default")) {
    SUANLI_ASSIGN_OR_RETURN(yaml::Map d, yaml::Map::Open(top.Get("default"), {"nominal", "borrowing_limit"}));
    SUANLI_ASSIGN_OR_RETURN(TenantQuota q, ParseQuota(d));
    spec.default_quota = std::move(q);
  }
  if (top.Has("tenants")) {
    yaml::Value list = top.Get("tenants");
    SUANLI_ASSIGN_OR_RETURN(size_t n, list.SequenceSize());
    std::unordered_map<std::string, size_t> seen;
    for (size_t i = 0; i < n; ++i) {
      yaml::Value item = list.Item(i);
      SUANLI_ASSIGN_OR_RETURN(yaml::Map m, yaml::Map::Open(item, {"name", "nominal", "borrowing_limit"}));
      SUANLI_ASSIGN_OR_RETURN(yaml::Value nv, m.Require("name"));
      SUANLI_ASSIGN_OR_RETURN(std::string tenant, nv.String());
      auto [it, fresh] = seen.emplace(tenant, i);
      if (!fresh)
        return nv.Error(fmt::format("tenant '{}' is listed twice (first as tenants[{}])", tenant, it->second));
      SUANLI_ASSIGN_OR_RETURN(TenantQuota q, ParseQuota(m));
      q.tenant = std::move(tenant);
      spec.tenants.push_back(std::move(q));
    }
  }
  if (spec.empty()) return root.Error("sets no quota: give `tenants` (a list), a `default` quota, or both");
  Status st = spec.Validate();
  if (!st.ok()) return st.Wrap(name);
  return spec;
}

Result<QuotaSpec> LoadQuotas(const std::string& path) {
  SUANLI_ASSIGN_OR_RETURN(std::string text, ReadFileMaybeGz(path));
  return ParseQuotasYaml(text, path);
}

namespace {

// A YAML double-quoted scalar (its escapes are JSON's).
std::string Quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// One figure as ParseFigure reads it back: a percentage (12 significant
// digits, so "7%" stays 7%), a number of accelerators (shortest exact form),
// or unlimited.
std::string Figure(double v, bool fraction, bool may_be_unlimited) {
  if (may_be_unlimited && v < 0) return "unlimited";
  if (fraction) return fmt::format("{:.12g}%", v * 100);
  return fmt::format("{}", v);
}

std::string QuotaFields(const TenantQuota& q) {
  return fmt::format("nominal: {}, borrowing_limit: {}", Figure(q.nominal, q.fraction, false),
                     Figure(q.borrowing_limit, q.fraction, true));
}

}  // namespace

std::string FormatQuotasYaml(const QuotaSpec& spec) {
  std::string out;
  if (!spec.cohort.empty()) out += fmt::format("cohort: {}\n", Quoted(spec.cohort));
  out += fmt::format("reclaim: {}\n", spec.reclaim);
  if (spec.default_quota) out += fmt::format("default: {{{}}}\n", QuotaFields(*spec.default_quota));
  if (!spec.tenants.empty()) {
    out += "tenants:\n";
    for (const TenantQuota& q : spec.tenants)
      out += fmt::format("  - {{name: {}, {}}}\n", Quoted(q.tenant), QuotaFields(q));
  }
  return out;
}

}  // namespace suanli
