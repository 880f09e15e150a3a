// The web dashboard's built files (web/dist), compiled into the server by
// cmake/embed.cmake; empty when the dashboard was not built.
#pragma once

#include <vector>

#include "io/embedded.h"

namespace suanli {

const std::vector<EmbeddedFileEntry>& EmbeddedWebFiles();

}  // namespace suanli
