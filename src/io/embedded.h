// Data files compiled into the binary (data/accelerators.yaml, data/networks/,
// data/workloads/), so `suanli` runs from any directory without its source tree.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace suanli {

struct EmbeddedFileEntry {
  std::string_view path;  // relative to data/, e.g. "networks/uniform-100k.yaml"
  std::string_view data;
};

const std::vector<EmbeddedFileEntry>& EmbeddedFiles();
std::optional<std::string_view> FindEmbeddedFile(std::string_view path);

}  // namespace suanli
