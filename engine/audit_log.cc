#include "engine/audit_log.h"

#include <simdjson.h>

#include <algorithm>

#include "common/json_writer.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "spdlog/spdlog.h"

namespace timestore {
namespace {

std::string RotatedPath(const std::string& path) { return StrCat(path, ".1"); }

// The event on `line`, or the reason it is not one.
absl::StatusOr<AuditEvent> ParseEventLine(simdjson::dom::parser& parser, std::string_view line) {
  simdjson::dom::element root;
  if (auto err = parser.parse(line).get(root)) {
    return absl::InvalidArgumentError(StrCat("not JSON (", simdjson::error_message(err), ")"));
  }
  simdjson::dom::object o;
  if (root.get(o)) return absl::InvalidArgumentError("not a JSON object");
  AuditEvent e;
  std::string_view s;
  if (o["time"].get(s)) return absl::InvalidArgumentError("\"time\" is missing or not a string");
  auto t = ParseRfc3339(s);
  if (!t.ok()) {
    return absl::InvalidArgumentError(
        StrCat("\"time\" is not RFC 3339: ", ToStd(t.status().message())));
  }
  e.time_ns = *t;
  if (o["action"].get(s) || s.empty()) {
    return absl::InvalidArgumentError("\"action\" is missing or not a non-empty string");
  }
  e.action = std::string(s);
  simdjson::dom::element v;
  if (!o["actor"].get(v) && !v.is_null()) {
    if (v.get(s)) return absl::InvalidArgumentError("\"actor\" is neither a string nor null");
    e.actor = std::string(s);
  }
  if (!o["datasetId"].get(v)) {
    if (v.get(s)) return absl::InvalidArgumentError("\"datasetId\" is not a string");
    e.dataset_id = std::string(s);
  }
  if (!o["dataset"].get(v)) {
    if (v.get(s)) return absl::InvalidArgumentError("\"dataset\" is not a string");
    e.dataset = std::string(s);
  }
  if (!o["before"].get(v)) e.before = simdjson::minify(v);
  if (!o["after"].get(v)) e.after = simdjson::minify(v);
  return e;
}

}  // namespace

std::string AuditEventJson(const AuditEvent& event) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("time").String(FormatRfc3339(event.time_ns));
  w.Key("actor");
  if (event.actor) {
    w.String(*event.actor);
  } else {
    w.Null();
  }
  w.Key("action").String(event.action);
  w.Key("datasetId").String(event.dataset_id);
  w.Key("dataset").String(event.dataset);
  w.Key("before").Raw(event.before.empty() ? "null" : event.before);
  w.Key("after").Raw(event.after.empty() ? "null" : event.after);
  w.EndObject();
  return out;
}

std::unique_ptr<AuditLog> AuditLog::Open(Env* env, std::string path, AuditLogOptions options) {
  std::unique_ptr<AuditLog> log(new AuditLog(env, std::move(path), options));
  log->Load();
  std::lock_guard<std::mutex> l(log->mu_);
  if (auto s = log->OpenFile(); !s.ok()) {
    // Appends retry; the server runs without its audit trail until one works.
    spdlog::error("audit log: cannot open {} for appending: {}", log->path_, ToStd(s.message()));
  }
  return log;
}

AuditLog::~AuditLog() {
  std::lock_guard<std::mutex> l(mu_);
  if (file_ != nullptr) (void)file_->Close();
}

size_t AuditLog::LoadText(const std::string& file, std::string_view text,
                          std::vector<AuditEvent>* out) {
  simdjson::dom::parser parser;
  size_t pos = 0;
  uint64_t line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) break;  // a torn tail: the caller reports it
    ++line_no;
    std::string_view line = StripWhitespace(text.substr(pos, nl - pos));
    pos = nl + 1;
    // Blank lines are what a failed append's repair leaves; they hold nothing.
    if (line.empty()) continue;
    auto e = ParseEventLine(parser, line);
    if (!e.ok()) {
      std::string why = StrCat(file, " line ", line_no, ": ", ToStd(e.status().message()));
      spdlog::warn("audit log: skipped {}", why);
      report_.skipped_lines.push_back(std::move(why));
      continue;
    }
    out->push_back(*std::move(e));
  }
  return pos;
}

void AuditLog::Load() {
  std::vector<AuditEvent> current;
  if (env_->FileExists(path_)) {
    auto text = env_->ReadFile(path_);
    if (!text.ok()) {
      spdlog::error("audit log: cannot read {} ({}); starting with no past events", path_,
                    ToStd(text.status().message()));
    } else {
      size_t complete = LoadText(path_, *text, &current);
      if (complete < text->size()) {
        report_.torn_tail_bytes = text->size() - complete;
        spdlog::warn(
            "audit log: dropped a torn last line of {} ({} bytes after the last newline; an "
            "append interrupted by a crash)",
            path_, report_.torn_tail_bytes);
        // Cut it, so the next append starts a line of its own.
        if (auto s = env_->TruncateFile(path_, complete); !s.ok()) {
          spdlog::warn("audit log: cannot cut the torn line: {}", ToStd(s.message()));
          std::lock_guard<std::mutex> l(mu_);
          needs_newline_ = true;
        }
      }
    }
  }
  std::vector<AuditEvent> older;
  const std::string rotated = RotatedPath(path_);
  if (current.size() < options_.max_events && env_->FileExists(rotated)) {
    auto text = env_->ReadFile(rotated);
    if (!text.ok()) {
      spdlog::error("audit log: cannot read {} ({}); its events are not loaded", rotated,
                    ToStd(text.status().message()));
    } else {
      size_t complete = LoadText(rotated, *text, &older);
      // A rotated file was synced whole; a tail here is damage, not a torn append.
      if (complete < text->size()) {
        std::string why =
            StrCat(rotated, " line ", std::count(text->begin(), text->begin() + complete, '\n') + 1,
                   ": no newline at the end of the file");
        spdlog::warn("audit log: skipped {}", why);
        report_.skipped_lines.push_back(std::move(why));
      }
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  const size_t keep_older =
      std::min(older.size(), options_.max_events - std::min(options_.max_events, current.size()));
  for (size_t i = older.size() - keep_older; i < older.size(); ++i) Remember(std::move(older[i]));
  for (auto& e : current) Remember(std::move(e));
  report_.events_loaded = events_.size();
}

absl::Status AuditLog::OpenFile() {
  auto f = env_->NewAppendableFile(path_);
  if (!f.ok()) return f.status();
  file_ = *std::move(f);
  return absl::OkStatus();
}

absl::Status AuditLog::Rotate() {
  // The rotated file must be whole on disk before its name says "old".
  if (auto s = file_->Sync(); !s.ok()) return s;
  (void)file_->Close();
  file_.reset();
  const std::string rotated = RotatedPath(path_);
  absl::Status renamed = env_->RenameFile(path_, rotated);
  if (!renamed.ok()) {
    // Keep appending to the old file; it grows past the limit until a rename works.
    if (auto s = OpenFile(); !s.ok()) return s;
    return renamed;
  }
  auto f = env_->NewWritableFile(path_);
  if (!f.ok()) return f.status();
  file_ = *std::move(f);
  needs_newline_ = false;
  return env_->SyncDir(DirName(path_));
}

void AuditLog::Remember(AuditEvent event) {
  events_.push_back(std::move(event));
  while (events_.size() > options_.max_events) events_.pop_front();
}

absl::Status AuditLog::Append(const AuditEvent& event, bool sync) {
  std::string line = AuditEventJson(event);
  line.push_back('\n');
  std::lock_guard<std::mutex> l(mu_);
  if (file_ == nullptr) {
    if (auto s = OpenFile(); !s.ok()) return s;
  }
  if (file_->Size() > 0 && file_->Size() + line.size() > options_.max_file_bytes) {
    if (auto s = Rotate(); !s.ok()) {
      spdlog::error("audit log: rotating {} failed: {}", path_, ToStd(s.message()));
      if (file_ == nullptr) return s;
    }
  }
  if (needs_newline_) line.insert(line.begin(), '\n');
  if (auto s = file_->Append(line); !s.ok()) {
    needs_newline_ = true;
    return s;
  }
  needs_newline_ = false;
  if (sync) {
    if (auto s = file_->Sync(); !s.ok()) return s;
  }
  Remember(event);
  return absl::OkStatus();
}

std::vector<AuditEvent> AuditLog::Query(std::string_view dataset_id, size_t limit) const {
  std::vector<AuditEvent> out;
  std::lock_guard<std::mutex> l(mu_);
  for (auto it = events_.rbegin(); it != events_.rend() && out.size() < limit; ++it) {
    if (!dataset_id.empty() && it->dataset_id != dataset_id) continue;
    out.push_back(*it);
  }
  return out;
}

}  // namespace timestore
