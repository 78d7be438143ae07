#include "connectors/bulk_connector.h"

#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <functional>

#include "absl/container/flat_hash_map.h"
#include "api/ingest_parser.h"
#include "api/line_protocol.h"
#include "common/checksum.h"
#include "common/env.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "connectors/csv.h"
#include "simdjson.h"
#include "spdlog/spdlog.h"

namespace timestore::connectors {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Appends chunks of the raw JSON `records` (each already serialised) to `out`.
void ChunkRecords(const std::string& head, const std::vector<std::string>& records,
                  uint32_t chunk_size, std::vector<BulkChunk>* out) {
  for (size_t i = 0; i < records.size(); i += chunk_size) {
    BulkChunk c;
    c.body = StrCat("{", head, head.empty() ? "" : ",", "\"records\":[");
    size_t end = std::min(records.size(), i + chunk_size);
    for (size_t j = i; j < end; ++j) {
      if (j > i) c.body.push_back(',');
      c.body.append(records[j]);
    }
    c.body.append("]}");
    c.first_row = i + 1;
    c.last_row = end;
    out->push_back(std::move(c));
  }
}

absl::Status Bad(std::string_view what) { return absl::InvalidArgumentError(std::string(what)); }

absl::StatusOr<std::vector<BulkChunk>> SplitJson(std::string_view text, uint32_t chunk_size,
                                                 std::string* dataset) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(text.data(), text.size()).get(root); err) {
    return Bad(StrCat("not valid JSON: ", simdjson::error_message(err)));
  }
  std::string head;
  auto add_head = [&](std::string_view name, simdjson::dom::element v) {
    if (v.is_null()) return;
    StrAppend(&head, head.empty() ? "" : ",", "\"", name, "\":", simdjson::minify(v));
  };
  simdjson::dom::array records;
  bool has_records = false;
  if (root.is_array()) {
    records = root.get_array().value_unsafe();
    has_records = true;
  } else if (root.is_object()) {
    // Our ingest body ({schema, timestampColumn, partitionKey, records}) or the
    // original's bulk file ({ingestion: {datasetSlug, schema, partition, rows}, rows}).
    simdjson::dom::object top = root.get_object().value_unsafe();
    for (auto field : top) {
      std::string_view k = field.key;
      simdjson::dom::element v = field.value;
      if (k == "records" || k == "rows") {
        if (!v.is_array()) return Bad(StrCat("member \"", k, "\": expected an array"));
        records = v.get_array().value_unsafe();
        has_records = true;
      } else if (k == "schema" || k == "timestampColumn" || k == "partitionKey") {
        add_head(k, v);
      } else if (k == "chunkSize" || k == "idempotencyBase") {
        // The original's per-file settings; chunkSize comes from the connector here.
      } else if (k == "ingestion") {
        simdjson::dom::object ing;
        if (v.get(ing) != simdjson::SUCCESS) return Bad("member \"ingestion\": expected an object");
        for (auto f : ing) {
          std::string_view ik = f.key;
          if (ik == "datasetSlug" || ik == "dataset") {
            std::string_view slug;
            if (f.value.get(slug) != simdjson::SUCCESS) {
              return Bad(StrCat("member \"ingestion.", ik, "\": expected a string"));
            }
            *dataset = std::string(slug);
          } else if (ik == "schema" || ik == "timestampColumn" || ik == "partitionKey") {
            add_head(ik, f.value);
          } else if (ik == "partition") {
            simdjson::dom::element key;
            if (f.value["key"].get(key) == simdjson::SUCCESS) add_head("partitionKey", key);
          } else if (ik == "rows" || ik == "records") {
            if (!f.value.is_array()) return Bad("member \"ingestion.rows\": expected an array");
            if (!has_records) {
              records = f.value.get_array().value_unsafe();
              has_records = true;
            }
          } else if (ik == "datasetName" || ik == "tableName" || ik == "storageTargetId" ||
                     ik == "receivedAt" || ik == "idempotencyKey" || ik == "actor") {
            // The original's metadata; nothing to store.
          } else {
            return Bad(StrCat("member \"ingestion.", ik.substr(0, 80), "\" is not recognised"));
          }
        }
      } else {
        return Bad(StrCat("member \"", k.substr(0, 80),
                          "\" is not one of records (rows), schema, timestampColumn, "
                          "partitionKey, ingestion"));
      }
    }
  } else {
    return Bad("expected an array of records or an object with \"records\"");
  }
  if (!has_records) return Bad("no \"records\" (or \"rows\") array");
  std::vector<std::string> raw;
  for (simdjson::dom::element r : records) raw.push_back(simdjson::minify(r));
  std::vector<BulkChunk> out;
  if (raw.empty() && !head.empty()) {
    // A schema without rows still creates the dataset.
    out.push_back(BulkChunk{StrCat("{", head, ",\"records\":[]}"), 0, 0});
  }
  ChunkRecords(head, raw, chunk_size, &out);
  return out;
}

// Lines (NDJSON records, line protocol lines) in chunks; blank lines (and
// line-protocol comments) are kept in their chunk but not counted as rows.
std::vector<BulkChunk> SplitLines(std::string_view text, uint32_t chunk_size, bool ndjson) {
  std::vector<BulkChunk> out;
  size_t pos = 0;
  uint64_t line_no = 0;
  BulkChunk cur;
  uint32_t rows = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    std::string_view stripped = StripWhitespace(line);
    if (stripped.empty() || (!ndjson && stripped[0] == '#')) continue;
    if (rows == 0) cur.first_row = line_no;
    if (rows == 0 || cur.last_row + 1 != line_no) cur.line_map.emplace_back(rows, line_no);
    cur.body.append(line);
    cur.body.push_back('\n');
    cur.last_row = line_no;
    if (++rows == chunk_size) {
      out.push_back(std::move(cur));
      cur = BulkChunk{};
      rows = 0;
    }
  }
  if (rows > 0) out.push_back(std::move(cur));
  return out;
}

absl::StatusOr<std::vector<BulkChunk>> SplitCsv(std::string_view text, uint32_t chunk_size,
                                                const Schema* current) {
  // Spreadsheet programs start UTF-8 CSV with a byte-order mark; it is not
  // part of the first column's name.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  CsvReader reader(text);
  std::vector<std::string> header, fields;
  auto first = reader.Next(&header);
  if (!first.ok()) return first.status();
  if (!*first) return Bad("empty: no header row");
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i].empty()) return Bad(StrCat("header column ", i + 1, " has no name"));
    for (size_t j = 0; j < i; ++j) {
      if (header[j] == header[i])
        return Bad(StrCat("header names column \"", header[i], "\" twice"));
    }
  }
  std::vector<std::string> records;
  for (;;) {
    auto more = reader.Next(&fields);
    if (!more.ok()) return more.status();
    if (!*more) break;
    std::string rec;
    if (auto s = AppendCsvRecordJson(header, fields, current, &rec); !s.ok()) {
      return Bad(StrCat("line ", reader.line(), ": ", ToStd(s.message())));
    }
    records.push_back(std::move(rec));
  }
  std::vector<BulkChunk> out;
  ChunkRecords("", records, chunk_size, &out);
  return out;
}

}  // namespace

uint64_t FileLineOf(const BulkChunk& chunk, uint64_t body_line) {
  if (body_line == 0 || chunk.line_map.empty()) return 0;
  const uint64_t index = body_line - 1;
  auto it = std::upper_bound(
      chunk.line_map.begin(), chunk.line_map.end(), index,
      [](uint64_t i, const std::pair<uint32_t, uint64_t>& e) { return i < e.first; });
  if (it == chunk.line_map.begin()) return 0;
  --it;
  const uint64_t line = it->second + (index - it->first);
  return line <= chunk.last_row ? line : 0;
}

std::string LocateInFile(const BulkChunk& chunk, std::string_view message) {
  std::string_view rest = message;
  if (!ConsumePrefix(&rest, "line ")) return std::string(message);
  size_t digits = 0;
  uint64_t n = 0;
  while (digits < rest.size() && digits < 12 && rest[digits] >= '0' && rest[digits] <= '9') {
    n = n * 10 + (rest[digits] - '0');
    ++digits;
  }
  if (digits == 0) return std::string(message);
  const uint64_t line = FileLineOf(chunk, n);
  if (line == 0) return std::string(message);
  return StrCat("line ", line, rest.substr(digits));
}

BulkFormat FormatOfName(std::string_view name) {
  if (EndsWith(name, ".json")) return BulkFormat::kJson;
  if (EndsWith(name, ".ndjson") || EndsWith(name, ".jsonl")) return BulkFormat::kNdjson;
  if (EndsWith(name, ".csv")) return BulkFormat::kCsv;
  if (EndsWith(name, ".lp") || EndsWith(name, ".line") || EndsWith(name, ".influx")) {
    return BulkFormat::kLineProtocol;
  }
  return BulkFormat::kAuto;
}

absl::StatusOr<std::vector<BulkChunk>> SplitBulkFile(std::string_view text, BulkFormat format,
                                                     uint32_t chunk_size, std::string* dataset,
                                                     const Schema* current) {
  switch (format) {
    case BulkFormat::kJson:
      return SplitJson(text, chunk_size, dataset);
    case BulkFormat::kNdjson:
      return SplitLines(text, chunk_size, /*ndjson=*/true);
    case BulkFormat::kCsv:
      return SplitCsv(text, chunk_size, current);
    case BulkFormat::kLineProtocol:
      return SplitLines(text, chunk_size, /*ndjson=*/false);
    case BulkFormat::kAuto:
      break;
  }
  return Bad("the format is not known");
}

BulkConnector::BulkConnector(BulkConfig config, Engine* engine, const std::string& storage_root,
                             BackpressureConfig backpressure)
    : config_([&] {
        BulkConfig c = std::move(config);
        if (c.dead_letter_path.empty()) {
          c.dead_letter_path =
              JoinPath(JoinPath(storage_root, "connectors"), StrCat(c.id, ".dlq.ndjson"));
        }
        return c;
      }()),
      engine_(engine),
      backpressure_(
          backpressure, [engine] { return EngineMemoryBytes(engine); },
          [engine] { RelieveMemory(engine); }),
      dlq_(config_.dead_letter_path) {
  status_.id = config_.id;
  status_.kind = "bulk";
  status_.state = "running";
}

BulkConnector::~BulkConnector() { Stop(); }

ConnectorStatus BulkConnector::status() const {
  ConnectorStatus s;
  {
    std::lock_guard<std::mutex> l(mu_);
    s = status_;
  }
  if (s.state == "running" && backpressure_.paused()) s.state = "paused";
  s.pauses = backpressure_.pauses();
  return s;
}

void BulkConnector::Fail(std::string error) {
  spdlog::error("connector {}: {}", config_.id, error);
  std::lock_guard<std::mutex> l(mu_);
  status_.state = "failed";
  status_.last_error = std::move(error);
}

std::vector<std::pair<std::string, uint64_t>> BulkConnector::Candidates() {
  std::vector<std::pair<std::string, uint64_t>> out;
  auto names = Env::Default()->ListDir(config_.directory);
  if (!names.ok()) {
    Fail(StrCat("cannot list ", config_.directory, ": ", ToStd(names.status().message())));
    return out;
  }
  uint64_t lag = 0;
  for (const std::string& n : *names) {
    // Hidden and temporary files are still being written (stage files by
    // writing elsewhere or under such a name, then renaming them in).
    if (n.empty() || n[0] == '.' || EndsWith(n, ".processed") || EndsWith(n, ".failed") ||
        EndsWith(n, ".error") || EndsWith(n, ".tmp") || EndsWith(n, ".partial")) {
      continue;
    }
    if (::fnmatch(config_.file_pattern.c_str(), n.c_str(), 0) != 0) continue;
    struct stat st;
    if (::stat(JoinPath(config_.directory, n).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    lag += st.st_size;
    out.emplace_back(n, st.st_size);
  }
  std::sort(out.begin(), out.end());
  std::lock_guard<std::mutex> l(mu_);
  status_.lag_bytes = lag;
  if (status_.state == "failed" && names.ok()) status_.state = "running";
  return out;
}

void BulkConnector::SetAside(const std::string& name, const std::string& reason) {
  const std::string path = JoinPath(config_.directory, name);
  spdlog::warn("connector {}: {} not loaded: {}", config_.id, path, reason);
  Env* env = Env::Default();
  std::string note =
      StrCat(FormatRfc3339(NowNanos()), " connector ", config_.id, ": ", reason, "\n");
  absl::Status s = WriteFileAtomically(env, path + ".error", note);
  if (s.ok()) s = env->RenameFile(path, path + ".failed");
  if (s.ok()) s = env->SyncDir(config_.directory);
  if (s.ok()) s = dlq_.Append(config_.id, path, -1, reason, "");
  std::lock_guard<std::mutex> l(mu_);
  ++status_.files_failed;
  ++status_.dead_letters;
  status_.last_error = StrCat(name, ": ", reason);
  if (!s.ok()) {
    status_.state = "failed";
    status_.last_error = StrCat("cannot set ", path, " aside: ", ToStd(s.message()));
  }
}

bool BulkConnector::LoadFile(const std::string& name) {
  const std::string path = JoinPath(config_.directory, name);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return true;  // gone meanwhile
  {
    std::lock_guard<std::mutex> l(mu_);
    status_.file = path;
    status_.offset = 0;
  }
  if (static_cast<uint64_t>(st.st_size) > config_.max_file_bytes) {
    SetAside(name, StrCat(name, " is ", st.st_size, " bytes, over the connector's maxFileBytes (",
                          config_.max_file_bytes,
                          "): a file is held in memory about three times while it loads; split "
                          "it, or raise maxFileBytes"));
    return true;
  }
  BulkFormat format = config_.format == BulkFormat::kAuto ? FormatOfName(name) : config_.format;
  if (format == BulkFormat::kAuto) {
    SetAside(name, StrCat("cannot tell the format of ", name,
                          ": name it .json, .ndjson, .jsonl, .csv, .lp (line protocol), or set "
                          "the connector's \"format\""));
    return true;
  }
  auto text = Env::Default()->ReadFile(path);
  if (!text.ok()) {
    Fail(StrCat("cannot read ", path, ": ", ToStd(text.status().message())));
    return false;
  }
  const bool lp = format == BulkFormat::kLineProtocol;
  std::string dataset = config_.dataset;
  SchemaPtr current = lp ? nullptr : engine_->GetSchema(dataset);
  auto chunks = SplitBulkFile(*text, format, config_.chunk_size, &dataset, current.get());
  if (!chunks.ok()) {
    SetAside(name, StrCat(BulkFormatName(format), " file ", name, ": ",
                          ToStd(chunks.status().message())));
    return true;
  }
  if (!lp && !IsValidSlug(dataset)) {
    SetAside(name, dataset.empty() ? std::string("no dataset: set the connector's \"dataset\"")
                                   : StrCat("dataset slug \"", dataset.substr(0, 80),
                                            "\" must match [a-z0-9][a-z0-9_-]{0,63}"));
    return true;
  }
  text->clear();
  text->shrink_to_fit();

  Precision precision = Precision::kMilliseconds;
  if (!config_.precision.empty()) precision = *ParsePrecision(config_.precision);
  const int64_t lp_unit = config_.precision.empty() ? 1 : PrecisionNanos(precision);
  const int64_t now_ns = NowNanos();
  // Parses a chunk into its ingest requests against the schemas
  // `schema_of` gives.
  using SchemaOf = std::function<SchemaPtr(const std::string&)>;
  const SchemaOf engine_schema = [this](const std::string& slug) {
    return engine_->GetSchema(slug);
  };
  auto parse = [&](BulkChunk& c,
                   const SchemaOf& schema_of) -> absl::StatusOr<std::vector<IngestRequest>> {
    if (lp) {
      api::LineProtocolOptions o;
      o.dataset_prefix = config_.dataset;
      o.precision_ns = lp_unit;
      o.now_ns = now_ns;
      o.schema_of = schema_of;
      return api::ParseLineProtocol(c.body, o);
    }
    SchemaPtr schema = schema_of(dataset);
    api::IngestParseOptions o;
    o.slug = dataset;
    o.current = schema.get();
    o.precision = precision;
    o.format = format == BulkFormat::kNdjson ? api::BodyFormat::kNdjson : api::BodyFormat::kJson;
    std::string body = c.body;  // the parser may grow it for padding
    auto r = api::ParseIngestBody(&body, o);
    if (!r.ok()) return r.status();
    std::vector<IngestRequest> v;
    v.push_back(std::move(*r));
    return v;
  };
  auto where = [&](const BulkChunk& c) {
    return StrCat(lp || format == BulkFormat::kNdjson ? "lines " : "records ", c.first_row, "-",
                  c.last_row, ": ");
  };
  // A parser's error: the bad line named by its line in the file, when the
  // parser names one (NDJSON, line protocol); else the chunk's range first.
  auto located = [&](const BulkChunk& c, const absl::Status& s) {
    std::string m = LocateInFile(c, ToStd(s.message()));
    return m != ToStd(s.message()) ? m : StrCat(where(c), m);
  };
  // Check the whole file before storing any of it: a bad row anywhere sets
  // the file aside untouched. Each chunk is checked against the schemas as
  // the chunks before it will have left them (a scratch copy, merged as the
  // engine will merge them), so types inferred by an earlier chunk bind the
  // later ones here as they will when stored.
  absl::flat_hash_map<std::string, SchemaPtr> scratch;
  const SchemaOf scratch_schema = [&](const std::string& slug) {
    auto it = scratch.find(slug);
    return it != scratch.end() ? it->second : engine_->GetSchema(slug);
  };
  for (BulkChunk& c : *chunks) {
    auto r = parse(c, scratch_schema);
    if (!r.ok()) {
      SetAside(name, located(c, r.status()));
      return true;
    }
    for (const IngestRequest& req : *r) {
      SchemaPtr base = scratch_schema(req.slug);
      if (base == nullptr && req.rows == 0 && !req.schema_declared) continue;  // creates nothing
      Schema b;
      if (base != nullptr) {
        b = *base;
      } else {
        b.time_column = req.time_column;
      }
      if (req.time_column != b.time_column) {
        SetAside(name, StrCat(where(c), "timestampColumn \"", req.time_column,
                              "\" differs from dataset \"", req.slug, "\"'s time column \"",
                              b.time_column, "\""));
        return true;
      }
      auto merged = MergeFields(b, req.fields);
      if (!merged.ok()) {
        SetAside(name, StrCat(where(c), ToStd(merged.status().message())));
        return true;
      }
      scratch[req.slug] = std::make_shared<const Schema>(std::move(*merged));
    }
  }
  scratch.clear();
  // The key names this file (name, inode and mtime: a new file staged under
  // the same name is another file) and the chunk.
  const int64_t mtime_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  std::string file_key = StrCat(name, ":", st.st_ino, ":", mtime_ns);
  if (file_key.size() > 200) {
    file_key = StrCat(Checksum64(name), ":", st.st_ino, ":", mtime_ns);
  }
  uint64_t rows_done = 0;
  int failures = 0;
  for (size_t k = 0; k < chunks->size(); ++k) {
    BulkChunk& c = (*chunks)[k];
    for (;;) {
      if (!backpressure_.Wait([this] { return stopping(); }, [this](int ms) { SleepMs(ms); })) {
        return false;
      }
      auto reqs = parse(c, engine_schema);
      if (!reqs.ok()) {
        SetAside(name,
                 StrCat(located(c, reqs.status()), " (chunks before ", "this one were stored)"));
        return true;
      }
      if (reqs->empty()) break;
      (*reqs)[0].idempotency_key = StrCat("bulk:", config_.id, ":", file_key, ":", k);
      (*reqs)[0].request_hash = Checksum64(c.body);
      absl::StatusOr<std::vector<IngestResult>> results;
      if (reqs->size() == 1) {
        auto r = IngestAndWait(engine_, std::move((*reqs)[0]));
        if (r.ok()) {
          results = std::vector<IngestResult>{*r};
        } else {
          results = r.status();
        }
      } else {
        results = IngestManyAndWait(engine_, std::move(*reqs));
      }
      if (results.ok()) {
        uint64_t n = 0;
        for (const auto& r : *results) n += r.duplicate ? 0 : r.rows;
        rows_done += c.last_row >= c.first_row ? c.last_row - c.first_row + 1 : 0;
        std::lock_guard<std::mutex> l(mu_);
        status_.rows += n;
        status_.offset = rows_done;
        if (status_.state == "failed") status_.state = "running";
        break;
      }
      switch (Classify(results.status())) {
        case ErrorKind::kRecord:
          SetAside(name, StrCat(where(c), ToStd(results.status().message()),
                                k > 0 ? " (the chunks before this one were stored)" : ""));
          return true;
        case ErrorKind::kPressure: {
          {
            // Visible while it lasts: a chunk larger than the whole in-memory
            // budget would wait here for good (lower chunkSize).
            std::lock_guard<std::mutex> l(mu_);
            status_.last_error = StrCat("paused, the server refused ", path, " ", where(c),
                                        ToStd(results.status().message()));
          }
          backpressure_.PauseAfterRefusal([this](int ms) { SleepMs(ms); });
          break;
        }
        case ErrorKind::kConnector:
          Fail(StrCat("storing ", path, " failed, retrying: ", ToStd(results.status().message())));
          SleepMs(std::min(5000, config_.poll_interval_ms << std::min(failures++, 5)));
          break;
      }
      if (stopping()) return false;
    }
  }
  // Every chunk is durable: the file leaves the directory.
  Env* env = Env::Default();
  absl::Status s = config_.delete_after_load ? env->RemoveFile(path)
                                             : env->RenameFile(path, path + ".processed");
  if (s.ok()) s = env->SyncDir(config_.directory);
  if (!s.ok()) {
    Fail(StrCat("loaded ", path, " but cannot ", config_.delete_after_load ? "delete" : "rename",
                " it: ", ToStd(s.message())));
    return false;
  }
  spdlog::info("connector {}: loaded {} ({} chunks)", config_.id, path, chunks->size());
  std::lock_guard<std::mutex> l(mu_);
  ++status_.files_loaded;
  status_.file.clear();
  status_.offset = 0;
  return true;
}

void BulkConnector::Run() {
  while (!stopping()) {
    for (const auto& [name, size] : Candidates()) {
      if (stopping()) return;
      if (!LoadFile(name)) break;  // stopped, or a server error: from the top later
      std::lock_guard<std::mutex> l(mu_);
      status_.lag_bytes -= std::min(status_.lag_bytes, size);
    }
    SleepMs(config_.poll_interval_ms);
  }
}

}  // namespace timestore::connectors
