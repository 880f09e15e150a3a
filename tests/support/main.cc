// The test binary's main: GoogleTest's, after the local backend's hook (its
// job supervisors are this same binary started again, as in `suanli`).
#include <gtest/gtest.h>

#include "live/local_supervisor.h"

int main(int argc, char** argv) {
  suanli::live::RunLocalSupervisorIfAsked(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
