// libFuzzer target for what the Slurm backend reads from Slurm's commands
// (live/backend_slurm.h): sinfo's nodes, squeue's rows, scontrol's record of
// a job, and host lists ("n[1-3,07]"). The first byte picks the reader. Any
// input gives an answer or an error, never a crash or a hang; a host list
// expands to at most the limit of names, none empty or holding a comma or a
// bracket, and a list without brackets is its own names.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/strings.h"
#include "io/model_loader.h"
#include "live/backend_slurm.h"

namespace {

[[noreturn]] void Violated(const char* what, std::string_view list) {
  std::fprintf(stderr, "invariant violated: %s for host list '%.*s'\n", what, static_cast<int>(list.size()),
               list.data());
  std::abort();
}

void CheckHostlist(std::string_view list) {
  constexpr size_t kLimit = 4096;
  auto names = suanli::live::ExpandHostlist(list, kLimit);
  if (!names.ok()) return;
  if (names->size() > kLimit) Violated("more names than the limit", list);
  for (const std::string& n : *names)
    if (n.empty() || n.find_first_of(",[]") != std::string::npos) Violated("a bad name", list);
  if (list.find_first_of("[]") == std::string_view::npos) {
    auto plain = suanli::Split(list, ',');
    if (list.empty()) plain.clear();
    if (plain.size() != names->size()) Violated("a plain list changed length", list);
    for (size_t i = 0; i < plain.size(); ++i)
      if (plain[i] != (*names)[i]) Violated("a plain list changed", list);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: (void)suanli::live::ParseSinfoNodes(text, suanli::BuiltinCatalog()); break;
    case 1: (void)suanli::live::ParseSqueue(text); break;
    case 2: (void)suanli::live::ParseScontrolJob(text); break;
    default: CheckHostlist(text); break;
  }
  return 0;
}
