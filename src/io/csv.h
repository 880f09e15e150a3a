// CSV field splitting (RFC 4180 quotes) and typed field access with messages
// that name the file, line, field and what was expected.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace suanli {

// Splits one CSV line. Quoted fields may contain the separator and "" escapes;
// the unquoted copies live in `storage`. Returns false on an unterminated quote.
bool SplitCsv(std::string_view line, char sep, std::vector<std::string_view>* fields,
              std::vector<std::string>* storage);

// One field as written to a CSV file (RFC 4180): as it is, or in double
// quotes (with "" for a quote) when it holds a comma, a quote or a line
// break; a line break becomes a space, so that every row stays one line for
// line-based readers (SplitCsv). Every CSV writer of the project uses it.
std::string CsvField(std::string_view s);

// Typed access to the fields of one row, producing "file:line: field 'x': expected ..., got '...'".
class CsvRow {
 public:
  CsvRow(std::string where, const std::vector<std::string_view>& fields,
         const std::vector<std::string>* header = nullptr)
      : where_(std::move(where)), fields_(fields), header_(header) {}

  size_t size() const { return fields_.size(); }
  std::string_view Str(size_t i) const { return i < fields_.size() ? fields_[i] : std::string_view(); }
  Result<int64_t> Int(size_t i, const char* name) const;
  Result<int64_t> IntAtLeast(size_t i, const char* name, int64_t min) const;
  Result<double> Double(size_t i, const char* name) const;
  Result<double> DoubleAtLeast(size_t i, const char* name, double min) const;
  // Empty field -> `dflt`.
  Result<int64_t> IntOr(size_t i, const char* name, int64_t dflt) const;
  Result<double> DoubleOr(size_t i, const char* name, double dflt) const;
  Status Error(size_t i, const char* name, std::string_view expected) const;
  Status RowError(std::string_view message) const;
  const std::string& where() const { return where_; }

 private:
  std::string where_;
  const std::vector<std::string_view>& fields_;
  const std::vector<std::string>* header_;
};

// Finds a column by name in a header (case-insensitive); -1 if missing.
int FindColumn(const std::vector<std::string>& header, std::string_view name);

}  // namespace suanli
