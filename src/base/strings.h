// Small string helpers and a string interner.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

// Interns strings to dense uint32 ids (tenants, users, names).
class StringTable {
 public:
  uint32_t Intern(std::string_view s);
  std::optional<uint32_t> Find(std::string_view s) const;
  const std::string& Name(uint32_t id) const { return names_[id]; }
  size_t size() const { return names_.size(); }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, uint32_t> ids_;
};

}  // namespace suanli
