// The server's diagnostic log lines. Log messages quote what tenants wrote
// (job names, working directories, commands, reasons a backend reported): a
// newline in one would forge a line of the log, an escape sequence would reach
// the terminal of whoever reads it. The formatter below writes every message
// through EscapeControls (base/strings.h), so a line of the log is always one
// record.
#pragma once

#include <memory>
#include <string>

#include <spdlog/pattern_formatter.h>

namespace suanli::live {

// A pattern formatter for `pattern` in which the flag %* stands for the
// message with its control characters shown as \xNN (use it instead of %v).
std::unique_ptr<spdlog::formatter> MakeEscapingFormatter(const std::string& pattern);

// The default pattern of `suanli serve`'s diagnostics (one line a record).
inline constexpr const char* kServeLogPattern = "%Y-%m-%dT%H:%M:%S.%e%z %l %*";

// Makes the default logger one that writes `name`'s diagnostics to stderr
// in kServeLogPattern at `level` (trace, debug, info, warn, error or off);
// false for another level.
bool UseStderrLogger(const std::string& name, const std::string& level);

}  // namespace suanli::live
