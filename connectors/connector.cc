#include "connectors/connector.h"

#include <future>

#include "common/json_writer.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "spdlog/spdlog.h"

namespace timestore::connectors {

ErrorKind Classify(const absl::Status& s) {
  // Untagged errors are the server's (a file system error, a full disk, a
  // failed fsync): the record is not at fault, so it must not be dead-lettered.
  if (ErrorCodeOf(s).empty()) return ErrorKind::kConnector;
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:       // idempotency_conflict: the key, another body
    case absl::StatusCode::kFailedPrecondition:  // schema_conflict
      return ErrorKind::kRecord;
    case absl::StatusCode::kResourceExhausted:  // backpressure
    case absl::StatusCode::kUnavailable:        // request_in_progress, dataset_deleted
      return ErrorKind::kPressure;
    default:
      return ErrorKind::kConnector;
  }
}

absl::Status DeadLetterFile::Append(std::string_view connector, std::string_view source,
                                    int64_t offset, std::string_view reason,
                                    std::string_view line) {
  if (file_ == nullptr) {
    const std::string dir = DirName(path_);
    const bool existed = env_->FileExists(path_);
    const bool dir_existed = env_->FileExists(dir);
    if (auto s = env_->CreateDirs(dir); !s.ok()) return s;
    if (!dir_existed) {
      if (auto s = env_->SyncDir(DirName(dir)); !s.ok()) return s;
    }
    auto f = env_->NewAppendableFile(path_);
    if (!f.ok()) return f.status();
    if (!existed) {
      // The new file's name is durable only once its directory is fsynced
      // (a custom dlqPath may be on a file system that loses it otherwise).
      if (auto s = env_->SyncDir(dir); !s.ok()) return s;
    }
    file_ = std::move(*f);
  }
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("at").String(FormatRfc3339(NowNanos()));
  w.Key("connector").String(connector);
  w.Key("source").String(source);
  if (offset >= 0) w.Key("offset").Int(offset);
  w.Key("reason").String(reason);
  if (!line.empty()) w.Key("line").String(line);
  w.EndObject();
  out.push_back('\n');
  if (auto s = file_->Append(out); !s.ok()) {
    file_.reset();  // reopened (at its end) by the next Append
    return s;
  }
  if (auto s = file_->Sync(); !s.ok()) {
    file_.reset();
    return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<IngestResult> IngestAndWait(Engine* engine, IngestRequest request) {
  std::promise<absl::StatusOr<IngestResult>> p;
  auto f = p.get_future();
  engine->Ingest(std::move(request),
                 [&p](absl::StatusOr<IngestResult> r) { p.set_value(std::move(r)); });
  return f.get();
}

absl::StatusOr<std::vector<IngestResult>> IngestManyAndWait(Engine* engine,
                                                            std::vector<IngestRequest> requests) {
  std::promise<absl::StatusOr<std::vector<IngestResult>>> p;
  auto f = p.get_future();
  engine->IngestMany(std::move(requests), [&p](absl::StatusOr<std::vector<IngestResult>> r) {
    p.set_value(std::move(r));
  });
  return f.get();
}

uint64_t EngineMemoryBytes(Engine* engine) {
  uint64_t bytes = 0;
  for (const auto& d : engine->ListDatasets()) bytes += d->hot_bytes();
  return bytes;
}

void RelieveMemory(Engine* engine) {
  std::shared_ptr<Dataset> largest;
  uint64_t most = 0;
  for (auto& d : engine->ListDatasets()) {
    uint64_t b = d->hot_bytes();
    if (b > most) {
      most = b;
      largest = d;
    }
  }
  if (largest == nullptr) return;
  if (auto r = engine->Flush(largest->slug()); !r.ok()) {
    spdlog::debug("connectors: sealing {} to make room failed: {}", largest->slug(),
                  ToStd(r.status().message()));
  }
}

Connector::~Connector() { Stop(); }

void Connector::Start() {
  stop_.store(false, std::memory_order_release);
  thread_ = std::thread([this] { Run(); });
}

void Connector::Stop() {
  {
    std::lock_guard<std::mutex> l(sleep_mu_);
    stop_.store(true, std::memory_order_release);
  }
  sleep_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Connector::SleepMs(int ms) {
  std::unique_lock<std::mutex> l(sleep_mu_);
  sleep_cv_.wait_for(l, std::chrono::milliseconds(ms), [this] { return stopping(); });
}

}  // namespace timestore::connectors
