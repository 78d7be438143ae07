// Helpers shared by the files that implement Engine (engine.cc, recovery.cc,
// scan.cc, sealing.cc, dataset_admin.cc); not part of the engine's interface.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "common/env.h"
#include "common/status_util.h"
#include "common/strings.h"

namespace timestore::engine_internal {

inline std::string WalDir(const std::string& root) { return JoinPath(root, "wal"); }

inline absl::Status NotFound(std::string_view slug) {
  return MakeError(absl::StatusCode::kNotFound, "dataset_not_found",
                   StrCat("dataset \"", slug, "\" does not exist"));
}

// Removes `path` and everything under it, best effort.
void RemoveTree(Env* env, const std::string& path);

}  // namespace timestore::engine_internal
