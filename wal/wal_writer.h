// The write-ahead log writer with group commit.
//
// Callers Append() a payload with a callback. One writer thread takes every
// record pending at that moment, writes them with one write() and makes them
// durable with one fdatasync (SyncMode::kAlways), then runs the callbacks in
// log order on the writer thread. Concurrent requests therefore share fsyncs,
// and the callbacks see records in exactly the order replay will.
//
// Failure policy: a failed write truncates the file back to its last complete
// record and moves to a new file; the records of that group fail and later
// ones may succeed (ENOSPC can clear). A failed fdatasync poisons the writer
// (the group and every later append fail with DataLoss: the group's records
// may or may not be on disk, which only a restart and replay settle):
// after it, the kernel may have dropped dirty pages, so every later Append
// fails until the process restarts and replays the log.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/env.h"
#include "wal/log_writer.h"
#include "wal/wal_format.h"

namespace timestore::wal {

enum class SyncMode {
  kAlways,  // fdatasync before every acknowledgement
  kBatch,   // acknowledge after write(); fdatasync every sync_interval_ms
  kNone,    // never fdatasync (the OS decides); for benchmarks and tests only
};

struct WalOptions {
  std::string dir;  // holds NNNNNN.wal
  SyncMode sync_mode = SyncMode::kAlways;
  int sync_interval_ms = 100;
  uint64_t max_file_bytes = 64ull << 20;  // rotate to a new file beyond this
  size_t max_group_bytes = 64ull << 20;   // at most this much per write()
};

std::string WalFileName(uint64_t number);
// Returns the number of a "NNNNNN.wal" name, or 0 when it is not one.
uint64_t ParseWalFileName(std::string_view name);

class WalWriter {
 public:
  // Runs on the writer thread, in log order, once the record is durable (or
  // failed). Must not block for long: it delays the next group.
  using Callback = std::function<void(const absl::Status& status, uint64_t seq)>;

  // Starts writing a new file `file_number` in options.dir; sequence numbers
  // continue after `last_seq`. `existing` maps the older files found at
  // start-up to the last sequence number each holds (0: no records), so they
  // can be deleted once obsolete.
  static absl::StatusOr<std::unique_ptr<WalWriter>> Open(
      Env* env, WalOptions options, uint64_t file_number, uint64_t last_seq,
      std::map<uint64_t, uint64_t> existing = {});
  ~WalWriter();

  void Append(RecordType type, std::string payload, Callback done);
  // Blocks until everything appended before the call is durable.
  absl::Status Sync();
  // Like Sync, then closes the current file when it holds records: later
  // records go to a new file, and DeleteObsoleteFiles may delete this one once
  // everything in it is sealed (a flush that seals everything frees the log).
  absl::Status Rotate();
  // Drains pending records, syncs and stops the writer thread. Idempotent.
  void Close();
  // Deletes every file but the one being written whose records all have
  // seq <= `safe_seq` (their rows are durable elsewhere). Returns how many.
  absl::StatusOr<int> DeleteObsoleteFiles(uint64_t safe_seq);
  // Number of WAL files on disk (including the current one).
  size_t file_count() const;

  struct Stats {
    uint64_t records = 0;
    uint64_t groups = 0;
    uint64_t fsyncs = 0;
    uint64_t bytes_written = 0;
    uint64_t current_file_number = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    RecordType type;  // kInvalid marks a Sync() barrier: nothing is written
    std::string payload;
    Callback done;
    bool rotate = false;  // a Rotate() barrier
  };

  WalWriter(Env* env, WalOptions options, uint64_t file_number, uint64_t last_seq);
  void Run();
  absl::Status OpenFile(uint64_t number);
  absl::Status WriteGroup(const std::string& framed, bool force_sync);

  Env* const env_;
  const WalOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Entry> pending_;  // guarded by mu_
  bool closing_ = false;       // guarded by mu_
  std::thread thread_;

  // Writer-thread state.
  std::unique_ptr<LogWriter> file_;
  uint64_t file_number_;
  uint64_t last_seq_;
  bool unsynced_ = false;
  absl::Status poisoned_;
  std::chrono::steady_clock::time_point last_sync_;

  std::atomic<uint64_t> stat_records_{0}, stat_groups_{0}, stat_fsyncs_{0}, stat_bytes_{0};
  std::atomic<uint64_t> stat_file_number_{0};

  mutable std::mutex files_mu_;
  std::map<uint64_t, uint64_t> file_last_seq_;  // guarded by files_mu_; includes the current file
};

}  // namespace timestore::wal
