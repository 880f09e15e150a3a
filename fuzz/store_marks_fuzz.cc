// libFuzzer target for the store's marks file (live/store_marks.h): any bytes
// must parse or give an error with a message; what parses must format back
// to a slot that parses to the same marks.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "live/store_marks.h"

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

void Check(const suanli::Result<suanli::live::StoreMarks>& m) {
  if (!m.ok()) {
    if (m.status().message().empty()) Fail("error without a message");
    return;
  }
  if (m->seq < 0 || m->reserved_id < 0 || m->last_id < 0 || m->commits < 0) Fail("negative value");
  if (m->last_id > m->reserved_id) Fail("last_id above reserved");
  std::string slot = suanli::live::FormatMarksSlot(*m);
  if (slot.size() != suanli::live::kMarksSlotBytes) Fail("slot of the wrong size");
  auto back = suanli::live::ParseMarksSlot(slot);
  if (!back.ok() || !(*back == *m)) Fail("formatted slot does not parse back");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Check(suanli::live::ParseMarksFile(bytes, "fuzz.marks"));
  if (size >= suanli::live::kMarksSlotBytes)
    Check(suanli::live::ParseMarksSlot(bytes.substr(0, suanli::live::kMarksSlotBytes)));
  Check(suanli::live::ParseMarksSlot(bytes));
  return 0;
}
