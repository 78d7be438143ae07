#include "transfer/jobs.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_format.h"
#include "common/json_writer.h"
#include "common/time_util.h"

namespace timestore::transfer {
namespace {

constexpr size_t kKeepFinished = 100;

std::string NewJobId() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard<std::mutex> l(mu);
  return absl::StrFormat("job-%016x", rng());
}

}  // namespace

void JobProgress::Set(std::string_view counter, int64_t value) {
  std::lock_guard<std::mutex> l(mu_);
  counters_[std::string(counter)] = value;
}

void JobProgress::Add(std::string_view counter, int64_t delta) {
  std::lock_guard<std::mutex> l(mu_);
  counters_[std::string(counter)] += delta;
}

std::map<std::string, int64_t> JobProgress::Snapshot() const {
  std::lock_guard<std::mutex> l(mu_);
  return counters_;
}

std::string JobJson(const JobInfo& job) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("id").String(job.id);
  w.Key("kind").String(job.kind);
  w.Key("subject").String(job.subject);
  w.Key("state").String(job.state);
  w.Key("createdAt").String(FormatRfc3339(job.created_ns));
  w.Key("finishedAt");
  if (job.finished_ns != 0) {
    w.String(FormatRfc3339(job.finished_ns));
  } else {
    w.Null();
  }
  w.Key("progress").BeginObject();
  for (const auto& [k, v] : job.progress) w.Key(k).Int(v);
  w.EndObject();
  w.Key("error");
  if (job.error.empty()) {
    w.Null();
  } else {
    w.String(job.error);
  }
  w.Key("result");
  if (job.result_json.empty()) {
    w.Null();
  } else {
    w.Raw(job.result_json);
  }
  w.EndObject();
  return out;
}

JobRegistry::~JobRegistry() { Shutdown(); }

void JobRegistry::Shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    for (auto& [id, e] : jobs_) {
      e->progress->cancelled_.store(true, std::memory_order_release);
      if (e->thread.joinable()) threads.push_back(std::move(e->thread));
    }
    for (auto& t : finished_threads_) threads.push_back(std::move(t));
  }
  for (auto& t : threads) t.join();
}

JobInfo JobRegistry::Snapshot(const Entry& e) const {
  JobInfo info = e.info;
  info.progress = e.progress->Snapshot();
  return info;
}

JobInfo JobRegistry::Start(std::string kind, std::string subject, Work work) {
  std::lock_guard<std::mutex> l(mu_);
  return StartLocked(std::move(kind), std::move(subject), std::move(work));
}

std::optional<JobInfo> JobRegistry::StartUnlessRunning(std::string kind, std::string subject,
                                                       Work work) {
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [id, e] : jobs_) {
    if (e->info.state == "running" && e->info.kind == kind && e->info.subject == subject) {
      return std::nullopt;
    }
  }
  return StartLocked(std::move(kind), std::move(subject), std::move(work));
}

JobInfo JobRegistry::StartLocked(std::string kind, std::string subject, Work work) {
  auto entry = std::make_unique<Entry>();
  entry->info.id = NewJobId();
  entry->info.kind = std::move(kind);
  entry->info.subject = std::move(subject);
  entry->info.state = "running";
  entry->info.created_ns = NowNanos();
  entry->progress = std::make_shared<JobProgress>();
  Entry* e = entry.get();
  const std::string id = e->info.id;
  jobs_.emplace(id, std::move(entry));
  if (stopping_) {
    e->info.state = "failed";
    e->info.error = "the server is shutting down";
    e->info.finished_ns = e->info.created_ns;
    return Snapshot(*e);
  }
  JobInfo started = Snapshot(*e);
  e->thread = std::thread([this, e, work = std::move(work)] {
    absl::StatusOr<std::string> result = work(*e->progress);
    std::lock_guard<std::mutex> l(mu_);
    e->info.finished_ns = NowNanos();
    if (result.ok()) {
      e->info.state = "succeeded";
      e->info.result_json = *std::move(result);
    } else {
      e->info.state = "failed";
      e->info.error = std::string(result.status().message());
    }
    Prune();
  });
  return started;
}

void JobRegistry::Prune() {
  std::vector<std::pair<int64_t, std::string>> finished;
  for (const auto& [id, e] : jobs_) {
    if (e->info.state != "running") finished.emplace_back(e->info.finished_ns, id);
  }
  if (finished.size() <= kKeepFinished) return;
  std::sort(finished.begin(), finished.end());
  for (size_t i = 0; i + kKeepFinished < finished.size(); ++i) {
    auto it = jobs_.find(finished[i].second);
    // The pruned job's thread may be the one running this: keep it to join later.
    if (it->second->thread.joinable()) finished_threads_.push_back(std::move(it->second->thread));
    jobs_.erase(it);
  }
}

std::optional<JobInfo> JobRegistry::Get(std::string_view id) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return Snapshot(*it->second);
}

std::vector<JobInfo> JobRegistry::List(std::string_view kind) const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<JobInfo> out;
  for (const auto& [id, e] : jobs_) {
    if (kind.empty() || e->info.kind == kind) out.push_back(Snapshot(*e));
  }
  std::sort(out.begin(), out.end(), [](const JobInfo& a, const JobInfo& b) {
    return a.created_ns != b.created_ns ? a.created_ns > b.created_ns : a.id > b.id;
  });
  return out;
}

}  // namespace timestore::transfer
