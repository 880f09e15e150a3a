#include "io/embedded.h"

namespace suanli {

std::optional<std::string_view> FindEmbeddedFile(std::string_view path) {
  for (const auto& f : EmbeddedFiles())
    if (f.path == path) return f.data;
  return std::nullopt;
}

}  // namespace suanli
