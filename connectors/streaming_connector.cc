#include "connectors/streaming_connector.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>

#include "absl/strings/str_join.h"
#include "api/ingest_parser.h"
#include "common/checksum.h"
#include "common/env.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "connectors/envelope.h"
#include "spdlog/spdlog.h"

namespace timestore::connectors {
namespace {

constexpr size_t kReadBytes = 1 << 20;

std::optional<FileIdentity> Identify(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return FileIdentity{static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size),
                      static_cast<uint64_t>(st.st_dev)};
}

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// A regular file in `dir` with inode `ino` (the tailed file renamed by rotation).
std::optional<std::pair<std::string, FileIdentity>> FindInode(const std::string& dir,
                                                              uint64_t ino) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return std::nullopt;
  std::optional<std::pair<std::string, FileIdentity>> found;
  while (dirent* e = ::readdir(d)) {
    if (e->d_ino != ino) continue;
    std::string p = JoinPath(dir, e->d_name);
    if (auto id = Identify(p); id && id->inode == ino) {
      found.emplace(p, *id);
      break;
    }
  }
  ::closedir(d);
  return found;
}

int64_t MtimeNanos(const struct stat& st) {
  return int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

// Rotated names of the path: files beside it whose name starts with the
// path's name (app.log.1, app.log-20261203), other than the path itself and
// the connector's own files.
std::optional<StreamingConnector::Sibling> StreamingConnector::NextRotatedSibling(
    const Sibling& finished, uint64_t path_inode, std::vector<std::string>* unreadable) const {
  const std::string dir = DirOf(config_.path);
  const std::string base = config_.path.substr(config_.path.rfind('/') + 1);
  auto names = Env::Default()->ListDir(dir);
  if (!names.ok()) return std::nullopt;
  std::optional<Sibling> next;
  for (const std::string& n : *names) {
    if (n.size() <= base.size() || n.compare(0, base.size(), base) != 0) continue;
    const std::string p = JoinPath(dir, n);
    if (p == config_.checkpoint_path || p == config_.checkpoint_path + ".tmp" ||
        p == config_.dead_letter_path) {
      continue;
    }
    struct stat st;
    if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    Sibling c{p, static_cast<uint64_t>(st.st_ino), MtimeNanos(st)};
    if (c.inode == finished.inode || c.inode == path_inode) continue;
    // Written after the finished file (its last change is later; on a tie,
    // the later inode): rotated away while the connector was elsewhere.
    if (std::pair(c.mtime_ns, c.inode) <= std::pair(finished.mtime_ns, finished.inode)) continue;
    if (EndsWith(n, ".gz") || EndsWith(n, ".bz2") || EndsWith(n, ".xz") || EndsWith(n, ".zst") ||
        EndsWith(n, ".zip")) {
      // The same mtime is most likely the finished file compressed (gzip
      // keeps the mtime): only a later one is a gap.
      if (unreadable != nullptr && c.mtime_ns > finished.mtime_ns) unreadable->push_back(p);
      continue;
    }
    if (!next || std::pair(c.mtime_ns, c.inode) < std::pair(next->mtime_ns, next->inode)) {
      next = c;
    }
  }
  return next;
}

StreamingConnector::StreamingConnector(StreamingConfig config, Engine* engine,
                                       const std::string& storage_root,
                                       BackpressureConfig backpressure)
    : config_([&] {
        StreamingConfig c = std::move(config);
        const std::string dir = JoinPath(storage_root, "connectors");
        if (c.checkpoint_path.empty()) {
          c.checkpoint_path = JoinPath(dir, StrCat(c.id, ".checkpoint.json"));
        }
        if (c.dead_letter_path.empty()) {
          c.dead_letter_path = JoinPath(dir, StrCat(c.id, ".dlq.ndjson"));
        }
        return c;
      }()),
      engine_(engine),
      backpressure_(
          backpressure, [engine] { return EngineMemoryBytes(engine); },
          [engine] { RelieveMemory(engine); }),
      dlq_(config_.dead_letter_path) {
  if (auto p = ParsePrecision(config_.precision)) precision_ = *p;
  status_.id = config_.id;
  status_.kind = "streaming";
  status_.state = "running";
  status_.file = config_.path;
}

StreamingConnector::~StreamingConnector() {
  Stop();
  CloseFile();
}

ConnectorStatus StreamingConnector::status() const {
  ConnectorStatus s;
  {
    std::lock_guard<std::mutex> l(mu_);
    s = status_;
  }
  if (s.state == "running" && backpressure_.paused()) s.state = "paused";
  s.pauses = backpressure_.pauses();
  // Lag: what is left of the file being read, plus the path when that is a
  // rotated file still being finished.
  uint64_t lag = 0;
  if (auto id = Identify(s.file); id && id->size > s.offset) lag = id->size - s.offset;
  if (s.file != config_.path) {
    if (auto id = Identify(config_.path)) lag += id->size;
  }
  s.lag_bytes = lag;
  return s;
}

void StreamingConnector::SetError(std::string error) {
  std::lock_guard<std::mutex> l(mu_);
  status_.last_error = std::move(error);
}

void StreamingConnector::Fail(std::string error) {
  spdlog::error("connector {}: {}", config_.id, error);
  std::lock_guard<std::mutex> l(mu_);
  status_.state = "failed";
  status_.last_error = std::move(error);
}

void StreamingConnector::CloseFile() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool StreamingConnector::OpenFile(const std::string& file, uint64_t offset) {
  CloseFile();
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return false;
  }
  fd_ = fd;
  inode_ = st.st_ino;
  device_ = st.st_dev;
  fingerprint_bytes_ = 0;
  pos_ = offset;
  skip_to_newline_ = false;
  std::lock_guard<std::mutex> l(mu_);
  status_.file = file;
  status_.offset = offset;
  return true;
}

bool StreamingConnector::OpenStart() {
  auto loaded = LoadCheckpoint(config_.checkpoint_path);
  if (!loaded.ok()) {
    Fail(std::string(ToStd(loaded.status().message())));
    return false;
  }
  if (*loaded) checkpoint_ = **loaded;
  checkpoint_.path = config_.path;
  StartPlan plan = PlanStart(
      *loaded, config_.path, Identify(config_.path),
      [this](uint64_t ino) { return FindInode(DirOf(config_.path), ino); }, config_.start_at_oldest,
      FingerprintOf);
  if (!plan.note.empty()) {
    spdlog::warn("connector {}: {}", config_.id, plan.note);
    SetError(plan.note);
  }
  if (plan.file.empty()) return false;
  if (!OpenFile(plan.file, plan.offset)) return false;
  if (*loaded && (*loaded)->in_long_line && inode_ == (*loaded)->inode &&
      pos_ == (*loaded)->offset) {
    // Stopped inside an over-long line whose head was dead-lettered.
    skip_to_newline_ = true;
    long_line_end_ = pos_;
  }
  // Another file than the checkpoint's, or the same one read again from an
  // earlier offset: byte offsets repeat, so keys of a new generation.
  if (*loaded && (inode_ != (*loaded)->inode || pos_ < (*loaded)->offset)) {
    ++checkpoint_.generation;
  }
  if (plan.rotated) {
    spdlog::info("connector {}: finishing the rotated file {} from byte {}", config_.id, plan.file,
                 plan.offset);
  }
  // The start point is durable before anything is read (startAtOldest false
  // must not move on with each restart).
  if (!*loaded || checkpoint_.inode != inode_ || checkpoint_.offset != pos_) {
    return Checkpoint(pos_);
  }
  return true;
}

bool StreamingConnector::Checkpoint(uint64_t offset) {
  // The file's first bytes (up to 4 KiB), read again only while the offset
  // is below that: after a restart they tell this file from a new one that
  // reuses its inode.
  const uint64_t want = std::min(kFingerprintBytes, offset);
  if (want != fingerprint_bytes_) {
    std::string head(want, '\0');
    ssize_t n = want == 0 ? 0 : ::pread(fd_, head.data(), want, 0);
    if (n == static_cast<ssize_t>(want)) {
      fingerprint_ = Checksum64(head);
      fingerprint_bytes_ = want;
    } else {
      fingerprint_bytes_ = 0;  // none: the inode alone, as before
    }
  }
  checkpoint_.inode = inode_;
  checkpoint_.device = device_;
  checkpoint_.fingerprint = fingerprint_bytes_ != 0 ? fingerprint_ : 0;
  checkpoint_.fingerprint_bytes = fingerprint_bytes_;
  checkpoint_.offset = offset;
  // Checkpointed inside an over-long line whose head is dead-lettered: a
  // restart skips its rest instead of dead-lettering that too.
  checkpoint_.in_long_line = skip_to_newline_ && offset == long_line_end_;
  if (auto s = SaveCheckpoint(config_.checkpoint_path, checkpoint_); !s.ok()) {
    Fail(StrCat("cannot write the checkpoint ", config_.checkpoint_path, ": ", ToStd(s.message())));
    return false;
  }
  pos_ = offset;
  std::lock_guard<std::mutex> l(mu_);
  status_.offset = offset;
  if (status_.state == "failed") {
    status_.state = "running";
  }
  return true;
}

std::vector<StreamingConnector::Line> StreamingConnector::ReadLines(bool final) {
  std::vector<Line> lines;
  std::string buf;
  uint64_t base = pos_;  // file offset of buf[0]
  size_t scan = 0;       // buf[scan..] not yet searched for a newline
  size_t line_start = 0;
  // Up to batch_size lines and max_batch_bytes of them (at least one line):
  // a batch's memory is bounded by bytes, not only by the count.
  uint64_t taken = 0;
  while (lines.size() < static_cast<size_t>(config_.batch_size) &&
         (lines.empty() || taken < config_.max_batch_bytes)) {
    size_t nl = buf.find('\n', scan);
    if (nl == std::string::npos) {
      scan = buf.size();
      if (buf.size() - line_start >= config_.max_line_bytes) {
        // Dead-letter the head of an over-long line, skip the rest of it.
        Line l{base + line_start, base + buf.size(), buf.substr(line_start, 1024)};
        l.text.insert(0, "\x01");  // marks "too long" for StoreBatch
        long_line_end_ = l.end;
        lines.push_back(std::move(l));
        skip_to_newline_ = true;
        return lines;
      }
      size_t old = buf.size();
      buf.resize(old + kReadBytes);
      ssize_t n = ::pread(fd_, buf.data() + old, kReadBytes, base + old);
      if (n <= 0) {
        buf.resize(old);
        if (final && buf.size() > line_start) {
          // The rest of an over-long line is skipped, not read as a line.
          lines.push_back(Line{base + line_start, base + buf.size(),
                               skip_to_newline_ ? std::string("\x02") : buf.substr(line_start)});
          skip_to_newline_ = false;
        }
        return lines;
      }
      buf.resize(old + n);
      continue;
    }
    if (skip_to_newline_) {
      // The rest of an over-long line: done once its newline is reached.
      lines.push_back(Line{base + line_start, base + nl + 1, "\x02"});
      skip_to_newline_ = false;
    } else {
      lines.push_back(
          Line{base + line_start, base + nl + 1, buf.substr(line_start, nl - line_start)});
    }
    taken += nl + 1 - line_start;
    line_start = scan = nl + 1;
  }
  return lines;
}

uint64_t StreamingConnector::StoreBatch(const std::vector<Line>& lines) {
  const std::string source = [&] {
    std::lock_guard<std::mutex> l(mu_);
    return status_.file;
  }();
  // A line is done once stored or dead-lettered.
  std::vector<bool> done(lines.size(), false);
  auto dead_letter = [&](size_t i, std::string_view reason, std::string_view raw) -> bool {
    if (auto s = dlq_.Append(config_.id, source, lines[i].offset, reason, raw); !s.ok()) {
      Fail(StrCat("cannot write the dead-letter file ", dlq_.path(), ": ", ToStd(s.message())));
      return false;
    }
    spdlog::warn("connector {}: {} offset {}: {}", config_.id, source, lines[i].offset, reason);
    std::lock_guard<std::mutex> l(mu_);
    ++status_.dead_letters;
    return true;
  };
  bool broken = false;
  std::vector<size_t> pending;  // lines whose envelope is to be stored
  std::vector<Envelope> envs(lines.size());
  for (size_t i = 0; i < lines.size() && !broken; ++i) {
    std::string_view text = lines[i].text;
    if (text == "\x02") {
      done[i] = true;
      continue;
    }
    if (!text.empty() && text[0] == '\x01') {
      broken = !dead_letter(
          i, StrCat("line longer than ", config_.max_line_bytes, " bytes (first KiB kept)"),
          text.substr(1));
      done[i] = !broken;
      continue;
    }
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (StripWhitespace(text).empty()) {
      done[i] = true;
      continue;
    }
    auto env = ParseEnvelope(text, config_.dataset);
    if (!env.ok()) {
      broken = !dead_letter(i, ToStd(env.status().message()), text);
      done[i] = !broken;
      continue;
    }
    if (env->idempotency_key.empty()) {
      // Deterministic, so a replay after a crash is answered as a duplicate.
      env->idempotency_key = StrCat("stream:", config_.id, ":", env->offset);
      if (env->offset.empty() || env->idempotency_key.size() > 255) {
        env->idempotency_key =
            StrCat("stream:", config_.id, ":g", checkpoint_.generation, ":", lines[i].offset);
      }
    }
    envs[i] = std::move(*env);
    pending.push_back(i);
  }

  // Store the pending envelopes: all submitted at once (the WAL's group commit
  // shares their fsyncs), answers gathered, then those refused for pressure
  // or by a server error are tried again.
  int connector_failures = 0;
  while (!pending.empty() && !broken) {
    std::mutex m;
    std::condition_variable cv;
    size_t outstanding = 0;
    std::vector<std::optional<absl::StatusOr<IngestResult>>> results(pending.size());
    for (size_t k = 0; k < pending.size(); ++k) {
      size_t i = pending[k];
      SchemaPtr current = engine_->GetSchema(envs[i].dataset);
      api::IngestParseOptions opts;
      opts.slug = envs[i].dataset;
      opts.current = current.get();
      opts.precision = precision_;
      std::string body = envs[i].body;
      auto parsed = api::ParseIngestBody(&body, opts);
      if (!parsed.ok()) {
        results[k] = parsed.status();
        continue;
      }
      parsed->idempotency_key = envs[i].idempotency_key;
      parsed->request_hash = envs[i].hash;
      {
        std::lock_guard<std::mutex> l(m);
        ++outstanding;
      }
      engine_->Ingest(std::move(*parsed), [&, k](absl::StatusOr<IngestResult> r) {
        std::lock_guard<std::mutex> l(m);
        results[k] = std::move(r);
        if (--outstanding == 0) cv.notify_all();
      });
    }
    {
      std::unique_lock<std::mutex> l(m);
      cv.wait(l, [&] { return outstanding == 0; });
    }
    std::vector<size_t> again;
    bool pressure = false;
    std::string server_error;
    for (size_t k = 0; k < pending.size(); ++k) {
      size_t i = pending[k];
      const auto& r = *results[k];
      if (r.ok()) {
        done[i] = true;
        if (!r->duplicate) {
          std::lock_guard<std::mutex> l(mu_);
          status_.rows += r->rows;
        }
        continue;
      }
      switch (Classify(r.status())) {
        case ErrorKind::kRecord: {
          std::string_view text = lines[i].text;
          if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
          if (!dead_letter(i, ToStd(r.status().message()), text)) {
            broken = true;
          } else {
            done[i] = true;
          }
          break;
        }
        case ErrorKind::kPressure:
          if (!pressure) {
            // Visible while it lasts: a single envelope larger than the
            // whole in-memory budget would wait here for good.
            SetError(StrCat("paused, the server refused rows: ", ToStd(r.status().message())));
          }
          pressure = true;
          again.push_back(i);
          break;
        case ErrorKind::kConnector:
          server_error = std::string(ToStd(r.status().message()));
          again.push_back(i);
          break;
      }
      if (broken) break;
    }
    pending = std::move(again);
    if (pending.empty() || broken) break;
    if (!server_error.empty()) {
      Fail(StrCat("storing rows failed, retrying: ", server_error));
      // Back off, up to 5 s; stop here when asked (the checkpoint stays
      // before these lines, so they are read again after a restart).
      SleepMs(std::min(5000, config_.poll_interval_ms << std::min(connector_failures++, 5)));
      if (stopping()) break;
    } else if (pressure) {
      backpressure_.PauseAfterRefusal([this](int ms) { SleepMs(ms); });
      if (stopping()) break;
    }
  }
  // Durable up to the first line not done.
  uint64_t end = pos_;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!done[i]) break;
    end = lines[i].end;
  }
  return end;
}

void StreamingConnector::CheckRotation() {
  auto now = Identify(config_.path);
  if (now && now->inode == inode_) {
    if (now->size < pos_) {
      // Cut shorter than what was read (copytruncate): the same file anew.
      std::string note = StrCat(config_.path, " was truncated to ", now->size,
                                " bytes, below the offset ", pos_, "; reading it from the start");
      spdlog::warn("connector {}: {}", config_.id, note);
      SetError(note);
      ++checkpoint_.generation;
      skip_to_newline_ = false;  // the over-long line, if any, is gone
      Checkpoint(0);
    }
    return;
  }
  // Rotated: the path is another file, or gone. Until a new file is there,
  // keep reading the old one (its writer may not have moved yet).
  if (!now) return;
  struct stat st;
  if (::fstat(fd_, &st) != 0) return;
  const uint64_t old_size = static_cast<uint64_t>(st.st_size);
  const int64_t now_ms = NowNanos() / 1'000'000;
  if (old_size != rotated_size_ || rotation_seen_ms_ == 0) {
    // Still growing (or just noticed): the writer has not moved over yet.
    rotated_size_ = old_size;
    rotation_seen_ms_ = now_ms;
    return;
  }
  // Quiet since the last look. Switch once the writer is on the new file (it
  // has bytes) or the old one has been quiet for two poll intervals.
  if (now->size == 0 && now_ms - rotation_seen_ms_ < 2 * config_.poll_interval_ms) return;
  if (old_size > pos_) {
    // A last line without its newline: it will not be finished now.
    std::vector<Line> tail = ReadLines(/*final=*/true);
    uint64_t end = tail.empty() ? pos_ : StoreBatch(tail);
    if (end != pos_ && !Checkpoint(end)) return;
    if (pos_ < old_size) return;  // more than one batch, or a failure: again later
  }
  rotation_seen_ms_ = 0;
  // Rotated more than once since this file was the path's (the server down,
  // the connector paused or retrying): the files rotated away meanwhile come
  // first, oldest first, before the path.
  Sibling finished{[&] {
                     std::lock_guard<std::mutex> l(mu_);
                     return status_.file;
                   }(),
                   inode_, MtimeNanos(st)};
  std::vector<std::string> unreadable;
  std::optional<Sibling> next = NextRotatedSibling(finished, now->inode, &unreadable);
  if (!unreadable.empty()) {
    std::string note = StrCat(config_.path, " was rotated more than once; not read (compressed): ",
                              absl::StrJoin(unreadable, ", "));
    spdlog::warn("connector {}: {}", config_.id, note);
    SetError(note);
  }
  if (next) {
    spdlog::info("connector {}: done with {} at byte {}; reading {}, rotated away meanwhile",
                 config_.id, finished.path, pos_, next->path);
    if (!OpenFile(next->path, 0)) return;
  } else {
    spdlog::info("connector {}: {} rotated; done with the old file at byte {}, reading the new one",
                 config_.id, config_.path, pos_);
    if (!OpenFile(config_.path, 0)) return;
  }
  ++checkpoint_.generation;
  Checkpoint(0);
}

void StreamingConnector::Run() {
  bool started = false;
  while (!stopping()) {
    if (!started) {
      started = OpenStart();
      if (!started) {
        SleepMs(config_.poll_interval_ms);
        continue;
      }
    }
    if (!backpressure_.Wait([this] { return stopping(); }, [this](int ms) { SleepMs(ms); })) {
      break;
    }
    std::vector<Line> lines = ReadLines(/*final=*/false);
    if (lines.empty()) {
      CheckRotation();
      SleepMs(config_.poll_interval_ms);
      continue;
    }
    uint64_t end = StoreBatch(lines);
    {
      std::lock_guard<std::mutex> l(mu_);
      ++status_.batches;
    }
    if (end != pos_) Checkpoint(end);
    if (end != lines.back().end) SleepMs(config_.poll_interval_ms);  // a failure: again later
  }
}

}  // namespace timestore::connectors
