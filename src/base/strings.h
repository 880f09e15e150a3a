// Small string helpers and a string interner.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace suanli {

std::vector<std::string_view> Split(std::string_view s, char sep);
std::string_view Trim(std::string_view s);
std::string ToLower(std::string_view s);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);

// Text from others (a job's name, a path, a reason) made safe to print on one
// line of a terminal or a log: C0 controls (newline and tab included), DEL,
// C1 controls (U+0080..U+009F) and bytes that are not valid UTF-8 become
// "\xNN" (one per byte); a backslash stays as it is. Everything else, valid
// UTF-8 included, passes unchanged, so ordinary text is never altered.
std::string EscapeControls(std::string_view s);

// Strict numeric parsing: the whole (trimmed) field must be a number.
std::optional<int64_t> ParseInt(std::string_view s);
std::optional<double> ParseDouble(std::string_view s);

// Interns strings to dense ids (tenants, users, names): 0, 1, ... in the
// order they are first seen. Id is uint32_t or a StrongId over uint32_t.
template <typename Id = uint32_t>
class BasicStringTable {
 public:
  Id Intern(std::string_view s) {
    auto it = ids_.find(std::string(s));
    if (it != ids_.end()) return it->second;
    auto id = Id(static_cast<uint32_t>(names_.size()));
    names_.emplace_back(s);
    ids_.emplace(names_.back(), id);
    return id;
  }
  std::optional<Id> Find(std::string_view s) const {
    auto it = ids_.find(std::string(s));
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }
  const std::string& Name(Id id) const { return names_[Index(id)]; }
  size_t size() const { return names_.size(); }
  const std::vector<std::string>& names() const { return names_; }

 private:
  static size_t Index(Id id) {
    if constexpr (std::is_integral_v<Id>) return id;
    else return id.value();
  }
  std::vector<std::string> names_;
  std::unordered_map<std::string, Id> ids_;
};
using StringTable = BasicStringTable<uint32_t>;

}  // namespace suanli
