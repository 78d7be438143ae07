// Background jobs the admin API starts (exports, backups) and reports on:
// each runs on its own thread; its state is kept in memory (a restart
// forgets finished and running jobs, and a job cut short by a restart leaves
// only what its own crash safety leaves: see each job).
//
// Thread-safe. The destructor asks running jobs to stop and joins them.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace timestore::transfer {

// What a running job reports; read by status calls while it runs.
class JobProgress {
 public:
  void Set(std::string_view counter, int64_t value);
  void Add(std::string_view counter, int64_t delta);
  std::map<std::string, int64_t> Snapshot() const;
  // Set when the registry is shutting down: long jobs check it between
  // steps and return Cancelled.
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

 private:
  friend class JobRegistry;
  mutable std::mutex mu_;
  std::map<std::string, int64_t> counters_;
  std::atomic<bool> cancelled_{false};
};

struct JobInfo {
  std::string id;       // "job-<16 hex>"
  std::string kind;     // "export", "backup", ...
  std::string subject;  // the dataset, the destination: for people
  std::string state;    // "running", "succeeded", "failed"
  int64_t created_ns = 0, finished_ns = 0;
  std::map<std::string, int64_t> progress;
  std::string error;        // failed: the message
  std::string result_json;  // succeeded: the job's JSON answer ("" = none)
};

// The JSON of a job: {"id","kind","subject","state","createdAt","finishedAt",
// "progress":{...},"error","result"}.
std::string JobJson(const JobInfo& job);

class JobRegistry {
 public:
  // Returns the job's JSON answer (an object) or an error.
  using Work = std::function<absl::StatusOr<std::string>(JobProgress&)>;

  JobRegistry() = default;
  ~JobRegistry();
  JobRegistry(const JobRegistry&) = delete;
  JobRegistry& operator=(const JobRegistry&) = delete;

  // Asks running jobs to stop (JobProgress::cancelled) and joins them; jobs
  // started afterwards fail at once. Idempotent; the destructor calls it.
  void Shutdown();

  // Starts `work` on its own thread; returns the job as it starts.
  JobInfo Start(std::string kind, std::string subject, Work work);
  // Start, unless a job of `kind` on `subject` is running (then nullopt):
  // the check and the start are one step, so two requests cannot both start.
  std::optional<JobInfo> StartUnlessRunning(std::string kind, std::string subject, Work work);
  std::optional<JobInfo> Get(std::string_view id) const;
  // Newest first; `kind` empty: every kind. At most the last 100 finished
  // jobs are kept.
  std::vector<JobInfo> List(std::string_view kind = {}) const;

 private:
  struct Entry {
    JobInfo info;
    std::shared_ptr<JobProgress> progress;
    std::thread thread;
  };
  JobInfo StartLocked(std::string kind, std::string subject, Work work);  // under mu_
  JobInfo Snapshot(const Entry& e) const;                                 // under mu_
  void Prune();                                                           // under mu_

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>, std::less<>> jobs_;
  std::vector<std::thread> finished_threads_;
  bool stopping_ = false;
};

}  // namespace timestore::transfer
