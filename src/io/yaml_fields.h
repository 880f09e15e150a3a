// Strict, typed access to YAML documents for the catalog and network loaders.
// Every error names the file, the line and the YAML path of the field, e.g.
//   my.yaml:14: models[3] (BR100): speed.cnn: expected a number > 0, got 'fast'
// Unknown and duplicate keys are errors, so that typos never pass silently.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace suanli::yaml {

// Parses a whole document; syntax errors become "file:line:col: YAML syntax error: ...".
Result<YAML::Node> ParseDocument(std::string_view text, const std::string& file);

// Levenshtein distance, for "did you mean" hints.
size_t EditDistance(std::string_view a, std::string_view b);
// The candidate closest to `s` (case-insensitive), or "" if none is reasonably close.
std::string Closest(std::string_view s, const std::vector<std::string>& candidates);

// A YAML value with its location. `base` names the enclosing list item
// ("models[3] (BR100)"); `rel` is the dotted path inside it ("speed.cnn").
class Value {
 public:
  Value(const std::string* file, const YAML::Node& node, std::string base, std::string rel, int parent_line);

  const YAML::Node& node() const { return node_; }
  int line() const { return line_; }
  // "models[3] (BR100): speed.cnn"
  std::string Path() const;
  // "file:line: path: message"
  Status Error(std::string_view message) const;
  // The scalar text for "got '...'" messages, or what kind of value it is.
  std::string Shown() const;

  bool IsNull() const { return node_.IsNull(); }
  bool IsMap() const { return node_.IsMap(); }
  bool IsSequence() const { return node_.IsSequence(); }
  bool IsScalar() const { return node_.IsScalar(); }

  Result<std::string> String() const;  // a non-empty scalar
  Result<bool> Bool() const;           // true or false
  Result<double> Number() const;       // any finite number
  Result<double> NumberAtLeast(double min) const;
  Result<double> NumberAbove(double min) const;
  // `unknown` (or empty) -> 0; otherwise a number >= 0.
  Result<double> FigureOrUnknown() const;
  Result<int64_t> Integer(int64_t min, int64_t max) const;
  // A list of non-empty strings (a single scalar is not accepted).
  Result<std::vector<std::string>> StringList() const;

  // Number of items; fails unless this is a sequence.
  Result<size_t> SequenceSize() const;
  // Item i of a sequence. Its path is "<this path>[i]", followed by " (name)"
  // when the item is a map with a scalar `name`; items are bases of their own.
  Value Item(size_t i) const;

 private:
  friend class Map;
  const std::string* file_;
  YAML::Node node_;
  std::string base_;
  std::string rel_;
  int line_ = 0;
};

// A YAML map whose keys are checked against an allowed set.
class Map {
 public:
  // Fails unless `v` is a map whose keys are all allowed and appear once.
  static Result<Map> Open(const Value& v, std::span<const std::string_view> allowed);
  static Result<Map> Open(const Value& v, std::initializer_list<std::string_view> allowed) {
    return Open(v, std::span<const std::string_view>(allowed.begin(), allowed.size()));
  }

  bool Has(std::string_view key) const;
  // The value at `key` (a null node when absent), with its path.
  Value Get(std::string_view key) const;
  // Like Get, but an absent or null value is an error.
  Result<Value> Require(std::string_view key) const;
  const Value& self() const { return self_; }
  Status Error(std::string_view message) const { return self_.Error(message); }
  // Keys and values in document order.
  const std::vector<std::pair<std::string, YAML::Node>>& entries() const { return entries_; }

 private:
  explicit Map(Value self) : self_(std::move(self)) {}
  Value Child(std::string_view key, const YAML::Node& node) const;
  Value self_;
  std::vector<std::pair<std::string, YAML::Node>> entries_;
};

// The document root as a Value (path "").
Value Root(const std::string* file, const YAML::Node& node);

}  // namespace suanli::yaml
