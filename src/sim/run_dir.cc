#include "sim/run_dir.h"

#include <filesystem>

#include <fmt/format.h>

#include "io/line_reader.h"

namespace suanli {

namespace fs = std::filesystem;

std::string FindRunFile(const std::string& dir, std::string_view file) {
  std::error_code ec;
  std::string p = (fs::path(dir) / file).string();
  if (fs::is_regular_file(p, ec)) return p;
  std::string gz = p + ".gz";
  if (fs::is_regular_file(gz, ec)) return gz;
  return "";
}

Result<nlohmann::ordered_json> ReadSummaryJson(const std::string& path) {
  SUANLI_ASSIGN_OR_RETURN(std::string text, ReadFileMaybeGz(path));
  return ParseSummaryJson(text, path);
}

Result<nlohmann::ordered_json> ParseSummaryJson(const std::string& text, const std::string& path) {
  nlohmann::ordered_json root;
  try {
    root = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for a number like 1E400
    std::string what = e.what();
    auto p = what.find("] ");
    if (p != std::string::npos) what = what.substr(p + 2);
    return ParseError("{}: not valid JSON: {}", path, what);
  }
  if (!root.is_object()) return ParseError("{}: expected a JSON object at the top", path);
  auto pol = root.find("policies");
  if (pol == root.end()) return ParseError("{}: missing key 'policies'", path);
  if (!pol->is_array()) return ParseError("{}: 'policies': expected an array", path);
  for (size_t i = 0; i < pol->size(); ++i) {
    if (!(*pol)[i].is_object()) return ParseError("{}: policies[{}]: expected an object", path, i);
  }
  return root;
}

}  // namespace suanli
