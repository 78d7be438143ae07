#include "wal/wal_writer.h"

#include <cstdio>
#include <future>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace timestore::wal {

std::string WalFileName(uint64_t number) { return absl::StrFormat("%06d.wal", number); }

uint64_t ParseWalFileName(std::string_view name) {
  if (name.size() < 5 || name.substr(name.size() - 4) != ".wal") return 0;
  uint64_t n = 0;
  for (char c : name.substr(0, name.size() - 4)) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

WalWriter::WalWriter(Env* env, WalOptions options, uint64_t file_number, uint64_t last_seq)
    : env_(env),
      options_(std::move(options)),
      file_number_(file_number),
      last_seq_(last_seq),
      last_sync_(std::chrono::steady_clock::now()) {}

absl::StatusOr<std::unique_ptr<WalWriter>> WalWriter::Open(Env* env, WalOptions options,
                                                           uint64_t file_number, uint64_t last_seq,
                                                           std::map<uint64_t, uint64_t> existing) {
  RETURN_IF_ERROR(env->CreateDirs(options.dir));
  std::unique_ptr<WalWriter> w(new WalWriter(env, std::move(options), file_number, last_seq));
  w->file_last_seq_ = std::move(existing);
  RETURN_IF_ERROR(w->OpenFile(file_number));
  w->thread_ = std::thread([p = w.get()] { p->Run(); });
  return w;
}

WalWriter::~WalWriter() { Close(); }

absl::Status WalWriter::OpenFile(uint64_t number) {
  file_.reset();
  std::string path = JoinPath(options_.dir, WalFileName(number));
  const bool existed = env_->FileExists(path);
  auto file = LogWriter::Create(env_, path, kWalMagic);
  absl::Status s = file.status();
  // The header and the directory entry must be durable before any record
  // acknowledged in this file relies on them.
  if (s.ok()) s = (*file)->Sync();
  if (s.ok()) s = env_->SyncDir(options_.dir);
  if (!s.ok()) {
    // Leave no headerless file behind: once a newer file exists, recovery reads
    // this one strictly. The next group retries with the same number.
    if (file.ok()) (void)(*file)->Close();
    if (!existed && env_->FileExists(path)) (void)env_->RemoveFile(path);
    return s;
  }
  file_ = std::move(*file);
  file_number_ = number;
  stat_file_number_.store(number, std::memory_order_relaxed);
  std::lock_guard<std::mutex> l(files_mu_);
  file_last_seq_.emplace(number, 0);
  return absl::OkStatus();
}

absl::StatusOr<int> WalWriter::DeleteObsoleteFiles(uint64_t safe_seq) {
  std::vector<uint64_t> doomed;
  {
    std::lock_guard<std::mutex> l(files_mu_);
    const uint64_t current = stat_file_number_.load(std::memory_order_relaxed);
    for (const auto& [number, last] : file_last_seq_) {
      if (number < current && last <= safe_seq) doomed.push_back(number);
    }
  }
  int deleted = 0;
  for (uint64_t number : doomed) {
    absl::Status s = env_->RemoveFile(JoinPath(options_.dir, WalFileName(number)));
    if (!s.ok() && !absl::IsNotFound(s)) return s;
    std::lock_guard<std::mutex> l(files_mu_);
    file_last_seq_.erase(number);
    ++deleted;
  }
  if (deleted > 0) RETURN_IF_ERROR(env_->SyncDir(options_.dir));
  return deleted;
}

size_t WalWriter::file_count() const {
  std::lock_guard<std::mutex> l(files_mu_);
  return file_last_seq_.size();
}

void WalWriter::Append(RecordType type, std::string payload, Callback done) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!closing_) {
      pending_.push_back(Entry{type, std::move(payload), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done(absl::UnavailableError("the write-ahead log is closed"), 0);
}

absl::Status WalWriter::Sync() {
  std::promise<absl::Status> p;
  auto f = p.get_future();
  Append(RecordType::kInvalid, {}, [&p](const absl::Status& s, uint64_t) { p.set_value(s); });
  return f.get();
}

absl::Status WalWriter::Rotate() {
  std::promise<absl::Status> p;
  auto f = p.get_future();
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closing_) return absl::UnavailableError("the write-ahead log is closed");
    pending_.push_back(Entry{
        RecordType::kInvalid, {}, [&p](const absl::Status& s, uint64_t) { p.set_value(s); }, true});
    cv_.notify_one();
  }
  return f.get();
}

void WalWriter::Close() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closing_) {
      // Already closing or closed; fall through to join if needed.
    }
    closing_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

WalWriter::Stats WalWriter::stats() const {
  Stats s;
  s.records = stat_records_.load(std::memory_order_relaxed);
  s.groups = stat_groups_.load(std::memory_order_relaxed);
  s.fsyncs = stat_fsyncs_.load(std::memory_order_relaxed);
  s.bytes_written = stat_bytes_.load(std::memory_order_relaxed);
  s.current_file_number = stat_file_number_.load(std::memory_order_relaxed);
  return s;
}

absl::Status WalWriter::WriteGroup(const std::string& framed, bool force_sync) {
  if (!poisoned_.ok()) return poisoned_;
  if (!framed.empty()) {
    if (file_ != nullptr && file_->size() >= options_.max_file_bytes) {
      // Rotation: the old file is complete and durable before the new one starts.
      absl::Status s = file_->Sync();
      if (s.ok()) s = file_->Close();
      if (!s.ok()) {
        poisoned_ = absl::DataLossError(
            StrCat("write-ahead log rotation failed (", s.message(),
                   "); no further writes are accepted: restart the server to replay the log"));
        return poisoned_;
      }
      stat_fsyncs_.fetch_add(1, std::memory_order_relaxed);
      file_.reset();
    }
    if (file_ == nullptr) RETURN_IF_ERROR(OpenFile(file_number_ + 1));
    uint64_t good_size = file_->size();
    absl::Status s = file_->AppendFramed(framed);
    if (!s.ok()) {
      // Cut the partial group off so the file ends on a complete record; the
      // next group starts a fresh file (opened lazily, since the disk may
      // still be failing). Replay accepts an older file that ends cleanly.
      std::string path = file_->path();
      (void)file_->Close();
      file_.reset();
      absl::Status t = env_->TruncateFile(path, good_size);
      if (t.ok()) {
        // fsync the cut file: the cut itself, and (kBatch, kNone) records already
        // acknowledged in it, must be durable before a later Sync() reports
        // success, which only syncs the next file.
        auto f = env_->NewAppendableFile(path);
        t = f.status();
        if (t.ok()) t = (*f)->Sync();
        if (t.ok()) t = (*f)->Close();
      }
      if (!t.ok()) {
        poisoned_ = absl::DataLossError(StrCat("write-ahead log unusable after a failed write (",
                                               s.message(), ") and a failed truncation (",
                                               t.message(), "); restart the server"));
        return s;
      }
      unsynced_ = false;
      return s;
    }
    stat_bytes_.fetch_add(framed.size(), std::memory_order_relaxed);
    unsynced_ = true;
  }
  bool sync = force_sync || options_.sync_mode == SyncMode::kAlways;
  if (sync && unsynced_ && file_ != nullptr) {
    absl::Status s = file_->Sync();
    stat_fsyncs_.fetch_add(1, std::memory_order_relaxed);
    if (!s.ok()) {
      poisoned_ = absl::DataLossError(
          StrCat("write-ahead log fsync failed (", s.message(),
                 "); no further writes are accepted: restart the server to replay the log"));
      return poisoned_;
    }
    unsynced_ = false;
    last_sync_ = std::chrono::steady_clock::now();
  }
  return absl::OkStatus();
}

void WalWriter::Run() {
  std::vector<Entry> group;
  std::vector<uint64_t> seqs;
  std::string framed;
  const auto interval = std::chrono::milliseconds(std::max(1, options_.sync_interval_ms));
  while (true) {
    bool closing;
    {
      std::unique_lock<std::mutex> l(mu_);
      if (options_.sync_mode == SyncMode::kBatch && unsynced_) {
        cv_.wait_until(l, last_sync_ + interval, [this] { return !pending_.empty() || closing_; });
      } else {
        cv_.wait(l, [this] { return !pending_.empty() || closing_; });
      }
      closing = closing_;
      size_t bytes = 0;
      while (!pending_.empty() && (group.empty() || bytes < options_.max_group_bytes)) {
        bytes += pending_.front().payload.size();
        group.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
    }

    framed.clear();
    seqs.clear();
    bool force_sync = closing;
    bool rotate = false;
    uint64_t seq = last_seq_;
    for (Entry& e : group) {
      if (e.type == RecordType::kInvalid) {
        force_sync = true;
        rotate = rotate || e.rotate;
        seqs.push_back(0);
        continue;
      }
      seqs.push_back(++seq);
      AppendFramedRecord(&framed, e.type, seq, e.payload);
    }
    bool due = options_.sync_mode == SyncMode::kBatch && unsynced_ &&
               std::chrono::steady_clock::now() - last_sync_ >= interval;
    absl::Status s;
    if (!group.empty() || due || closing) {
      s = WriteGroup(framed, force_sync || due);
      if (s.ok()) {
        last_seq_ = seq;
        if (!framed.empty()) {
          std::lock_guard<std::mutex> l(files_mu_);
          file_last_seq_[file_number_] = seq;
        }
      }
      if (s.ok() && rotate && file_ != nullptr) {
        bool has_records;
        {
          std::lock_guard<std::mutex> l(files_mu_);
          has_records = file_last_seq_[file_number_] != 0;
        }
        if (has_records) {
          // Synced by WriteGroup above; the next group opens file_number_ + 1.
          s = file_->Close();
          file_.reset();
          stat_file_number_.store(file_number_ + 1, std::memory_order_relaxed);
        }
      }
    }
    if (!group.empty()) {
      stat_groups_.fetch_add(1, std::memory_order_relaxed);
      // Sync() barriers are not records.
      uint64_t records = 0;
      for (const Entry& e : group) records += e.type != RecordType::kInvalid;
      stat_records_.fetch_add(records, std::memory_order_relaxed);
    }
    for (size_t i = 0; i < group.size(); ++i) group[i].done(s, s.ok() ? seqs[i] : 0);
    group.clear();

    if (closing) {
      std::lock_guard<std::mutex> l(mu_);
      if (pending_.empty()) break;
    }
  }
  if (file_ != nullptr) (void)file_->Close();
}

}  // namespace timestore::wal
