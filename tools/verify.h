// `timestore verify ROOT`: checks every file of a storage root without
// changing anything on disk (no Engine or Manifest::Open, which would rewrite
// the manifest, truncate torn WAL tails and remove stray files).
//
//   CURRENT and the manifest log it names: every edit decodes (a torn tail is
//     tolerated, as at start-up);
//   every segment an add_segments edit lists
//     (ROOT/datasets/<dataset id>/<partition start>/<segment id>.tseg): it
//     opens, every block passes its checksum and decodes, and its footer agrees
//     with the manifest (dataset, segment, partition, rows, bytes);
//   every WAL file (ROOT/wal/NNNNNN.wal): read strictly, except that the
//     newest may end in a torn tail, and every row batch decodes;
//   files under ROOT/datasets the manifest does not list are reported as stray
//     (a seal interrupted before its manifest edit; the next start removes them).
//
// Run it on a stopped server: a seal in progress shows up as a stray file.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env.h"
#include "tiering/storage_targets.h"

namespace timestore::tools {

struct VerifiedFile {
  enum class Kind { kCurrent, kManifest, kSegment, kWal, kStray, kRemote, kOrphan };
  Kind kind = Kind::kSegment;
  std::string path;
  absl::Status status;  // OK, or DataLoss naming the file and offset of the damage
  std::string detail;   // what was checked: "1000 rows, 10 blocks x 11 columns"
};

struct VerifyReport {
  std::vector<VerifiedFile> files;

  size_t Count(VerifiedFile::Kind kind) const;
  size_t corrupt() const;
  bool ok() const { return corrupt() == 0; }
};

struct VerifyOptions {
  // Resolves the targets of remote segments; null: remote segments are
  // reported as not checked (an error: they cannot be vouched for).
  tiering::StorageTargets* targets = nullptr;
  bool deep = false;  // read every block of every remote segment
};

// Checks the storage root `root`. NotFound when `root` is no directory;
// damage is reported per file in the result, not as an error. `on_file`, when
// set, sees each file as soon as it is checked (progress for the CLI).
absl::StatusOr<VerifyReport> VerifyRoot(
    Env* env, const std::string& root,
    const std::function<void(const VerifiedFile&)>& on_file = nullptr,
    const VerifyOptions& options = {});

// "<path>: ok (<detail>)", "<path>: CORRUPT: <reason>", "<path>: stray (...)".
std::string FormatVerifiedFile(const VerifiedFile& file);
// "verified 1 manifest, 3 segments, 2 WAL files: ..." naming every corrupt file.
std::string FormatVerifySummary(const VerifyReport& report);

}  // namespace timestore::tools
