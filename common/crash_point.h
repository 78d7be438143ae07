// Named crash points for crash tests: the end-to-end tests start the real
// server with TIMESTORE_TEST_CRASH_POINT=<name> and the process kills itself
// with SIGKILL the first time it reaches that point (a kill -9 at an exact
// step, e.g. between a compaction's file write and its manifest edit).
// Unset, a crash point costs one relaxed atomic load.
#pragma once

#include <string>
#include <string_view>

namespace timestore {

// Arms `name` (empty disarms). Called once at start-up.
void SetCrashPoint(std::string name);
// Kills the process when `name` is armed.
void CrashPoint(std::string_view name);

}  // namespace timestore
