// The streaming connector's checkpoint: which file (by inode) it is reading
// and the byte offset up to which every line is durable (stored, or written
// to the dead-letter file). Written with WriteFileAtomically after the rows
// are fsynced in the WAL, so after a crash it never points past an undurable
// line; it may point before durable ones, which the engine's idempotency keys
// then answer as duplicates (docs/connectors.md "Guarantees").
//
// On disk (JSON, one object):
//   {"version":1,"path":"/var/log/app/events.ndjson","inode":1234,"offset":5678,
//    "generation":3,"device":2049,"fingerprint":987654321,"fingerprintBytes":4096}
// plus "insideLongLine":true when the offset is inside an over-long line.
// A file system may give a deleted file's inode to a new file, so the inode
// alone does not say "the same file": the fingerprint (xxh3 of the file's
// first min(4 KiB, offset) bytes) and the device do. Checkpoints written
// before them (no "fingerprint") are followed by inode alone, as before.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace timestore::connectors {

struct StreamCheckpoint {
  std::string path;     // the tailed path when written (the file may since be rotated)
  uint64_t inode = 0;   // the file the offset belongs to
  uint64_t offset = 0;  // bytes of that file done
  // Counts moves to a new file (rotation) and truncations: lines without an
  // idempotency key or offset are keyed by generation and byte offset, so a
  // new file (or a truncated one) reusing byte offsets gets new keys, and a
  // replay of the same file after a crash the same ones.
  uint64_t generation = 0;
  uint64_t device = 0;             // st_dev of the file; 0: not recorded
  uint64_t fingerprint = 0;        // xxh3 of the file's first fingerprint_bytes bytes
  uint64_t fingerprint_bytes = 0;  // min(kFingerprintBytes, offset); 0: no fingerprint
  // The offset is inside a line longer than the limit whose head is already
  // dead-lettered: the rest up to its newline is skipped.
  bool in_long_line = false;
};

// How much of a file's start its fingerprint covers (at most).
inline constexpr uint64_t kFingerprintBytes = 4096;

std::string EncodeCheckpoint(const StreamCheckpoint& c);
// DataLoss naming `file` when the text is not a checkpoint.
absl::StatusOr<StreamCheckpoint> DecodeCheckpoint(std::string_view text, std::string_view file);
// nullopt when the file does not exist.
absl::StatusOr<std::optional<StreamCheckpoint>> LoadCheckpoint(const std::string& file);
absl::Status SaveCheckpoint(const std::string& file, const StreamCheckpoint& c);

// Where reading starts at start-up.
struct StartPlan {
  std::string file;     // "" : nothing to read yet (the path does not exist)
  uint64_t offset = 0;  // in `file`
  bool rotated =
      false;         // `file` is the checkpointed file under another name: finish it, then the path
  std::string note;  // why, when the checkpoint could not be followed exactly (logged)
};

struct FileIdentity {
  uint64_t inode = 0;
  uint64_t size = 0;
  uint64_t device = 0;  // 0: unknown
};

// xxh3 of the first `n` bytes of `file`; nullopt when it cannot be read or
// is shorter.
using FingerprintFn = std::function<std::optional<uint64_t>(const std::string& file, uint64_t n)>;
std::optional<uint64_t> FingerprintOf(const std::string& file, uint64_t n);

// `path_id`: the tailed path now (nullopt: missing). `find_inode(ino)`: a file
// beside the path with that inode (a rotated name), if any. `fingerprint`
// (null: not checked) tells a file reusing the checkpoint's inode from the
// checkpoint's file: one whose start differs is a new file, read from 0.
StartPlan PlanStart(
    const std::optional<StreamCheckpoint>& checkpoint, const std::string& path,
    const std::optional<FileIdentity>& path_id,
    const std::function<std::optional<std::pair<std::string, FileIdentity>>(uint64_t inode)>&
        find_inode,
    bool start_at_oldest, const FingerprintFn& fingerprint = nullptr);

}  // namespace timestore::connectors
