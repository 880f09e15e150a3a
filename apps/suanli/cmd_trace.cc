// Placeholder until the command is written; replaced by its implementation.
#include "commands.h"

namespace suanli::app {
void RegisterTrace(CLI::App& app, int* exit_code) {
  (void)app;
  (void)exit_code;
}
}  // namespace suanli::app
