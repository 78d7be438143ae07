// Segment files with json, uuid and array columns: every compression policy
// and block shape reads back the same canonical text (nulls, all-null blocks,
// empty arrays), the zone maps are written only where the text's byte order
// is the value order (uuid), series_last keeps the text, and inspect names
// the codecs.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "common/strings.h"
#include "segment/codec/codec.h"
#include "segment/segment_inspect.h"
#include "segment/segment_reader.h"
#include "segment/segment_writer.h"
#include "segment/typed_text.h"

namespace timestore::segment {
namespace {

constexpr int64_t kBase = 1'700'000'000'000'000'000LL;
constexpr uint32_t kBlockRows = 128;

struct Columns {
  std::vector<ColumnSpec> specs;
  std::vector<ColumnVector> columns;
};

std::string Canon(ColumnType type, std::string_view text) {
  auto c = CanonicalTypedText(type, text);
  EXPECT_TRUE(c.ok()) << text;
  return c.value_or("");
}

// host (the series key), then one column of each typed-text type. Rows
// 128..255 of `attrs` are all null; `empty` is null in every row.
Columns TypedColumns(uint32_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  ColumnBuilder ts(ColumnType::kTimestamp), host(ColumnType::kString), attrs(ColumnType::kJson),
      trace(ColumnType::kUuid), ints(ColumnType::kIntegerArray), dbls(ColumnType::kDoubleArray),
      strs(ColumnType::kStringArray), bools(ColumnType::kBooleanArray), empty(ColumnType::kJson);
  for (uint32_t i = 0; i < rows; ++i) {
    ts.AppendInt(kBase + i * 1'000'000'000LL);
    host.AppendString(StrCat("host_", i * 4 / rows));
    if ((i >= 128 && i < 256) || rng() % 9 == 0) {
      attrs.AppendNull();
    } else {
      attrs.AppendString(Canon(ColumnType::kJson,
                               StrCat(R"({"http":{"status":)", 200 + rng() % 3 * 100,
                                      R"(},"name":"ünïcode )", rng() % 50, R"(","n":)", i, "}")));
    }
    uint8_t b[16];
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    rng() % 7 ? trace.AppendString(UuidFromBytes(b)) : trace.AppendNull();
    const int len = static_cast<int>(rng() % 4);
    std::string a = "[", d = "[", s = "[", t = "[";
    for (int k = 0; k < len; ++k) {
      const char* sep = k ? "," : "";
      a += StrCat(sep, rng() % 2 ? INT64_MIN : static_cast<int64_t>(rng() % 1000));
      d += StrCat(sep, static_cast<double>(rng() % 1000) / 8);
      s += StrCat(sep, "\"s", rng() % 5, "\\n\"");
      t += rng() % 2 ? StrCat(sep, "true") : StrCat(sep, "false");
    }
    rng() % 5 ? ints.AppendString(Canon(ColumnType::kIntegerArray, a + "]")) : ints.AppendNull();
    rng() % 5 ? dbls.AppendString(Canon(ColumnType::kDoubleArray, d + "]")) : dbls.AppendNull();
    rng() % 5 ? strs.AppendString(Canon(ColumnType::kStringArray, s + "]")) : strs.AppendNull();
    rng() % 5 ? bools.AppendString(Canon(ColumnType::kBooleanArray, t + "]")) : bools.AppendNull();
    empty.AppendNull();
  }
  Columns c;
  c.specs = {{"timestamp", ColumnType::kTimestamp}, {"host", ColumnType::kString},
             {"attrs", ColumnType::kJson},          {"trace", ColumnType::kUuid},
             {"ints", ColumnType::kIntegerArray},   {"dbls", ColumnType::kDoubleArray},
             {"strs", ColumnType::kStringArray},    {"bools", ColumnType::kBooleanArray},
             {"empty", ColumnType::kJson}};
  for (ColumnBuilder* b : {&ts, &host, &attrs, &trace, &ints, &dbls, &strs, &bools, &empty}) {
    c.columns.push_back(b->Finish());
  }
  return c;
}

SegmentContents Contents(const Columns& c, uint32_t rows) {
  SegmentContents s;
  s.dataset_id = 1;
  s.segment_id = 2;
  s.partition_interval = 86'400'000'000'000;
  s.time_column = 0;
  s.sort_key = {"host", "timestamp"};
  s.specs = c.specs;
  for (const auto& col : c.columns) s.columns.push_back(&col);
  s.rows = rows;
  return s;
}

std::string Text(const ColumnVector& c, size_t i) {
  return c.IsNull(i) ? "<null>" : c.dict[c.ids[i]];
}

void ExpectReadsBack(const SegmentReader& reader, const Columns& c, uint32_t rows) {
  const SegmentMeta& m = reader.meta();
  ASSERT_EQ(m.rows, rows);
  std::vector<size_t> blocks(m.num_blocks());
  for (size_t b = 0; b < blocks.size(); ++b) blocks[b] = b;
  std::vector<int> cols(m.columns.size());
  for (size_t k = 0; k < cols.size(); ++k) cols[k] = static_cast<int>(k);
  auto got = reader.ReadBlocks(blocks, cols);
  ASSERT_TRUE(got.ok()) << got.status().message();
  for (size_t k = 2; k < cols.size(); ++k) {
    ASSERT_EQ(m.columns[k].type, c.specs[k].type);
    size_t row = 0;
    for (size_t b = 0; b < blocks.size(); ++b) {
      const ColumnVector& v = (*got)[b][k];
      ASSERT_EQ(v.type, c.specs[k].type);
      for (size_t i = 0; i < v.size(); ++i, ++row) {
        ASSERT_EQ(Text(v, i), Text(c.columns[k], row))
            << "column " << c.specs[k].name << " row " << row;
      }
    }
    ASSERT_EQ(row, rows);
  }
  EXPECT_TRUE(reader.Verify().ok());
}

TEST(TypedSegmentTest, EveryPolicyAndShapeReadsBackTheSameText) {
  for (uint32_t rows : {1u, 127u, 128u, 1000u}) {
    const Columns c = TypedColumns(rows, rows);
    for (auto policy : {CompressionPolicy::kNone, CompressionPolicy::kLz4, CompressionPolicy::kZstd,
                        CompressionPolicy::kAuto}) {
      SCOPED_TRACE(StrCat(rows, " rows, policy ", static_cast<int>(policy)));
      WriteOptions o;
      o.block_rows = kBlockRows;
      o.compression = policy;
      std::string bytes;
      ASSERT_TRUE(EncodeSegment(Contents(c, rows), o, &bytes).ok());
      auto reader = SegmentReader::FromBytes("typed.tseg", bytes);
      ASSERT_TRUE(reader.ok()) << reader.status().message();
      ExpectReadsBack(**reader, c, rows);
    }
  }
}

TEST(TypedSegmentTest, ZoneMapsOnlyForUuidAndTheTypedCodecsAreUsed) {
  const uint32_t rows = 1000;
  const Columns c = TypedColumns(rows, 5);
  WriteOptions o;
  o.block_rows = kBlockRows;
  std::string bytes;
  ASSERT_TRUE(EncodeSegment(Contents(c, rows), o, &bytes).ok());
  auto reader = SegmentReader::FromBytes("typed.tseg", bytes);
  ASSERT_TRUE(reader.ok());
  const SegmentMeta& m = (*reader)->meta();
  for (size_t k = 2; k < m.columns.size(); ++k) {
    const ColumnInfo& col = m.columns[k];
    for (size_t b = 0; b < col.blocks.size(); ++b) {
      const BlockInfo& info = col.blocks[b];
      SCOPED_TRACE(StrCat(col.name, " block ", b));
      if (col.type != ColumnType::kUuid) {
        EXPECT_FALSE(info.has_minmax);
        EXPECT_TRUE(info.min_string.empty() && info.max_string.empty());
        continue;
      }
      ASSERT_TRUE(info.has_minmax);
      // Every value of the block lies within [min, max] by its text.
      const size_t first = b * kBlockRows;
      for (size_t i = first; i < first + info.rows; ++i) {
        if (c.columns[k].IsNull(i)) continue;
        const std::string& v = c.columns[k].dict[c.columns[k].ids[i]];
        EXPECT_LE(info.min_string, v);
        EXPECT_GE(info.max_string, v);
      }
      EXPECT_EQ(info.codec, static_cast<uint8_t>(CodecId::kUuid));
    }
  }
  // Rows 128..255 of attrs: one block of nulls, counted as such.
  EXPECT_EQ(m.columns[2].blocks[1].null_count, kBlockRows);
  EXPECT_EQ(m.columns[8].blocks[0].null_count, kBlockRows);
  EXPECT_EQ(m.columns[4].blocks[3].codec, static_cast<uint8_t>(CodecId::kArray));
  EXPECT_EQ(m.columns[7].blocks[3].codec, static_cast<uint8_t>(CodecId::kArray));

  const SegmentInspection text = InspectSegment(**reader, InspectFormat::kText);
  EXPECT_EQ(text.damaged_blocks, 0u);
  EXPECT_NE(text.output.find("uuid(entries="), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("array(integer"), std::string::npos) << text.output;
}

TEST(TypedSegmentTest, SeriesLastHoldsTheText) {
  const uint32_t rows = 400;
  const Columns c = TypedColumns(rows, 9);
  std::string bytes;
  ASSERT_TRUE(EncodeSegment(Contents(c, rows), WriteOptions{}, &bytes).ok());
  auto reader = SegmentReader::FromBytes("typed.tseg", bytes);
  ASSERT_TRUE(reader.ok());
  const SegmentMeta& m = (*reader)->meta();
  ASSERT_EQ(m.series_last.size(), 4u);
  for (size_t s = 0; s < 4; ++s) {
    const size_t last = (s + 1) * rows / 4 - 1;  // the series' newest row
    for (size_t k = 2; k < c.columns.size(); ++k) {
      const ColumnVector& col = c.columns[k];
      // The newest non-null value of the column in the series.
      size_t r = last + 1;
      while (r > s * rows / 4 && col.IsNull(r - 1)) --r;
      const SeriesLast::Value& v = m.series_last[s].values[k];
      if (r == s * rows / 4) {
        EXPECT_FALSE(v.has);
        continue;
      }
      ASSERT_TRUE(v.has) << c.specs[k].name;
      EXPECT_EQ(v.string_value, col.dict[col.ids[r - 1]]) << c.specs[k].name;
    }
  }
}

// Long json values in many series: the footer keeps no series_last rather
// than megabytes of values every open would read.
TEST(TypedSegmentTest, SeriesLastIsLeftOutWhenItsValuesWouldBloatTheFooter) {
  for (uint32_t series : {10u, 1000u}) {
    const uint32_t rows = 2 * series;
    ColumnBuilder ts(ColumnType::kTimestamp), host(ColumnType::kString), doc(ColumnType::kJson);
    for (uint32_t i = 0; i < rows; ++i) {
      ts.AppendInt(kBase + i);
      host.AppendString(StrCat("host_", 10000 + i / 2));
      doc.AppendString(StrCat("\"", std::string(8000, 'a' + i % 26), i, "\""));
    }
    Columns c;
    c.specs = {{"timestamp", ColumnType::kTimestamp},
               {"host", ColumnType::kString},
               {"doc", ColumnType::kJson}};
    c.columns = {ts.Finish(), host.Finish(), doc.Finish()};
    std::string bytes;
    ASSERT_TRUE(EncodeSegment(Contents(c, rows), WriteOptions{}, &bytes).ok());
    auto reader = SegmentReader::FromBytes("typed.tseg", bytes);
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ((*reader)->meta().series_last.size(), series == 10 ? 10u : 0u);
    EXPECT_LT((*reader)->meta().footer_bytes, 1u << 20);
  }
}

// Compaction's streaming writer encodes blocks the same way.
TEST(TypedSegmentTest, TheStreamingBuilderWritesTheSameText) {
  const uint32_t rows = 300;
  const Columns c = TypedColumns(rows, 21);
  char tmpl[] = "/tmp/timestore-typedseg-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string path = dir + "/1.tseg";
  SegmentContents header = Contents(c, 0);
  header.columns.clear();
  WriteOptions o;
  o.block_rows = kBlockRows;
  auto builder = SegmentFileBuilder::Create(Env::Default(), path, header, o);
  ASSERT_TRUE(builder.ok()) << builder.status();
  std::vector<ColumnVector> parts[3];
  for (uint32_t from = 0, k = 0; from < rows; from += kBlockRows, ++k) {
    const uint32_t to = std::min(rows, from + kBlockRows);
    std::vector<const ColumnVector*> block;
    for (const ColumnVector& col : c.columns) {
      ColumnBuilder b(col.type);
      for (uint32_t r = from; r < to; ++r) b.AppendFrom(col, r);
      parts[k].push_back(b.Finish());
    }
    for (const ColumnVector& v : parts[k]) block.push_back(&v);
    ASSERT_TRUE((*builder)->AddBlock(block).ok());
  }
  ASSERT_TRUE((*builder)->Finish().ok());
  auto reader = SegmentReader::Open(Env::Default(), path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ExpectReadsBack(**reader, c, rows);
  std::filesystem::remove_all(dir);
}

// Files from before the typed-text codecs (the fuzzer's seeds, written by
// the first format) read as before: the new codec ids were only added.
TEST(TypedSegmentTest, SegmentsWrittenBeforeTheTypedCodecsStillRead) {
  const std::filesystem::path corpus =
      std::filesystem::path(__FILE__).parent_path() / "../../fuzz/corpus/segment";
  for (const char* name : {"small.tseg", "small_zstd.tseg", "series_last.tseg"}) {
    SCOPED_TRACE(name);
    auto reader = SegmentReader::Open(Env::Default(), (corpus / name).string());
    ASSERT_TRUE(reader.ok()) << reader.status();
    EXPECT_TRUE((*reader)->Verify().ok());
    for (const ColumnInfo& col : (*reader)->meta().columns) {
      for (const BlockInfo& b : col.blocks) EXPECT_LT(b.codec, 10) << col.name;
    }
  }
}

}  // namespace
}  // namespace timestore::segment
