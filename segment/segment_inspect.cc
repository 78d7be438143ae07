#include "segment/segment_inspect.h"

#include <cstdio>
#include <vector>

#include "common/coding.h"
#include "common/json_writer.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "segment/codec/codec.h"

namespace timestore::segment {
namespace {

std::string Hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kLz4:
      return "lz4";
    case Compression::kZstd:
      return "zstd";
  }
  return "unknown";
}

// "1d", "6h", "90s", else nanoseconds.
std::string FormatInterval(int64_t ns) {
  static constexpr std::pair<int64_t, const char*> kUnits[] = {{86'400'000'000'000, "d"},
                                                               {3'600'000'000'000, "h"},
                                                               {60'000'000'000, "m"},
                                                               {1'000'000'000, "s"},
                                                               {1'000'000, "ms"}};
  for (const auto& [unit, suffix] : kUnits) {
    if (ns > 0 && ns % unit == 0) return StrCat(ns / unit, suffix);
  }
  return StrCat(ns, "ns");
}

std::string FormatPerRow(uint64_t bytes, uint64_t rows) {
  if (rows == 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", static_cast<double>(bytes) / static_cast<double>(rows));
  return buf;
}

// Strings in a segment are arbitrary bytes; JSON (and a terminal) wants UTF-8.
// Each byte that does not start a well-formed sequence (RFC 3629: no overlongs,
// no surrogates, nothing above U+10FFFF) becomes U+FFFD.
std::string Utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // range of the second byte
    if (c < 0x80) {
      n = 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    }
    bool ok = n > 0 && i + n <= s.size();
    for (size_t k = 1; ok && k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      ok = k == 1 ? b >= lo && b <= hi : b >= 0x80 && b <= 0xbf;
    }
    if (ok) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out.append("\xef\xbf\xbd");
      ++i;
    }
  }
  return out;
}

// A string statistic, escaped and cut so one odd value cannot flood the table.
std::string QuoteShort(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out;
  AppendJsonString(&out, Utf8(s.substr(0, kMax)));
  if (s.size() > kMax) out.append("...");
  return out;
}

std::string FormatStat(ColumnType type, const BlockInfo& b, bool max) {
  switch (type) {
    case ColumnType::kTimestamp:
      return FormatRfc3339(max ? b.max_int : b.min_int);
    case ColumnType::kInteger:
      return StrCat(max ? b.max_int : b.min_int);
    case ColumnType::kBoolean:
      return (max ? b.max_int : b.min_int) != 0 ? "true" : "false";
    case ColumnType::kDouble:
      return StrCat(max ? b.max_double : b.min_double);
    TIMESTORE_STRING_LIKE_CASES:
      return QuoteShort(max ? b.max_string : b.min_string);
  }
  return "";
}

void JsonStat(JsonWriter& w, ColumnType type, const BlockInfo& b, bool max) {
  if (!b.has_minmax) {
    w.Null();
    return;
  }
  switch (type) {
    case ColumnType::kTimestamp:
      w.String(FormatRfc3339(max ? b.max_int : b.min_int));
      return;
    case ColumnType::kInteger:
      w.Int(max ? b.max_int : b.min_int);
      return;
    case ColumnType::kBoolean:
      w.Bool((max ? b.max_int : b.min_int) != 0);
      return;
    case ColumnType::kDouble:
      w.Double(max ? b.max_double : b.min_double);
      return;
    TIMESTORE_STRING_LIKE_CASES:
      w.String(Utf8(max ? b.max_string : b.min_string));
      return;
  }
}

struct BlockFacts {
  std::string codec;   // with nested choices when the payload could be read
  std::string damage;  // empty when checksum and decompression succeeded
};

// The codec description needs the values part of the payload:
// validity_length varint | validity | values.
BlockFacts ReadBlockFacts(const SegmentReader& reader, size_t column, size_t block) {
  const BlockInfo& b = reader.meta().columns[column].blocks[block];
  const auto codec = static_cast<CodecId>(b.codec);
  BlockFacts f;
  f.codec = CodecName(codec);
  auto raw = reader.ReadRawBlock(column, block);
  if (!raw.ok()) {
    f.damage = std::string(ToStd(raw.status().message()));
    return f;
  }
  std::string scratch;
  auto payload = DecompressBlock(reader.path(), b, *raw, &scratch);
  if (!payload.ok()) {
    f.damage = std::string(ToStd(payload.status().message()));
    return f;
  }
  Decoder d(*payload);
  uint64_t validity_len;
  std::string_view validity, values;
  if (!d.GetVarint64(&validity_len) || !d.GetBytes(validity_len, &validity)) {
    f.damage =
        StrCat(reader.path(), ": corrupt segment at offset ", b.offset, ": truncated validity");
    return f;
  }
  d.GetBytes(d.remaining(), &values);
  f.codec = DescribePayload(codec, values);
  return f;
}

// Renders rows as a table: numeric columns right-aligned, text left-aligned.
void AppendTable(const std::vector<std::vector<std::string>>& rows,
                 const std::vector<bool>& right_align, std::string* out) {
  std::vector<size_t> width(right_align.size(), 0);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  for (const auto& r : rows) {
    std::string line = "  ";
    for (size_t i = 0; i < r.size(); ++i) {
      const size_t pad = width[i] - r[i].size();
      const bool last = i + 1 == r.size();
      if (right_align[i]) line.append(pad, ' ');
      line.append(r[i]);
      if (!right_align[i] && !last) line.append(pad, ' ');
      if (!last) line.append("  ");
    }
    out->append(line).push_back('\n');
  }
}

struct ColumnTotals {
  uint64_t bytes = 0;
  uint64_t raw_bytes = 0;
};

ColumnTotals Totals(const ColumnInfo& c) {
  ColumnTotals t;
  for (const BlockInfo& b : c.blocks) {
    t.bytes += b.length;
    t.raw_bytes += b.raw_length;
  }
  return t;
}

void AppendText(const SegmentReader& reader, SegmentInspection* result) {
  const SegmentMeta& m = reader.meta();
  std::string& out = result->output;
  auto fact = [&out](std::string_view name, std::string_view value) {
    out.append("  ").append(name);
    out.append(name.size() < 16 ? 16 - name.size() : 1, ' ');
    out.append(value).push_back('\n');
  };
  StrAppend(&out, reader.path(), "\n");
  fact("dataset", Hex16(m.dataset_id));
  fact("segment", Hex16(m.segment_id));
  fact("partition", StrCat(FormatRfc3339(m.partition_start), " (interval ",
                           FormatInterval(m.partition_interval), ")"));
  fact("rows", StrCat(m.rows, " in ", m.num_blocks(), m.num_blocks() == 1 ? " block" : " blocks",
                      " of ", m.columns.size(), m.columns.size() == 1 ? " column" : " columns"));
  fact("time range",
       m.rows == 0 ? "-" : StrCat(FormatRfc3339(m.min_ts), " .. ", FormatRfc3339(m.max_ts)));
  fact("schema version", StrCat(m.schema_version));
  std::string sort_key;
  for (size_t i = 0; i < m.sort_key.size(); ++i) StrAppend(&sort_key, i ? ", " : "", m.sort_key[i]);
  fact("sort key", sort_key.empty() ? "-" : sort_key);
  fact("level", StrCat(m.level));
  fact("created", FormatRfc3339(m.created_ns));
  fact("file bytes", StrCat(m.file_bytes));
  fact("footer bytes", StrCat(m.footer_bytes));

  for (size_t ci = 0; ci < m.columns.size(); ++ci) {
    const ColumnInfo& c = m.columns[ci];
    const ColumnTotals t = Totals(c);
    StrAppend(&out, "\ncolumn ", c.name, " (", ColumnTypeName(c.type),
              ci == m.time_column ? ", time column" : "", "): ", t.bytes, " bytes (", t.raw_bytes,
              " raw), ", FormatPerRow(t.bytes, m.rows), " bytes/row\n");
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"block", "offset", "length", "raw", "rows", "codec", "compression", "nulls",
                    "min", "max"});
    for (size_t bi = 0; bi < c.blocks.size(); ++bi) {
      const BlockInfo& b = c.blocks[bi];
      BlockFacts f = ReadBlockFacts(reader, ci, bi);
      std::vector<std::string> row = {StrCat(bi),
                                      StrCat(b.offset),
                                      StrCat(b.length),
                                      StrCat(b.raw_length),
                                      StrCat(b.rows),
                                      f.codec,
                                      std::string(CompressionName(b.compression)),
                                      StrCat(b.null_count),
                                      b.has_minmax ? FormatStat(c.type, b, false) : "-",
                                      b.has_minmax ? FormatStat(c.type, b, true) : "-"};
      if (!f.damage.empty()) {
        row.back().append("  DAMAGED: ").append(f.damage);
        if (result->damaged_blocks++ == 0) result->first_damage = f.damage;
      }
      rows.push_back(std::move(row));
    }
    AppendTable(rows, {true, true, true, true, true, false, false, true, false, false}, &out);
  }
}

void AppendJson(const SegmentReader& reader, SegmentInspection* result) {
  const SegmentMeta& m = reader.meta();
  JsonWriter w(&result->output);
  w.BeginObject();
  w.Key("path").String(Utf8(reader.path()));
  w.Key("datasetId").String(Hex16(m.dataset_id));
  w.Key("segmentId").String(Hex16(m.segment_id));
  w.Key("partitionStart").String(FormatRfc3339(m.partition_start));
  w.Key("partitionStartNs").Int(m.partition_start);
  w.Key("partitionIntervalNs").Int(m.partition_interval);
  w.Key("rows").Uint(m.rows);
  w.Key("blocks").Uint(m.num_blocks());
  w.Key("minTs");
  if (m.rows == 0) {
    w.Null();
  } else {
    w.String(FormatRfc3339(m.min_ts));
  }
  w.Key("maxTs");
  if (m.rows == 0) {
    w.Null();
  } else {
    w.String(FormatRfc3339(m.max_ts));
  }
  w.Key("minTsNs").Int(m.min_ts);
  w.Key("maxTsNs").Int(m.max_ts);
  w.Key("schemaVersion").Uint(m.schema_version);
  w.Key("sortKey").BeginArray();
  for (const auto& k : m.sort_key) w.String(Utf8(k));
  w.EndArray();
  w.Key("level").Uint(m.level);
  w.Key("createdAt").String(FormatRfc3339(m.created_ns));
  w.Key("fileBytes").Uint(m.file_bytes);
  w.Key("footerBytes").Uint(m.footer_bytes);
  w.Key("columns").BeginArray();
  for (size_t ci = 0; ci < m.columns.size(); ++ci) {
    const ColumnInfo& c = m.columns[ci];
    const ColumnTotals t = Totals(c);
    w.BeginObject();
    w.Key("name").String(Utf8(c.name));
    w.Key("type").String(ColumnTypeName(c.type));
    w.Key("timeColumn").Bool(ci == m.time_column);
    w.Key("bytes").Uint(t.bytes);
    w.Key("rawBytes").Uint(t.raw_bytes);
    w.Key("bytesPerRow");
    if (m.rows == 0) {
      w.Null();
    } else {
      w.Double(static_cast<double>(t.bytes) / static_cast<double>(m.rows));
    }
    w.Key("blocks").BeginArray();
    for (size_t bi = 0; bi < c.blocks.size(); ++bi) {
      const BlockInfo& b = c.blocks[bi];
      BlockFacts f = ReadBlockFacts(reader, ci, bi);
      w.BeginObject();
      w.Key("offset").Uint(b.offset);
      w.Key("length").Uint(b.length);
      w.Key("rawLength").Uint(b.raw_length);
      w.Key("rows").Uint(b.rows);
      w.Key("codec").String(f.codec);
      w.Key("codecId").Uint(b.codec);
      w.Key("compression").String(CompressionName(b.compression));
      w.Key("nulls").Uint(b.null_count);
      w.Key("checksum").String(Hex16(b.checksum));
      w.Key("min");
      JsonStat(w, c.type, b, false);
      w.Key("max");
      JsonStat(w, c.type, b, true);
      if (!f.damage.empty()) {
        w.Key("damage").String(f.damage);
        if (result->damaged_blocks++ == 0) result->first_damage = f.damage;
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("damagedBlocks").Uint(result->damaged_blocks);
  w.EndObject();
}

}  // namespace

SegmentInspection InspectSegment(const SegmentReader& reader, InspectFormat format) {
  SegmentInspection result;
  if (format == InspectFormat::kJson) {
    AppendJson(reader, &result);
  } else {
    AppendText(reader, &result);
  }
  return result;
}

}  // namespace timestore::segment
