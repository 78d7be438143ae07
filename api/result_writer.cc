#include "api/result_writer.h"

#include <cmath>

#include "common/json_writer.h"
#include "common/time_util.h"

namespace timestore::api {
namespace {

void WriteTimestamp(int64_t ns, bool epoch_ns, std::string* out) {
  if (epoch_ns) {
    AppendJsonInt(out, ns);
  } else {
    out->push_back('"');
    AppendRfc3339(ns, out);
    out->push_back('"');
  }
}

void WriteJsonValue(const ResultColumn& c, size_t i, bool epoch_ns, std::string* out) {
  if (!c.valid[i]) {
    out->append("null");
    return;
  }
  switch (c.type) {
    case ColumnType::kTimestamp:
      WriteTimestamp(c.ints[i], epoch_ns, out);
      break;
    case ColumnType::kInteger:
      AppendJsonInt(out, c.ints[i]);
      break;
    case ColumnType::kDouble:
      AppendJsonDouble(out, c.doubles[i]);
      break;
    case ColumnType::kBoolean:
      out->append(c.ints[i] ? "true" : "false");
      break;
    case ColumnType::kString:
    case ColumnType::kUuid:
      AppendJsonString(out, c.strings[i]);
      break;
    case ColumnType::kJson:
    case ColumnType::kDoubleArray:
    case ColumnType::kIntegerArray:
    case ColumnType::kStringArray:
    case ColumnType::kBooleanArray:
      out->append(c.strings[i]);  // canonical JSON text
      break;
  }
}

void WriteRowObject(const QueryResult& r, size_t i, bool epoch_ns,
                    const std::vector<std::string>& keys, std::string* out) {
  out->push_back('{');
  for (size_t k = 0; k < r.columns.size(); ++k) {
    if (k) out->push_back(',');
    out->append(keys[k]);
    WriteJsonValue(r.columns[k], i, epoch_ns, out);
  }
  out->push_back('}');
}

void AppendCsvField(std::string_view s, std::string* out) {
  bool quote = s.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) {
    out->append(s);
    return;
  }
  out->push_back('"');
  for (char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

}  // namespace

ResultFormat FormatFromAccept(std::string_view accept) {
  if (accept.find("application/x-ndjson") != std::string_view::npos ||
      accept.find("application/ndjson") != std::string_view::npos)
    return ResultFormat::kNdjson;
  if (accept.find("text/csv") != std::string_view::npos) return ResultFormat::kCsv;
  return ResultFormat::kJson;
}

std::string_view ContentType(ResultFormat f) {
  switch (f) {
    case ResultFormat::kNdjson:
      return "application/x-ndjson";
    case ResultFormat::kCsv:
      return "text/csv; charset=utf-8";
    case ResultFormat::kJson:
      break;
  }
  return "application/json";
}

void WriteResult(const QueryResult& r, std::string_view dataset, bool epoch_ns, ResultFormat format,
                 std::string* out) {
  // Pre-rendered "name": keys.
  std::vector<std::string> keys;
  for (const auto& c : r.columns) {
    std::string k;
    AppendJsonString(&k, c.name);
    k.push_back(':');
    keys.push_back(std::move(k));
  }
  if (format == ResultFormat::kNdjson) {
    for (size_t i = 0; i < r.rows; ++i) {
      WriteRowObject(r, i, epoch_ns, keys, out);
      out->push_back('\n');
    }
    return;
  }
  if (format == ResultFormat::kCsv) {
    for (size_t k = 0; k < r.columns.size(); ++k) {
      if (k) out->push_back(',');
      AppendCsvField(r.columns[k].name, out);
    }
    out->append("\r\n");
    std::string scratch;
    for (size_t i = 0; i < r.rows; ++i) {
      for (size_t k = 0; k < r.columns.size(); ++k) {
        if (k) out->push_back(',');
        const ResultColumn& c = r.columns[k];
        if (!c.valid[i]) continue;  // null: empty field
        if (IsStringLike(c.type)) {
          AppendCsvField(c.strings[i], out);
        } else if (c.type == ColumnType::kTimestamp && !epoch_ns) {
          AppendRfc3339(c.ints[i], out);
        } else if (c.type == ColumnType::kDouble && !std::isfinite(c.doubles[i])) {
          // CSV has no null/number distinction to lose: spell them out.
          double d = c.doubles[i];
          out->append(d != d ? "nan" : d > 0 ? "inf" : "-inf");
        } else {
          WriteJsonValue(c, i, epoch_ns, out);
        }
      }
      out->append("\r\n");
    }
    return;
  }
  JsonWriter w(out);
  w.BeginObject();
  w.Key("dataset").String(dataset);
  w.Key("mode").String(r.downsampled ? "downsampled" : "raw");
  w.Key("columns").BeginArray();
  for (const auto& c : r.columns) {
    w.BeginObject().Key("name").String(c.name).Key("type").String(ColumnTypeName(c.type));
    w.EndObject();
  }
  w.EndArray();
  w.Key("rows").BeginArray();
  for (size_t i = 0; i < r.rows; ++i) {
    if (i) out->push_back(',');
    WriteRowObject(r, i, epoch_ns, keys, out);
  }
  w.EndArray();
  w.Key("freshness").BeginObject();
  w.Key("watermark");
  if (r.watermark) {
    std::string ts;
    WriteTimestamp(*r.watermark, epoch_ns, &ts);
    w.Raw(ts);
  } else {
    w.Null();
  }
  w.Key("hotRows").Uint(r.hot_rows);
  w.Key("fresh").Bool(r.fresh);
  w.EndObject();
  const QueryStats& s = r.stats;
  w.Key("stats").BeginObject();
  w.Key("partitionsScanned").Uint(s.partitions_scanned);
  w.Key("segmentsScanned").Uint(s.segments_scanned);
  w.Key("segmentsPruned").Uint(s.segments_pruned);
  w.Key("blocksScanned").Uint(s.blocks_scanned);
  w.Key("blocksPruned").Uint(s.blocks_pruned);
  w.Key("hotChunksScanned").Uint(s.hot_chunks_scanned);
  w.Key("hotChunksPruned").Uint(s.hot_chunks_pruned);
  w.Key("rowsScanned").Uint(s.rows_scanned);
  w.Key("bytesRead").Uint(s.bytes_read);
  w.Key("remoteBytesRead").Uint(s.remote_bytes_read);
  w.Key("remoteRequests").Uint(s.remote_requests);
  w.Key("segmentsRemote").Uint(s.segments_remote);
  w.Key("cacheHits").Uint(s.cache_hits);
  w.Key("cacheMisses").Uint(s.cache_misses);
  w.Key("cacheBytesRead").Uint(s.cache_bytes_read);
  w.Key("elapsedMs").Double(s.elapsed_ms);
  w.EndObject();
  w.EndObject();
}

void WriteSqlResult(const QueryResult& r, const std::vector<std::string>& types,
                    std::string_view command, ResultFormat format, std::string* out) {
  auto write_row = [&](size_t i) {
    out->push_back('[');
    for (size_t k = 0; k < r.columns.size(); ++k) {
      if (k) out->push_back(',');
      WriteJsonValue(r.columns[k], i, false, out);
    }
    out->push_back(']');
  };
  if (format == ResultFormat::kNdjson) {
    for (size_t i = 0; i < r.rows; ++i) {
      write_row(i);
      out->push_back('\n');
    }
    return;
  }
  if (format == ResultFormat::kCsv) {
    WriteResult(r, "", false, ResultFormat::kCsv, out);
    return;
  }
  out->append("{\"columns\":[");
  for (size_t k = 0; k < r.columns.size(); ++k) {
    if (k) out->push_back(',');
    out->append("{\"name\":");
    AppendJsonString(out, r.columns[k].name);
    out->append(",\"type\":");
    AppendJsonString(out, k < types.size() ? types[k] : "text");
    out->push_back('}');
  }
  out->append("],\"rows\":[");
  for (size_t i = 0; i < r.rows; ++i) {
    if (i) out->push_back(',');
    write_row(i);
  }
  out->append("],\"rowCount\":");
  AppendJsonInt(out, static_cast<int64_t>(r.rows));
  out->append(",\"command\":");
  AppendJsonString(out, command);
  out->push_back('}');
}

}  // namespace timestore::api
