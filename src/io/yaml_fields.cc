#include "io/yaml_fields.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/strings.h"

namespace suanli::yaml {

Result<YAML::Node> ParseDocument(std::string_view text, const std::string& file) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    return root;
  } catch (const YAML::Exception& e) {
    return ParseError("{}:{}:{}: YAML syntax error: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg);
  }
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Closest(std::string_view s, const std::vector<std::string>& candidates) {
  std::string ls = ToLower(s);
  std::string best;
  size_t best_d = std::numeric_limits<size_t>::max();
  for (const auto& c : candidates) {
    std::string lc = ToLower(c);
    size_t d = EditDistance(ls, lc);
    // A candidate that contains the input (or the reverse) is close too: "A1000" ~ "A100-80GB".
    if (!ls.empty() && (lc.find(ls) != std::string::npos || ls.find(lc) != std::string::npos))
      d = std::min(d, size_t{1});
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  // Accept up to a third of the word's length in edits (at least 2).
  size_t limit = std::max<size_t>(2, ls.size() / 3);
  return best_d <= limit ? best : std::string();
}

Value::Value(const std::string* file, const YAML::Node& node, std::string base, std::string rel, int parent_line)
    : file_(file), node_(node), base_(std::move(base)), rel_(std::move(rel)), line_(parent_line) {
  YAML::Mark m = node_.Mark();
  if (m.line >= 0 && !node_.IsNull()) line_ = m.line + 1;
}

std::string Value::Path() const {
  if (base_.empty()) return rel_;
  if (rel_.empty()) return base_;
  return base_ + ": " + rel_;
}

Status Value::Error(std::string_view message) const {
  std::string where = *file_;
  if (line_ > 0) where += fmt::format(":{}", line_);
  std::string path = Path();
  if (path.empty()) return InvalidArgument("{}: {}", where, message);
  return InvalidArgument("{}: {}: {}", where, path, message);
}

std::string Value::Shown() const {
  if (node_.IsNull()) return "nothing";
  if (node_.IsSequence()) return "a list";
  if (node_.IsMap()) return "a map";
  std::string s = node_.Scalar();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return "'" + s + "'";
}

Result<std::string> Value::String() const {
  if (!node_.IsScalar() || Trim(node_.Scalar()).empty())
    return Error(fmt::format("expected a non-empty string, got {}", Shown()));
  return std::string(Trim(node_.Scalar()));
}

Result<bool> Value::Bool() const {
  if (node_.IsScalar()) {
    std::string s = ToLower(Trim(node_.Scalar()));
    if (s == "true") return true;
    if (s == "false") return false;
  }
  return Error(fmt::format("expected true or false, got {}", Shown()));
}

Result<double> Value::Number() const {
  if (node_.IsScalar())
    if (auto d = ParseDouble(node_.Scalar())) return *d;
  return Error(fmt::format("expected a number, got {}", Shown()));
}

Result<double> Value::NumberAtLeast(double min) const {
  std::optional<double> d;
  if (node_.IsScalar()) d = ParseDouble(node_.Scalar());
  if (!d || *d < min) return Error(fmt::format("expected a number >= {}, got {}", min, Shown()));
  return *d;
}

Result<double> Value::NumberAbove(double min) const {
  std::optional<double> d;
  if (node_.IsScalar()) d = ParseDouble(node_.Scalar());
  if (!d || *d <= min) return Error(fmt::format("expected a number > {}, got {}", min, Shown()));
  return *d;
}

Result<double> Value::FigureOrUnknown() const {
  if (node_.IsNull()) return 0.0;
  if (node_.IsScalar() && ToLower(Trim(node_.Scalar())) == "unknown") return 0.0;
  std::optional<double> d;
  if (node_.IsScalar()) d = ParseDouble(node_.Scalar());
  if (!d || *d < 0) return Error(fmt::format("expected a number >= 0 or 'unknown', got {}", Shown()));
  return *d;
}

Result<int64_t> Value::Integer(int64_t min, int64_t max) const {
  std::optional<int64_t> v;
  if (node_.IsScalar()) v = ParseInt(node_.Scalar());
  if (!v || *v < min || *v > max) {
    if (max == std::numeric_limits<int64_t>::max())
      return Error(fmt::format("expected a whole number >= {}, got {}", min, Shown()));
    return Error(fmt::format("expected a whole number from {} to {}, got {}", min, max, Shown()));
  }
  return *v;
}

Result<std::vector<std::string>> Value::StringList() const {
  if (!node_.IsSequence()) return Error(fmt::format("expected a list of strings, got {}", Shown()));
  std::vector<std::string> out;
  for (size_t i = 0; i < node_.size(); ++i) {
    SUANLI_ASSIGN_OR_RETURN(std::string s, Item(i).String());
    out.push_back(std::move(s));
  }
  return out;
}

Result<size_t> Value::SequenceSize() const {
  if (!node_.IsSequence()) return Error(fmt::format("expected a list, got {}", Shown()));
  return node_.size();
}

Value Value::Item(size_t i) const {
  YAML::Node item = node_[i];
  std::string base = fmt::format("{}[{}]", Path(), i);
  if (item.IsMap()) {
    for (auto it = item.begin(); it != item.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == "name" && it->second.IsScalar() &&
          !it->second.Scalar().empty()) {
        base += " (" + it->second.Scalar() + ")";
        break;
      }
    }
  }
  return Value(file_, item, std::move(base), "", line_);
}

Value Root(const std::string* file, const YAML::Node& node) { return Value(file, node, "", "", 0); }

Result<Map> Map::Open(const Value& v, std::span<const std::string_view> allowed) {
  if (!v.IsMap()) return v.Error(fmt::format("expected a map of fields, got {}", v.Shown()));
  Map m(v);
  std::vector<std::string> allowed_names(allowed.begin(), allowed.end());
  for (auto it = v.node().begin(); it != v.node().end(); ++it) {
    if (!it->first.IsScalar()) return v.Error("a key is not a plain string");
    std::string key = it->first.Scalar();
    Value child = m.Child(key, it->second);
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string hint = Closest(key, allowed_names);
      return child.Error(fmt::format("unknown key{} (allowed here: {})",
                                     hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint),
                                     Join(allowed_names, ", ")));
    }
    for (const auto& [k, unused] : m.entries_)
      if (k == key) return child.Error("key given twice");
    m.entries_.emplace_back(std::move(key), it->second);
  }
  return m;
}

Value Map::Child(std::string_view key, const YAML::Node& node) const {
  const Value& s = self_;
  std::string rel = s.rel_.empty() ? std::string(key) : s.rel_ + "." + std::string(key);
  return Value(s.file_, node, s.base_, std::move(rel), s.line_);
}

bool Map::Has(std::string_view key) const {
  for (const auto& [k, v] : entries_)
    if (k == key) return !v.IsNull();
  return false;
}

Value Map::Get(std::string_view key) const {
  for (const auto& [k, v] : entries_)
    if (k == key) return Child(key, v);
  return Child(key, YAML::Node());
}

Result<Value> Map::Require(std::string_view key) const {
  Value v = Get(key);
  if (v.IsNull()) return v.Error("missing required field");
  return v;
}

}  // namespace suanli::yaml
