#include "io/csv.h"

#include "base/strings.h"

namespace suanli {

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += (c == '\n' || c == '\r') ? ' ' : c;
  }
  out += '"';
  return out;
}

bool SplitCsv(std::string_view line, char sep, std::vector<std::string_view>* fields,
              std::vector<std::string>* storage) {
  fields->clear();
  storage->clear();
  if (line.find('"') == std::string_view::npos) {
    size_t start = 0;
    while (true) {
      size_t pos = line.find(sep, start);
      if (pos == std::string_view::npos) {
        fields->push_back(line.substr(start));
        return true;
      }
      fields->push_back(line.substr(start, pos - start));
      start = pos + 1;
    }
  }
  // Slow path with quotes: build every field into storage, then point at it.
  storage->reserve(line.size() / 4 + 2);
  std::string cur;
  bool in_quotes = false, was_quoted = false;
  std::vector<std::string> parts;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        cur += c;
      }
    } else if (c == '"' && (cur.empty() && !was_quoted)) {
      in_quotes = was_quoted = true;
    } else if (c == sep) {
      parts.push_back(std::move(cur));
      cur.clear();
      was_quoted = false;
    } else {
      cur += c;
    }
  }
  if (in_quotes) return false;
  parts.push_back(std::move(cur));
  *storage = std::move(parts);
  for (const auto& s : *storage) fields->push_back(s);
  return true;
}

Status CsvRow::Error(size_t i, const char* name, std::string_view expected) const {
  if (i >= fields_.size())
    return ParseError("{}: field '{}' (column {}): missing, the row has only {} fields", where_, name, i + 1,
                      fields_.size());
  std::string got(fields_[i].substr(0, 60));
  return ParseError("{}: field '{}' (column {}): expected {}, got '{}'", where_, name, i + 1, expected, got);
}

Status CsvRow::RowError(std::string_view message) const { return ParseError("{}: {}", where_, message); }

Result<int64_t> CsvRow::Int(size_t i, const char* name) const {
  if (i >= fields_.size()) return Error(i, name, "an integer");
  auto v = ParseInt(fields_[i]);
  if (!v) return Error(i, name, "an integer");
  return *v;
}

Result<int64_t> CsvRow::IntAtLeast(size_t i, const char* name, int64_t min) const {
  if (i >= fields_.size()) return Error(i, name, "an integer");
  auto v = ParseInt(fields_[i]);
  if (!v || *v < min) return Error(i, name, fmt::format("an integer >= {}", min));
  return *v;
}

Result<double> CsvRow::Double(size_t i, const char* name) const {
  if (i >= fields_.size()) return Error(i, name, "a number");
  auto v = ParseDouble(fields_[i]);
  if (!v) return Error(i, name, "a number");
  return *v;
}

Result<double> CsvRow::DoubleAtLeast(size_t i, const char* name, double min) const {
  if (i >= fields_.size()) return Error(i, name, "a number");
  auto v = ParseDouble(fields_[i]);
  if (!v || *v < min) return Error(i, name, fmt::format("a number >= {}", min));
  return *v;
}

Result<int64_t> CsvRow::IntOr(size_t i, const char* name, int64_t dflt) const {
  if (i >= fields_.size() || Trim(fields_[i]).empty()) return dflt;
  return Int(i, name);
}

Result<double> CsvRow::DoubleOr(size_t i, const char* name, double dflt) const {
  if (i >= fields_.size() || Trim(fields_[i]).empty()) return dflt;
  return Double(i, name);
}

int FindColumn(const std::vector<std::string>& header, std::string_view name) {
  std::string l = ToLower(name);
  for (size_t i = 0; i < header.size(); ++i)
    if (ToLower(Trim(header[i])) == l) return static_cast<int>(i);
  return -1;
}

}  // namespace suanli
