// Named crash points for crash tests: the end-to-end tests start the real
// server with TIMESTORE_TEST_CRASH_POINT=<name> and the process kills itself
// with SIGKILL the first time it reaches that point (a kill -9 at an exact
// step, e.g. between a compaction's file write and its manifest edit).
// Unset, a crash point costs one relaxed atomic load.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace timestore {

// Arms `name` (empty disarms). Called once at start-up.
void SetCrashPoint(std::string name);
// Kills the process when `name` is armed.
void CrashPoint(std::string_view name);

// In-process test hooks: a test sets one function that every TestPoint call
// passes its name to (on the calling thread), to run something at an exact
// step (e.g. a migration's begin between an ingest's layout and its log
// write). Unset (null), a test point costs one relaxed atomic load.
void SetTestHook(std::function<void(std::string_view)> hook);
void TestPoint(std::string_view name);

}  // namespace timestore
