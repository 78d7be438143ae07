// Backups of a storage root to a destination (a local directory or a storage
// target), and restores of a backup into a new storage root.
//
// Layout under the destination:
//   segments/<root id>/<dataset id>/<segment id>.tseg   one object per segment,
//       shared by every backup that lists it: segments are immutable, so a
//       backup uploads only the segments no earlier backup holds (incremental)
//   backups/<backup id>/backup.json                      the backup itself:
//       every dataset's catalog (its manifest edits: create, schema, settings,
//       retention, storage target) and segment list with each object's size
//       and xxh3-64 checksum. Written last, after every object it lists is
//       uploaded and verified: a backup without it does not exist.
// Backup ids sort by time ("20261203T151500.123Z-3fa2").
//
// Consistency: a backup first seals every dataset (so it holds every row
// acknowledged before it began), then takes each dataset's schema, settings
// and segment list as of one manifest edit, holding the segments' handles so
// that compaction or retention cannot delete their files while they are
// copied. Rows acknowledged after the seal are not in the backup. Datasets
// are snapshotted one after another, not at one instant across datasets. A
// schema migration under way (or the last committed one) is part of the
// catalog: a restored root reads unrewritten segments through it and can
// resume it.
//
// Not in a backup: API tokens, storage targets (they hold secrets), the audit
// log, idempotency keys, and the write-ahead log (sealed first instead).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "transfer/destination.h"
#include "transfer/jobs.h"

namespace timestore::transfer {

struct BackupOptions {
  // After a successful backup, keep the newest `keep` backups (this one
  // included) and delete the rest, then every segment object no kept backup
  // lists. 0: keep every backup.
  int keep = 0;
};

struct BackupReport {
  std::string id;
  std::string destination;
  uint64_t datasets = 0, segments = 0, rows = 0;
  uint64_t segments_uploaded = 0, segments_reused = 0;
  uint64_t bytes_uploaded = 0, bytes_total = 0;
  std::vector<std::string> backups_deleted;
  uint64_t objects_deleted = 0;
  double seconds = 0;
};
std::string BackupReportJson(const BackupReport& r);

// Backs up every dataset of `engine` to `dest`. `progress` may be null.
absl::StatusOr<BackupReport> Backup(Engine* engine, const Destination& dest,
                                    const BackupOptions& options, JobProgress* progress);

struct BackupInfo {
  std::string id;
  int64_t created_ns = 0;
  uint64_t datasets = 0, segments = 0, rows = 0, bytes = 0;
};
// The complete backups at `dest`, newest first.
absl::StatusOr<std::vector<BackupInfo>> ListBackups(const Destination& dest);
std::string BackupListJson(const std::vector<BackupInfo>& backups);

// Keeps the newest `keep` backups (>= 1), deletes the others' backup.json,
// then the segment objects no kept backup lists and that are older than
// `protect_after_ns` (objects a backup running now may be about to list).
absl::Status PruneBackups(const Destination& dest, int keep, int64_t protect_after_ns,
                          BackupReport* report);

struct RestoreOptions {
  std::string backup_id;  // empty: the newest
  // Called on the finished staging root before it is renamed into place
  // (the CLI runs `verify` here); an error aborts the restore.
  std::function<absl::Status(const std::string& staging_root)> check;
};
struct RestoreReport {
  std::string id;
  std::string root;
  uint64_t datasets = 0, segments = 0, rows = 0, bytes = 0;
  double seconds = 0;
};
std::string RestoreReportJson(const RestoreReport& r);

// Builds a new storage root at `root` (which must not exist or be an empty
// directory) from a backup: it is written under "<root>.restoring" and
// renamed into place once whole, so a restore cut short leaves no half root.
// Every object is checked against its size and checksum; DataLoss names the
// object that does not match. The new root gets a root id of its own (object
// keys of tiering never collide with the source's).
absl::StatusOr<RestoreReport> Restore(const Destination& from, Env* env, const std::string& root,
                                      const RestoreOptions& options, JobProgress* progress);

}  // namespace timestore::transfer
