// The two ways a data-in-and-out command (export, backup, restore, migrate)
// runs: on a storage root no server holds (OpenOfflineRoot), or against a
// running server's admin API (CallServer).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "tiering/storage_targets.h"
#include "tools/auth_setup.h"
#include "tools/tiering_config.h"

namespace timestore::tools {

// An engine opened on a storage root while no server runs on it: holds the
// root's lock (<root>/auth/lock, which a server holds while it runs, so the
// open is refused then), its storage targets (<root>/storage-targets.json
// and the environment's target) and an engine with background work off
// (recovery replays the WAL as a server's start does). Members are destroyed
// engine first, lock last.
struct OfflineRoot {
  std::unique_ptr<AuthRootLock> lock;
  std::unique_ptr<tiering::StorageTargets> targets;
  std::unique_ptr<Engine> engine;

  ~OfflineRoot() {
    engine.reset();
    targets.reset();
    lock.reset();
  }
};

// FailedPrecondition naming the root when a server holds it (and saying to
// use --server); the engine's error when recovery fails.
absl::StatusOr<std::unique_ptr<OfflineRoot>> OpenOfflineRoot(const std::string& root,
                                                             const TieringConfig& tiering);

// Where a command runs: exactly one of --server (with --token /
// TIMESTORE_TOKEN) and --storage-root (TIMESTORE_STORAGE_ROOT).
struct TargetFlags {
  std::string server, token, storage_root;
  TieringConfig tiering;  // for --storage-root: the storage targets to read and write
};
void AddTargetFlags(CLI::App* cmd, TargetFlags* flags);
// InvalidArgument unless exactly one of --server and --storage-root is given.
absl::Status CheckTargetFlags(const TargetFlags& flags);

struct ServerAnswer {
  int status = 0;  // HTTP status; 0: the server could not be reached
  std::string body;
};
// `method` `path` (with its query) on --server, with the token and a JSON
// body; the error names the server when it cannot be reached.
absl::StatusOr<ServerAnswer> CallServer(const TargetFlags& flags, std::string_view method,
                                        std::string_view path, std::string_view body = {});

// Starts a background job on --server (`method` `path` answering 202 with
// the job's JSON, transfer/jobs.h) and polls GET /admin/jobs/{id} until it
// ends; returns the final job JSON. The error carries the server's answer
// when the start is refused, or the job's error when it failed.
absl::StatusOr<std::string> RunServerJob(const TargetFlags& flags, std::string_view method,
                                         std::string_view path, std::string_view body);

}  // namespace timestore::tools
