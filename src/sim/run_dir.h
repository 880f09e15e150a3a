// Reading the output directory of `suanli sim --out DIR`
// (docs/formats-output.md): finding its files and reading summary.json, in
// one place for `suanli report`, `suanli usage` and `suanli sweep`. usage.csv
// is read by ReadUsageCsv (sim/usage.h), the one reader of that file.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace suanli {

// DIR/FILE, or DIR/FILE.gz (the simulator writes either); empty when neither
// is a regular file.
std::string FindRunFile(const std::string& dir, std::string_view file);

// summary.json (plain or gzip), parsed and checked to be an object with a
// "policies" array of objects; keys keep the file's order. Errors name the
// file and, for invalid JSON, where in it.
Result<nlohmann::ordered_json> ReadSummaryJson(const std::string& path);
// The same checks on text already read; `name` is the file's name in errors.
Result<nlohmann::ordered_json> ParseSummaryJson(const std::string& text, const std::string& name);

}  // namespace suanli
