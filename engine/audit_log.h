// The audit log: who changed what, persisted as NDJSON at <root>/audit.log.
//
// File format. UTF-8 text, one event per line, each line one JSON object
// terminated by '\n':
//
//   {"time":"2024-05-01T12:00:00.5Z","actor":"alice","action":"settings.update",
//    "datasetId":"af1df7d0b01750c9","dataset":"cpu","before":{...},"after":{...}}
//
//   time       RFC 3339 UTC (FormatRfc3339); required
//   actor      string: "token:<name>" for a request made with an API token, else
//              the x-iam-user header; null when there is neither
//   action     "settings.update", "dataset.flush", "storage_target.update",
//              "ingest", "token.create", "auth.failure", ...; required, non-empty
//   datasetId  16 hex digits, or "" for events about no dataset
//   dataset    the dataset's slug, or ""
//   before     any JSON value (null when there is nothing to show)
//   after      any JSON value
//
// Readers ignore fields they do not know and default missing optional ones,
// so fields can be added without a format version. The file is meant to be
// read by people and tools (jq) as well as by this class, so it carries no
// magic bytes or checksums: a line that is not a valid event is skipped.
//
// Durability. Append(event, /*sync=*/true) fdatasyncs before it returns; that
// is used for administrative changes. Ingest events are appended with sync =
// false: written with one write(2) and left to the OS (and to the next synced
// append, whose fdatasync covers them), so a power loss can drop the newest
// ingest events but never an acknowledged administrative one.
//
// Recovery. Open never fails and never stops the server: bytes after the last
// '\n' are a torn append (a crash mid-write), dropped with a warning and cut
// from the file; a line in the middle that is not a valid event is skipped
// with a warning naming the file and line. An unreadable file is reported and
// the log starts empty (appends still go to the file).
//
// Rotation. Before an append that would take the file past max_file_bytes
// (16 MiB), the file is synced and renamed to audit.log.1 (replacing an older
// one) and a fresh audit.log is started. At most two files exist.
//
// The newest max_events (10,000) events, from both files, are kept in memory
// and answer Query; older events remain only in the files.
//
// Thread-safe. Appends are serialised; a synced append holds the lock through
// its fdatasync, so an unsynced one may wait one fdatasync behind it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "common/env.h"

namespace timestore {

struct AuditEvent {
  int64_t time_ns = 0;
  std::optional<std::string> actor;  // nullopt: no x-iam-user
  std::string action;
  std::string dataset_id;  // 16 hex digits, or empty
  std::string dataset;     // slug, or empty
  // Serialised JSON values, copied into the line verbatim.
  // REQUIRES: each is one valid JSON value.
  std::string before = "null";
  std::string after = "null";
};

// The event as one line of the file (without the '\n').
std::string AuditEventJson(const AuditEvent& event);

struct AuditLogOptions {
  uint64_t max_file_bytes = 16ull << 20;
  size_t max_events = 10'000;
};

class AuditLog {
 public:
  // What Open found; the same is logged as warnings.
  struct OpenReport {
    uint64_t events_loaded = 0;
    uint64_t torn_tail_bytes = 0;  // dropped from the end of the current file
    // "<path> line <n>: <reason>" for each line skipped.
    std::vector<std::string> skipped_lines;
  };

  // Loads `path` (and `path`.1, when the newest events do not fill memory)
  // and opens `path` for appending. Never fails; see the file comment.
  static std::unique_ptr<AuditLog> Open(Env* env, std::string path, AuditLogOptions options = {});
  ~AuditLog();

  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends one line; with `sync`, returns once it is durable. On error the
  // event is not kept in memory, and the file may or may not hold it (a
  // failed fdatasync); the caller should log it.
  absl::Status Append(const AuditEvent& event, bool sync);

  // The newest events first, at most `limit`; only those whose dataset_id is
  // `dataset_id` unless it is empty.
  std::vector<AuditEvent> Query(std::string_view dataset_id, size_t limit) const;

  const OpenReport& open_report() const { return report_; }
  const std::string& path() const { return path_; }

 private:
  AuditLog(Env* env, std::string path, AuditLogOptions options)
      : env_(env), path_(std::move(path)), options_(options) {}
  void Load();
  // Parses `text` (the contents of `file`) into `out`, oldest first; returns
  // the size of the prefix that ends in '\n' (what remains is a torn tail).
  size_t LoadText(const std::string& file, std::string_view text, std::vector<AuditEvent>* out);
  absl::Status OpenFile() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Rotate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Remember(AuditEvent event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Env* const env_;
  const std::string path_;
  const AuditLogOptions options_;
  OpenReport report_;  // written only by Open

  mutable std::mutex mu_;
  std::unique_ptr<WritableFile> file_ ABSL_GUARDED_BY(mu_);  // null until opened
  // A failed append may have left part of a line: the next one starts with
  // '\n' so that the fragment is a line of its own (skipped on load).
  bool needs_newline_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<AuditEvent> events_ ABSL_GUARDED_BY(mu_);  // oldest first
};

}  // namespace timestore
