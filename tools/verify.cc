#include "tools/verify.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "common/strings.h"
#include "engine/manifest.h"
#include "engine/wal_payload.h"
#include "segment/segment_reader.h"
#include "tiering/remote_file.h"
#include "wal/log_reader.h"
#include "wal/wal_writer.h"

namespace timestore::tools {
namespace {

using Kind = VerifiedFile::Kind;

std::string Plural(size_t n, std::string_view one, std::string_view many) {
  return StrCat(n, " ", n == 1 ? one : many);
}

// Mirrors Engine::SegmentPath, so listed paths compare equal to listed files.
std::string SegmentPath(const std::string& root, uint64_t dataset_id, int64_t partition_start,
                        uint64_t segment_id) {
  return JoinPath(JoinPath(JoinPath(JoinPath(root, "datasets"), DatasetIdString(dataset_id)),
                           StrCat(partition_start)),
                  StrCat(DatasetIdString(segment_id), ".tseg"));
}

struct ListedSegment {
  uint64_t dataset_id = 0;
  SegmentRecord record;
};

class Verifier {
 public:
  Verifier(Env* env, std::string root, const std::function<void(const VerifiedFile&)>& on_file,
           const VerifyOptions& options)
      : env_(env), root_(std::move(root)), on_file_(on_file), options_(options) {}

  VerifyReport Run() {
    Listing listed = ReadManifest();
    std::set<std::string> listed_paths;
    std::map<std::string, std::set<std::string>> live_objects;  // by target
    for (const ListedSegment& s : listed.segments) {
      std::string path = SegmentPath(root_, s.dataset_id, s.record.partition_start, s.record.id);
      if (s.record.remote()) {
        path.resize(path.size() - 5);
        path += ".tfoot";
        live_objects[s.record.target].insert(s.record.key);
        if (!listed_paths.insert(path).second) continue;
        CheckRemoteSegment(path, s);
        continue;
      }
      if (!listed_paths.insert(path).second) continue;  // listed twice: checked once
      CheckSegment(path, &s);
    }
    CheckUnlisted(listed.complete, listed_paths);
    CheckWal();
    if (listed.complete) CheckOrphans(live_objects);
    return std::move(report_);
  }

 private:
  void Add(Kind kind, std::string path, absl::Status status, std::string detail = "") {
    report_.files.push_back(
        VerifiedFile{kind, std::move(path), std::move(status), std::move(detail)});
    if (on_file_) on_file_(report_.files.back());
  }

  struct Listing {
    std::vector<ListedSegment> segments;
    bool complete = false;  // the whole manifest was read: unlisted files are stray
  };

  // The segments the manifest lists. A manifest damaged mid-file is reported,
  // and the segments of the edits before the damage are still checked.
  Listing ReadManifest() {
    const std::string current_path = JoinPath(root_, "CURRENT");
    auto current = env_->ReadFile(current_path);
    if (!current.ok()) {
      Add(Kind::kCurrent, current_path,
          absl::DataLossError(
              StrCat(current_path, ": cannot be read: ", ToStd(current.status().message()))));
      return {};
    }
    std::string_view name = StripWhitespace(*current);
    std::string_view number = name;
    uint64_t n;
    if (!ConsumePrefix(&number, "MANIFEST-") || !ParseInt(number, &n) ||
        name.find('/') != std::string_view::npos) {
      Add(Kind::kCurrent, current_path,
          absl::DataLossError(StrCat(current_path, ": does not name a manifest file: \"",
                                     StripWhitespace(*current), "\"")));
      return {};
    }
    Add(Kind::kCurrent, current_path, absl::OkStatus(), StrCat("names ", name));

    const std::string path = JoinPath(root_, name);
    absl::Status damage;
    auto log = wal::ReadLog(env_, path, wal::kManifestMagic, wal::TailPolicy::kTornTailOnly);
    if (!log.ok()) {
      damage = log.status();
      // Read again up to the damage, to check the segments listed before it.
      log = wal::ReadLog(env_, path, wal::kManifestMagic, wal::TailPolicy::kTruncate);
      if (!log.ok()) {
        Add(Kind::kManifest, path, damage);
        return {};
      }
    }
    Listing listing;
    std::set<uint64_t> datasets;
    std::map<uint64_t, std::vector<SegmentRecord>> per_dataset;  // live segments, write order
    size_t edits = 0;
    bool inconsistent = false;
    for (const wal::LogRecord& r : log->records) {
      if (r.type != wal::RecordType::kManifestEdit) continue;
      auto edit = DecodeManifestEdit(r.payload);
      if (!edit.ok()) {
        if (damage.ok()) {
          damage = absl::DataLossError(
              StrCat(path, " at offset ", r.offset, ": ", ToStd(edit.status().message())));
        }
        break;  // as at start-up: nothing after an undecodable edit counts
      }
      ++edits;
      switch (edit->op) {
        case ManifestEdit::Op::kCreateDataset:
          datasets.insert(edit->dataset_id);
          break;
        case ManifestEdit::Op::kDropDataset:
          datasets.erase(edit->dataset_id);
          per_dataset.erase(edit->dataset_id);
          break;
        case ManifestEdit::Op::kTierSegments: {
          auto& list = per_dataset[edit->dataset_id];
          if (!TierInList(&list, edit->tiered)) {
            if (damage.ok()) {
              damage = absl::DataLossError(StrCat(path, " at offset ", r.offset,
                                                  ": tier_segments names a segment the "
                                                  "dataset does not have"));
            }
            inconsistent = true;
          }
          break;
        }
        case ManifestEdit::Op::kAddSegments:
        case ManifestEdit::Op::kReplaceSegments: {
          auto& list = per_dataset[edit->dataset_id];
          if (!ReplaceInList(&list, edit->remove, edit->segments)) {
            if (damage.ok()) {
              damage = absl::DataLossError(StrCat(path, " at offset ", r.offset,
                                                  ": replace_segments removes a segment the "
                                                  "dataset does not have"));
            }
            inconsistent = true;
          }
          break;
        }
        default:
          break;
      }
      if (inconsistent) break;
    }
    for (const auto& [id, list] : per_dataset) {
      for (const SegmentRecord& s : list) listing.segments.push_back({id, s});
    }
    std::string detail =
        StrCat(Plural(edits, "edit", "edits"), ", ", Plural(datasets.size(), "dataset", "datasets"),
               ", ", Plural(listing.segments.size(), "segment", "segments"));
    if (damage.ok() && log->dropped_bytes > 0) {
      StrAppend(&detail, "; torn tail of ", log->dropped_bytes,
                " bytes is dropped at the next start: ", log->drop_reason);
    }
    Add(Kind::kManifest, path, damage, detail);
    listing.complete = damage.ok();
    return listing;
  }

  // `listed` is the manifest's record of the file, when the manifest was read.
  void CheckSegment(const std::string& path, const ListedSegment* listed) {
    if (listed != nullptr && !env_->FileExists(path)) {
      Add(Kind::kSegment, path,
          absl::DataLossError(StrCat(path, ": listed in the manifest but missing")));
      return;
    }
    auto reader = segment::SegmentReader::Open(env_, path);
    if (!reader.ok()) {
      Add(Kind::kSegment, path, reader.status());
      return;
    }
    const segment::SegmentMeta& m = (*reader)->meta();
    if (listed != nullptr) {
      const SegmentRecord& r = listed->record;
      auto differ = [&](std::string_view what, auto footer, auto manifest) {
        return absl::DataLossError(
            StrCat(path, ": the footer says ", what, " ", footer, ", the manifest ", manifest));
      };
      absl::Status s;
      if (m.dataset_id != listed->dataset_id) {
        s = differ("dataset", DatasetIdString(m.dataset_id), DatasetIdString(listed->dataset_id));
      } else if (m.segment_id != r.id) {
        s = differ("segment", DatasetIdString(m.segment_id), DatasetIdString(r.id));
      } else if (m.partition_start != r.partition_start) {
        s = differ("partition start", m.partition_start, r.partition_start);
      } else if (m.rows != r.rows) {
        s = differ("rows", m.rows, r.rows);
      } else if (m.file_bytes != r.bytes) {
        s = differ("bytes", m.file_bytes, r.bytes);
      }
      if (!s.ok()) {
        Add(Kind::kSegment, path, s);
        return;
      }
    }
    if (absl::Status s = (*reader)->Verify(); !s.ok()) {
      Add(Kind::kSegment, path, s);
      return;
    }
    std::string detail = StrCat(m.rows, " rows, ", Plural(m.num_blocks(), "block", "blocks"), " x ",
                                Plural(m.columns.size(), "column", "columns"));
    if (listed == nullptr) StrAppend(&detail, "; not checked against the manifest");
    Add(Kind::kSegment, path, absl::OkStatus(), detail);
  }

  // A remote segment: the local footer copy, then the object.
  void CheckRemoteSegment(const std::string& footer_path, const ListedSegment& listed) {
    const SegmentRecord& r = listed.record;
    const std::string where = StrCat(r.target, ":", r.key);
    auto tail = env_->ReadFile(footer_path);
    if (!tail.ok()) {
      Add(Kind::kRemote, where,
          absl::DataLossError(StrCat(where, ": its footer copy ", footer_path,
                                     " cannot be read (the next start fetches it again): ",
                                     ToStd(tail.status().message()))));
      return;
    }
    if (options_.targets == nullptr) {
      Add(Kind::kRemote, where,
          absl::FailedPreconditionError(
              StrCat(where, ": not checked: no storage targets were configured for verify")));
      return;
    }
    auto store = options_.targets->Store(r.target);
    if (!store.ok()) {
      Add(Kind::kRemote, where,
          absl::FailedPreconditionError(
              StrCat(where, ": storage target \"", r.target,
                     "\" is not configured here: ", ToStd(store.status().message()))));
      return;
    }
    const auto deadline = tiering::Clock::now() + std::chrono::seconds(60);
    auto head = (*store)->Head(r.key);
    if (!head.ok()) {
      Add(Kind::kRemote, where,
          absl::IsNotFound(head.status())
              ? absl::DataLossError(StrCat(where, ": listed in the manifest but missing from ",
                                           (*store)->Describe()))
              : head.status());
      return;
    }
    if (head->size != r.bytes) {
      Add(Kind::kRemote, where,
          absl::DataLossError(StrCat(where, ": the object has ", head->size,
                                     " bytes, the manifest says ", r.bytes)));
      return;
    }
    auto remote_tail = tiering::FetchTail(store->get(), r.key, r.bytes, tail->size(), deadline);
    if (!remote_tail.ok()) {
      Add(Kind::kRemote, where, remote_tail.status());
      return;
    }
    if (*remote_tail != *tail) {
      Add(Kind::kRemote, where,
          absl::DataLossError(
              StrCat(where, ": its footer differs from the local copy ", footer_path)));
      return;
    }
    auto file = std::make_unique<tiering::RemoteFile>(*store, r.target, r.key, r.bytes, *tail,
                                                      nullptr, tiering::RemoteFileOptions{});
    auto reader = segment::SegmentReader::Open(std::move(file));
    if (!reader.ok()) {
      Add(Kind::kRemote, where, reader.status());
      return;
    }
    const segment::SegmentMeta& m = (*reader)->meta();
    if (m.dataset_id != listed.dataset_id || m.segment_id != r.id || m.rows != r.rows) {
      Add(Kind::kRemote, where,
          absl::DataLossError(StrCat(where, ": the footer does not describe segment ",
                                     DatasetIdString(r.id), " of the manifest")));
      return;
    }
    std::string detail = StrCat(m.rows, " rows, ", r.bytes, " bytes in ", (*store)->Describe());
    if (options_.deep) {
      if (absl::Status s = (*reader)->Verify(); !s.ok()) {
        Add(Kind::kRemote, where, s);
        return;
      }
      StrAppend(&detail, "; every block read and checked");
    } else {
      StrAppend(&detail, "; size and footer checked (--deep reads every block)");
    }
    Add(Kind::kRemote, where, absl::OkStatus(), detail);
  }

  // Objects of this root that no segment lists, and unfinished uploads.
  void CheckOrphans(const std::map<std::string, std::set<std::string>>& live) {
    if (options_.targets == nullptr) return;
    auto id = env_->ReadFile(JoinPath(root_, "ROOT_ID"));
    if (!id.ok()) return;  // never tiered
    const std::string prefix = StrCat(StripWhitespace(*id), "/");
    for (const auto& config : options_.targets->List()) {
      auto store = options_.targets->Store(config.id);
      if (!store.ok()) continue;
      auto objects = (*store)->List(prefix);
      if (!objects.ok()) {
        Add(Kind::kOrphan, config.id, objects.status());
        continue;
      }
      auto it = live.find(config.id);
      for (const auto& o : *objects) {
        if (it != live.end() && it->second.contains(o.key)) continue;
        Add(Kind::kOrphan, StrCat(config.id, ":", o.key), absl::OkStatus(),
            StrCat(o.size,
                   " bytes no segment lists: an upload interrupted before its manifest "
                   "edit, or a delete not yet done; the server's sweep deletes it"));
      }
      auto uploads = (*store)->ListPendingUploads(prefix);
      if (!uploads.ok()) continue;
      for (const auto& u : *uploads) {
        Add(Kind::kOrphan, StrCat(config.id, ":", u.key), absl::OkStatus(),
            StrCat("an unfinished multipart upload (", u.upload_id,
                   "); the server's sweep aborts it"));
      }
    }
  }

  // Files under datasets/ the manifest does not list. Without the whole
  // manifest they may be live segments, so they are checked as segments.
  void CheckUnlisted(bool have_manifest, const std::set<std::string>& listed) {
    const std::string datasets = JoinPath(root_, "datasets");
    if (!env_->FileExists(datasets)) return;
    auto ids = env_->ListDir(datasets);
    if (!ids.ok()) return;
    for (const auto& id : *ids) {
      const std::string dir = JoinPath(datasets, id);
      auto parts = env_->ListDir(dir);
      if (!parts.ok()) continue;
      for (const auto& part : *parts) {
        auto files = env_->ListDir(JoinPath(dir, part));
        if (!files.ok()) continue;
        for (const auto& f : *files) {
          std::string path = JoinPath(JoinPath(dir, part), f);
          if (listed.contains(path)) continue;
          if (!have_manifest && f.ends_with(".tfoot")) {
            Add(Kind::kStray, path, absl::OkStatus(),
                "a remote segment's footer copy; not checked without the manifest");
          } else if (!have_manifest) {
            CheckSegment(path, nullptr);
          } else {
            Add(Kind::kStray, path, absl::OkStatus(),
                "not in the manifest: left by a seal interrupted before its manifest edit; "
                "the next start removes it");
          }
        }
      }
    }
  }

  void CheckWal() {
    const std::string dir = JoinPath(root_, "wal");
    if (!env_->FileExists(dir)) return;
    auto names = env_->ListDir(dir);
    if (!names.ok()) {
      Add(Kind::kWal, dir, names.status());
      return;
    }
    std::vector<uint64_t> numbers;
    for (const auto& n : *names) {
      if (uint64_t num = wal::ParseWalFileName(n)) numbers.push_back(num);
    }
    std::sort(numbers.begin(), numbers.end());
    for (size_t i = 0; i < numbers.size(); ++i) {
      const std::string path = JoinPath(dir, wal::WalFileName(numbers[i]));
      // Older files were complete when the writer moved on; only the newest
      // may end in a torn write.
      const auto policy =
          i + 1 == numbers.size() ? wal::TailPolicy::kTornTailOnly : wal::TailPolicy::kStrict;
      auto log = wal::ReadLog(env_, path, wal::kWalMagic, policy);
      if (!log.ok()) {
        Add(Kind::kWal, path, log.status());
        continue;
      }
      absl::Status s;
      uint64_t rows = 0;
      for (const wal::LogRecord& r : log->records) {
        if (!CarriesRows(r.type)) continue;
        auto batches = DecodeRowRecord(r.type, r.payload);
        if (!batches.ok()) {
          s = absl::DataLossError(
              StrCat(path, " at offset ", r.offset, ": ", ToStd(batches.status().message())));
          break;
        }
        for (const auto& b : *batches) rows += b.chunk->rows;
      }
      std::string detail =
          StrCat(Plural(log->records.size(), "record", "records"), ", ", rows, " rows");
      if (!log->records.empty()) {
        StrAppend(&detail, ", seq ", log->records.front().seq, "..", log->records.back().seq);
      }
      if (log->dropped_bytes > 0) {
        StrAppend(&detail, "; torn tail of ", log->dropped_bytes,
                  " bytes is dropped at the next start: ", log->drop_reason);
      }
      Add(Kind::kWal, path, s, detail);
    }
  }

  Env* const env_;
  const std::string root_;
  const std::function<void(const VerifiedFile&)>& on_file_;
  const VerifyOptions options_;
  VerifyReport report_;
};

}  // namespace

size_t VerifyReport::Count(VerifiedFile::Kind kind) const {
  return std::count_if(files.begin(), files.end(),
                       [kind](const VerifiedFile& f) { return f.kind == kind; });
}

size_t VerifyReport::corrupt() const {
  return std::count_if(files.begin(), files.end(),
                       [](const VerifiedFile& f) { return !f.status.ok(); });
}

absl::StatusOr<VerifyReport> VerifyRoot(Env* env, const std::string& root,
                                        const std::function<void(const VerifiedFile&)>& on_file,
                                        const VerifyOptions& options) {
  if (!env->FileExists(root) || !env->ListDir(root).ok()) {
    return absl::NotFoundError(StrCat(root, ": no such storage root"));
  }
  return Verifier(env, root, on_file, options).Run();
}

std::string FormatVerifiedFile(const VerifiedFile& f) {
  if (!f.status.ok()) {
    // Messages name the file already; it leads the line once.
    std::string_view msg = ToStd(f.status.message());
    if (ConsumePrefix(&msg, f.path)) ConsumePrefix(&msg, ": ");
    return StrCat(f.path, ": CORRUPT: ", msg);
  }
  if (f.kind == Kind::kStray) return StrCat(f.path, ": stray (", f.detail, ")");
  if (f.kind == Kind::kOrphan) return StrCat(f.path, ": orphan (", f.detail, ")");
  if (f.detail.empty()) return StrCat(f.path, ": ok");
  return StrCat(f.path, ": ok (", f.detail, ")");
}

std::string FormatVerifySummary(const VerifyReport& r) {
  std::string out = StrCat("verified ", Plural(r.Count(Kind::kManifest), "manifest", "manifests"),
                           ", ", Plural(r.Count(Kind::kSegment), "segment", "segments"), ", ",
                           Plural(r.Count(Kind::kWal), "WAL file", "WAL files"));
  if (size_t remote = r.Count(Kind::kRemote))
    StrAppend(&out, ", ", Plural(remote, "remote segment", "remote segments"));
  if (size_t stray = r.Count(Kind::kStray))
    StrAppend(&out, ", ", Plural(stray, "stray file", "stray files"));
  if (size_t orphan = r.Count(Kind::kOrphan))
    StrAppend(&out, ", ", Plural(orphan, "orphan object", "orphan objects"));
  if (r.ok()) return StrCat(out, ": all ok");
  StrAppend(&out, ": ", r.corrupt(), " CORRUPT:");
  for (const VerifiedFile& f : r.files) {
    if (!f.status.ok()) StrAppend(&out, " ", f.path);
  }
  return out;
}

}  // namespace timestore::tools
