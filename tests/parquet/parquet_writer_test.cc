// The hand-written Parquet writer: Thrift compact bytes against hand-computed
// ones, the RLE/bit-packed hybrid, and files read back by DuckDB (an
// independent reader) value for value, with their metadata.
#include "parquet/parquet_writer.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <random>

#include "parquet/thrift_compact.h"
#include "tests/parquet/duckdb_check.h"

namespace timestore::parquet {
namespace {

using ::timestore::testing::AskDuckDb;
using ::timestore::testing::AskHyparquet;
using ::timestore::testing::DuckAnswer;
using ::timestore::testing::DuckDbAvailable;
using ::timestore::testing::HyparquetAvailable;

std::string Hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string h;
  for (unsigned char c : s) {
    h += d[c >> 4];
    h += d[c & 15];
  }
  return h;
}

TEST(ThriftCompactTest, FieldHeadersDeltasAndValues) {
  std::string out;
  CompactWriter w(&out);
  w.StructBegin();
  w.FieldI32(1, 2);        // delta 1, i32 (5): 0x15; zigzag(2) = 4
  w.FieldI64(3, -1);       // delta 2, i64 (6): 0x26; zigzag(-1) = 1
  w.FieldBool(4, true);    // delta 1, true (1): 0x11
  w.FieldBool(5, false);   // delta 1, false (2): 0x12
  w.FieldBinary(6, "ab");  // delta 1, binary (8): 0x18, len 2
  w.FieldI64(30, 300);     // delta 24 > 15: 0x06 then zigzag i16 30 = 60 (0x3c); 600 = 0xd8 0x04
  w.FieldI16(31, -2);      // delta 1, i16 (4): 0x14; zigzag(-2) = 3
  w.FieldI8(32, -1);       // delta 1, byte (3): 0x13, 0xff
  w.FieldStructBegin(33);  // delta 1, struct (12): 0x1c
  w.FieldI32(1, 0);        // inside: its own deltas from 0: 0x15 0x00
  w.StructEnd();           // 0x00
  w.FieldListBegin(34, CompactType::kI32, 3);  // 0x19, (3 << 4) | 5 = 0x35
  w.I32(1);
  w.I32(-1);
  w.I32(64);                                       // zigzag 128: 0x80 0x01
  w.FieldListBegin(35, CompactType::kBinary, 15);  // 0x19, 0xf8, 15
  for (int i = 0; i < 15; ++i) w.Binary("");
  w.StructEnd();
  EXPECT_EQ(Hex(out),
            "1504"
            "2601"
            "11"
            "12"
            "18026162"
            "063cd804"
            "1403"
            "13ff"
            "1c"
            "1500"
            "00"
            "1935"
            "02"
            "01"
            "8001"
            "19f80f"
            "000000000000000000000000000000"
            "00");
}

TEST(ThriftCompactTest, BackwardFieldIdsUseTheLongForm) {
  std::string out;
  CompactWriter w(&out);
  w.StructBegin();
  w.FieldI32(5, 1);  // 0x55 0x02
  w.FieldI32(2, 1);  // delta -3: 0x05, zigzag i16 2 = 4, then 0x02
  w.StructEnd();
  EXPECT_EQ(Hex(out),
            "5502"
            "050402"
            "00");
}

TEST(ThriftCompactTest, VarintsAndZigZag) {
  std::string out;
  CompactWriter::AppendVarint(&out, 0);
  CompactWriter::AppendVarint(&out, 127);
  CompactWriter::AppendVarint(&out, 128);
  CompactWriter::AppendVarint(&out, 16384);
  EXPECT_EQ(Hex(out),
            "00"
            "7f"
            "8001"
            "808001");
  EXPECT_EQ(CompactWriter::ZigZag(0), 0u);
  EXPECT_EQ(CompactWriter::ZigZag(-1), 1u);
  EXPECT_EQ(CompactWriter::ZigZag(1), 2u);
  EXPECT_EQ(CompactWriter::ZigZag(std::numeric_limits<int64_t>::min()), ~0ull);
  EXPECT_EQ(CompactWriter::ZigZag(std::numeric_limits<int64_t>::max()), ~0ull - 1);
}

TEST(RleHybridTest, RunsAndBitPackedGroups) {
  std::string out;
  std::vector<uint32_t> ten_zeros(10, 0);
  EncodeRleHybrid(ten_zeros, 1, &out);
  EXPECT_EQ(Hex(out), "1400");  // run: varint(10 << 1), value 0 in one byte
  out.clear();
  std::vector<uint32_t> alternating = {1, 0, 1, 0, 1, 0, 1, 0};
  EncodeRleHybrid(alternating, 1, &out);
  EXPECT_EQ(Hex(out), "0355");  // one group: varint(1 << 1 | 1), bits LSB first
  out.clear();
  // Three literals lend themselves five values of the run after them.
  std::vector<uint32_t> mixed = {0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  EncodeRleHybrid(mixed, 1, &out);
  EXPECT_EQ(Hex(out),
            "03fa"
            "0a01");
  out.clear();
  // Width 3, a partial last group padded with zeros: 5, 2, 7 -> bits 101 010 111.
  std::vector<uint32_t> three = {5, 2, 7};
  EncodeRleHybrid(three, 3, &out);
  EXPECT_EQ(Hex(out), "03d50100");
  out.clear();
  // Width 9: run values take two bytes.
  std::vector<uint32_t> wide(9, 300);
  EncodeRleHybrid(wide, 9, &out);
  EXPECT_EQ(Hex(out), "122c01");
}

// ---------------------------------------------------------------------------
// Files read back by DuckDB.

struct Rows {
  std::vector<int64_t> t;
  std::vector<std::optional<int64_t>> i;
  std::vector<std::optional<double>> d;
  std::vector<std::optional<bool>> b;
  std::vector<std::optional<std::string>> s;
};

ColumnVector IntColumn(ColumnType type, const std::vector<std::optional<int64_t>>& v, size_t from,
                       size_t to) {
  ColumnBuilder b(type);
  for (size_t r = from; r < to; ++r) v[r] ? b.AppendInt(*v[r]) : b.AppendNull();
  return b.Finish();
}

std::vector<ColumnVector> Batch(const Rows& rows, size_t from, size_t to) {
  std::vector<ColumnVector> cols;
  ColumnBuilder t(ColumnType::kTimestamp), d(ColumnType::kDouble), b(ColumnType::kBoolean),
      s(ColumnType::kString), n(ColumnType::kDouble);
  for (size_t r = from; r < to; ++r) {
    t.AppendInt(rows.t[r]);
    rows.d[r] ? d.AppendDouble(*rows.d[r]) : d.AppendNull();
    rows.b[r] ? b.AppendBool(*rows.b[r]) : b.AppendNull();
    rows.s[r] ? s.AppendString(*rows.s[r]) : s.AppendNull();
  }
  cols.push_back(t.Finish());
  cols.push_back(IntColumn(ColumnType::kInteger, rows.i, from, to));
  cols.push_back(d.Finish());
  cols.push_back(b.Finish());
  cols.push_back(s.Finish());
  cols.push_back(ColumnVector::AllNull(ColumnType::kDouble, static_cast<uint32_t>(to - from)));
  return cols;
}

std::vector<ParquetColumn> TestSchema() {
  return {{"time", ColumnType::kTimestamp, false}, {"i", ColumnType::kInteger, true},
          {"d", ColumnType::kDouble, true},        {"b", ColumnType::kBoolean, true},
          {"s", ColumnType::kString, true},        {"nothing", ColumnType::kDouble, true}};
}

Rows RandomRows(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  const std::vector<std::string> words = {
      "host_0", "🦆 duck", "東京", "", "é", std::string(5000, 'x'), "naïve 😀 中文"};
  const std::vector<double> specials = {std::nan(""),
                                        std::numeric_limits<double>::infinity(),
                                        -std::numeric_limits<double>::infinity(),
                                        -0.0,
                                        0.0,
                                        std::numeric_limits<double>::denorm_min(),
                                        std::numeric_limits<double>::max(),
                                        -1e-300};
  Rows rows;
  int64_t t = -86'400'000'000'123;  // before 1970, with nanoseconds
  for (size_t r = 0; r < n; ++r) {
    t += 1 + static_cast<int64_t>(rng() % 1'000'000'007);
    rows.t.push_back(t);
    switch (rng() % 6) {
      case 0:
        rows.i.push_back(std::nullopt);
        break;
      case 1:
        rows.i.push_back(rng() % 2 ? std::numeric_limits<int64_t>::min()
                                   : std::numeric_limits<int64_t>::max());
        break;
      default:
        rows.i.push_back(static_cast<int64_t>(rng()) >> (rng() % 64));
    }
    switch (rng() % 5) {
      case 0:
        rows.d.push_back(std::nullopt);
        break;
      case 1:
        rows.d.push_back(specials[rng() % specials.size()]);
        break;
      default:
        rows.d.push_back(std::ldexp(static_cast<double>(rng() % 1000000) - 500000.0,
                                    static_cast<int>(rng() % 40) - 20));
    }
    rows.b.push_back(rng() % 4 == 0 ? std::nullopt : std::optional<bool>(rng() % 2 == 0));
    switch (rng() % 4) {
      case 0:
        rows.s.push_back(std::nullopt);
        break;
      case 1:
        rows.s.push_back(words[rng() % words.size()]);
        break;
      default:  // many distinct values, to fill a small dictionary
        rows.s.push_back("v" + std::to_string(rng() % 5000) + " ✓");
    }
  }
  return rows;
}

std::string WriteFile(const std::string& path, std::string_view data) {
  std::ofstream f(path, std::ios::binary);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  return path;
}

bool SameDouble(const std::string& text, double want) {
  const double got = std::strtod(text.c_str(), nullptr);
  if (std::isnan(want)) return std::isnan(got);
  return std::bit_cast<uint64_t>(got) == std::bit_cast<uint64_t>(want);
}

class ParquetRoundTripTest : public ::testing::TestWithParam<Compression> {
 protected:
  void SetUp() override {
    TIMESTORE_SKIP_WITHOUT(DuckDbAvailable(), "node with @duckdb/node-api in tests/node");
    dir_ = ::timestore::testing::MakeTempDir();
  }
  void TearDown() override {
    if (!dir_.empty() && !getenv("KEEP_PARQUET_TEST_DIR")) std::filesystem::remove_all(dir_);
  }
  std::string dir_;
};

TEST_P(ParquetRoundTripTest, EveryValueReadsBackInDuckDb) {
  const Rows rows = RandomRows(3000, 7);
  ParquetWriterOptions options;
  options.compression = GetParam();
  options.row_group_rows = 1000;         // three row groups
  options.page_size = 4096;              // many pages per chunk
  options.dictionary_page_limit = 2048;  // the string dictionary overflows: PLAIN pages follow
  options.key_value_metadata = {{"timestore.schema", R"({"fields":[]})"}};
  StringSink sink;
  auto writer = ParquetWriter::Create(&sink, TestSchema(), options);
  ASSERT_TRUE(writer.ok()) << writer.status();
  // Batches of uneven sizes, one of them crossing a row group boundary.
  const std::vector<size_t> cuts = {0, 1, 700, 1500, 1501, 3000};
  for (size_t k = 0; k + 1 < cuts.size(); ++k) {
    auto batch = Batch(rows, cuts[k], cuts[k + 1]);
    ASSERT_TRUE((*writer)->Append(batch).ok());
  }
  ASSERT_TRUE((*writer)->Finish().ok());
  EXPECT_EQ((*writer)->row_groups(), 3u);
  const std::string path = WriteFile(dir_ + "/f.parquet", sink.data());

  const std::string src = "read_parquet('" + path + "', file_row_number=true)";
  std::string failure;
  auto answers = AskDuckDb(
      {"SELECT epoch_ns(\"time\"), i, d, b, s, nothing, typeof(\"time\") FROM " + src +
           " ORDER BY file_row_number",
       "SELECT key::VARCHAR, value::VARCHAR FROM parquet_kv_metadata('" + path + "')",
       "SELECT name, type, converted_type, logical_type, repetition_type FROM parquet_schema('" +
           path + "') ORDER BY name",
       "SELECT row_group_id, path_in_schema, compression, stats_min_value, stats_max_value, "
       "stats_null_count, encodings FROM parquet_metadata('" +
           path + "') ORDER BY row_group_id, column_id",
       "SELECT created_by, num_rows, num_row_groups, format_version FROM parquet_file_metadata('" +
           path + "')"},
      &failure);
  ASSERT_FALSE(answers.empty()) << failure;
  const DuckAnswer& data = answers[0];
  ASSERT_TRUE(data.error.empty()) << data.error;
  ASSERT_EQ(data.rows.size(), rows.t.size());
  for (size_t r = 0; r < rows.t.size(); ++r) {
    const auto& row = data.rows[r];
    SCOPED_TRACE("row " + std::to_string(r));
    // DuckDB reads TIMESTAMP(NANOS, adjusted to UTC) as TIMESTAMP WITH TIME
    // ZONE, in microseconds (truncated toward zero); the nanoseconds are in
    // the file, DuckDB drops them.
    ASSERT_EQ(row[0], std::to_string(rows.t[r] / 1000 * 1000)) << *row[6];
    ASSERT_EQ(row[1],
              rows.i[r] ? std::optional<std::string>(std::to_string(*rows.i[r])) : std::nullopt);
    ASSERT_EQ(row[2].has_value(), rows.d[r].has_value());
    if (rows.d[r]) ASSERT_TRUE(SameDouble(*row[2], *rows.d[r])) << *row[2] << " vs " << *rows.d[r];
    ASSERT_EQ(row[3],
              rows.b[r] ? std::optional<std::string>(*rows.b[r] ? "true" : "false") : std::nullopt);
    ASSERT_TRUE(row[4] == rows.s[r]) << row[4].value_or("null").substr(0, 40) << " vs "
                                     << rows.s[r].value_or("null").substr(0, 40);
    ASSERT_EQ(row[5], std::nullopt);
  }

  // The nanoseconds DuckDB drops, and every other value, through hyparquet
  // (which has no zstd).
  if (GetParam() != Compression::kZstd && HyparquetAvailable()) {
    auto hy = AskHyparquet({path}, &failure);
    ASSERT_FALSE(hy.empty()) << failure;
    ASSERT_TRUE(hy[0].error.empty()) << hy[0].error;
    ASSERT_EQ(hy[0].rows.size(), rows.t.size());
    for (size_t r = 0; r < rows.t.size(); ++r) {
      const auto& row = hy[0].rows[r];
      SCOPED_TRACE("hyparquet row " + std::to_string(r));
      ASSERT_EQ(row[0], std::to_string(rows.t[r]));
      ASSERT_EQ(row[1],
                rows.i[r] ? std::optional<std::string>(std::to_string(*rows.i[r])) : std::nullopt);
      ASSERT_EQ(row[2].has_value(), rows.d[r].has_value());
      if (rows.d[r]) ASSERT_TRUE(SameDouble(*row[2], *rows.d[r])) << *row[2];
      ASSERT_EQ(row[3], rows.b[r] ? std::optional<std::string>(*rows.b[r] ? "true" : "false")
                                  : std::nullopt);
      ASSERT_TRUE(row[4] == rows.s[r]) << row[4].value_or("null").substr(0, 40);
    }
  } else if (GetParam() != Compression::kZstd && ::timestore::testing::InCi()) {
    FAIL() << "hyparquet is missing from tests/node; CI installs it (npm ci)";
  }

  const DuckAnswer& kv = answers[1];
  ASSERT_TRUE(kv.error.empty()) << kv.error;
  ASSERT_EQ(kv.rows.size(), 1u);
  EXPECT_EQ(kv.rows[0][0], "timestore.schema");

  const DuckAnswer& schema = answers[2];
  ASSERT_TRUE(schema.error.empty()) << schema.error;
  std::map<std::string, std::vector<std::optional<std::string>>> by_name;
  for (const auto& r : schema.rows) by_name[*r[0]] = r;
  EXPECT_EQ(by_name["time"][1], "INT64");
  EXPECT_NE(by_name["time"][3]->find("TimestampType"), std::string::npos) << *by_name["time"][3];
  EXPECT_NE(by_name["time"][3]->find("NanoSeconds"), std::string::npos) << *by_name["time"][3];
  EXPECT_EQ(by_name["time"][4], "REQUIRED");
  EXPECT_EQ(by_name["i"][1], "INT64");
  EXPECT_EQ(by_name["i"][2], "INT_64");
  EXPECT_EQ(by_name["i"][4], "OPTIONAL");
  EXPECT_EQ(by_name["d"][1], "DOUBLE");
  EXPECT_EQ(by_name["b"][1], "BOOLEAN");
  EXPECT_EQ(by_name["s"][1], "BYTE_ARRAY");
  EXPECT_EQ(by_name["s"][2], "UTF8");
  EXPECT_NE(by_name["s"][3]->find("StringType"), std::string::npos) << *by_name["s"][3];

  const DuckAnswer& meta = answers[3];
  ASSERT_TRUE(meta.error.empty()) << meta.error;
  ASSERT_EQ(meta.rows.size(), 3u * 6);
  const std::string codec = GetParam() == Compression::kZstd     ? "ZSTD"
                            : GetParam() == Compression::kSnappy ? "SNAPPY"
                                                                 : "UNCOMPRESSED";
  for (size_t k = 0; k < meta.rows.size(); ++k) {
    const auto& r = meta.rows[k];
    const size_t group = k / 6;
    SCOPED_TRACE(*r[1] + " in row group " + *r[0]);
    EXPECT_EQ(r[2], codec);
    EXPECT_TRUE(r[5].has_value());  // null_count
    if (*r[1] == "nothing") {
      EXPECT_EQ(r[5], "1000");
      EXPECT_EQ(r[3], std::nullopt);
      continue;
    }
    // The expected bounds of this row group.
    const size_t from = group * 1000, to = from + 1000;
    if (*r[1] == "d" || *r[1] == "s") {
      // DuckDB shows no double bounds when one is infinite (the file has
      // them), and a chunk with a string over 4 KiB has none (the writer's
      // choice: docs/export.md).
      bool shown = true;
      for (size_t x = from; x < to; ++x) {
        if (*r[1] == "d" && rows.d[x] && std::isinf(*rows.d[x])) shown = false;
        if (*r[1] == "s" && rows.s[x] && rows.s[x]->size() > 4096) shown = false;
      }
      if (!shown) {
        EXPECT_EQ(r[3], std::nullopt);
        continue;
      }
    }
    ASSERT_TRUE(r[3].has_value() && r[4].has_value());
    if (*r[1] == "i") {
      int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
      for (size_t x = from; x < to; ++x) {
        if (rows.i[x]) lo = std::min(lo, *rows.i[x]), hi = std::max(hi, *rows.i[x]);
      }
      EXPECT_EQ(*r[3], std::to_string(lo));
      EXPECT_EQ(*r[4], std::to_string(hi));
    } else if (*r[1] == "d") {
      double lo = INFINITY, hi = -INFINITY;
      for (size_t x = from; x < to; ++x) {
        if (rows.d[x] && !std::isnan(*rows.d[x])) {
          lo = std::min(lo, *rows.d[x]), hi = std::max(hi, *rows.d[x]);
        }
      }
      EXPECT_EQ(std::strtod(r[3]->c_str(), nullptr), lo) << *r[3];
      EXPECT_EQ(std::strtod(r[4]->c_str(), nullptr), hi) << *r[4];
    } else if (*r[1] == "s") {
      EXPECT_NE(r[6]->find("RLE_DICTIONARY"), std::string::npos) << *r[6];
    }
  }

  const DuckAnswer& file = answers[4];
  ASSERT_TRUE(file.error.empty()) << file.error;
  EXPECT_EQ(file.rows[0][0], "timestore version " TIMESTORE_VERSION_FOR_TESTS);
  EXPECT_EQ(file.rows[0][1], "3000");
  EXPECT_EQ(file.rows[0][2], "3");
}

INSTANTIATE_TEST_SUITE_P(Codecs, ParquetRoundTripTest,
                         ::testing::Values(Compression::kZstd, Compression::kSnappy,
                                           Compression::kNone),
                         [](const auto& info) { return std::string(CompressionName(info.param)); });

TEST_F(ParquetRoundTripTest, AFileWithoutRowsHasItsSchema) {
  StringSink sink;
  auto writer = ParquetWriter::Create(&sink, TestSchema());
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Finish().ok());
  const std::string path = WriteFile(dir_ + "/empty.parquet", sink.data());
  std::string failure;
  auto answers = AskDuckDb({"SELECT count(*), count(s) FROM read_parquet('" + path + "')",
                            "DESCRIBE SELECT * FROM read_parquet('" + path + "')"},
                           &failure);
  ASSERT_FALSE(answers.empty()) << failure;
  ASSERT_TRUE(answers[0].error.empty()) << answers[0].error;
  EXPECT_EQ(answers[0].rows[0][0], "0");
  ASSERT_TRUE(answers[1].error.empty()) << answers[1].error;
  EXPECT_EQ(answers[1].rows.size(), 6u);
}

TEST_F(ParquetRoundTripTest, OneValueDictionariesAndAllNullPages) {
  // A string column of one distinct value (a 1-bit index width) beside one
  // whose first row group is all null.
  StringSink sink;
  ParquetWriterOptions options;
  options.row_group_rows = 10;
  auto writer = ParquetWriter::Create(
      &sink, {{"a", ColumnType::kString, true}, {"b", ColumnType::kString, true}}, options);
  ASSERT_TRUE(writer.ok());
  ColumnBuilder a(ColumnType::kString), b(ColumnType::kString);
  for (int r = 0; r < 25; ++r) {
    a.AppendString("same");
    r < 10 ? b.AppendNull() : b.AppendString(r % 2 ? "odd" : "even");
  }
  std::vector<ColumnVector> cols = {a.Finish(), b.Finish()};
  ASSERT_TRUE((*writer)->Append(cols).ok());
  ASSERT_TRUE((*writer)->Finish().ok());
  const std::string path = WriteFile(dir_ + "/one.parquet", sink.data());
  std::string failure;
  auto answers = AskDuckDb({"SELECT count(a), count(DISTINCT a), min(a), count(b), "
                            "count(*) FILTER (WHERE b = 'odd') FROM read_parquet('" +
                            path + "')"},
                           &failure);
  ASSERT_FALSE(answers.empty()) << failure;
  ASSERT_TRUE(answers[0].error.empty()) << answers[0].error;
  EXPECT_EQ(answers[0].rows[0],
            (std::vector<std::optional<std::string>>{"25", "1", "same", "15", "7"}));
}

TEST_F(ParquetRoundTripTest, ZeroBoundsAreSignedAsTheSpecificationAsks) {
  // A zero minimum is written -0.0 and a zero maximum +0.0; NaN is never a
  // bound, and a chunk of NaN alone has none.
  StringSink sink;
  auto writer = ParquetWriter::Create(&sink, {{"a", ColumnType::kDouble, true},
                                              {"b", ColumnType::kDouble, true},
                                              {"c", ColumnType::kDouble, true}});
  ASSERT_TRUE(writer.ok());
  ColumnBuilder a(ColumnType::kDouble), b(ColumnType::kDouble), c(ColumnType::kDouble);
  for (double v : {0.0, 1.0, std::nan("")}) a.AppendDouble(v);
  for (double v : {-1.0, -0.0, std::nan("")}) b.AppendDouble(v);
  for (int i = 0; i < 3; ++i) c.AppendDouble(std::nan(""));
  std::vector<ColumnVector> cols = {a.Finish(), b.Finish(), c.Finish()};
  ASSERT_TRUE((*writer)->Append(cols).ok());
  ASSERT_TRUE((*writer)->Finish().ok());
  const std::string path = WriteFile(dir_ + "/zeros.parquet", sink.data());
  std::string failure;
  auto answers = AskDuckDb({"SELECT path_in_schema, stats_min_value, stats_max_value FROM "
                            "parquet_metadata('" +
                            path + "') ORDER BY column_id"},
                           &failure);
  ASSERT_FALSE(answers.empty()) << failure;
  ASSERT_TRUE(answers[0].error.empty()) << answers[0].error;
  using Row = std::vector<std::optional<std::string>>;
  EXPECT_EQ(answers[0].rows[0], (Row{"a", "-0.0", "1.0"}));
  EXPECT_EQ(answers[0].rows[1], (Row{"b", "-1.0", "0.0"}));
  EXPECT_EQ(answers[0].rows[2], (Row{"c", std::nullopt, std::nullopt}));
}

TEST(ParquetWriterTest, RefusesWhatDoesNotFitTheSchema) {
  StringSink sink;
  auto writer = ParquetWriter::Create(
      &sink, {{"time", ColumnType::kTimestamp, false}, {"v", ColumnType::kDouble, true}});
  ASSERT_TRUE(writer.ok());
  ColumnBuilder t(ColumnType::kTimestamp), v(ColumnType::kDouble);
  t.AppendInt(1);
  t.AppendNull();
  v.AppendDouble(1);
  v.AppendDouble(2);
  std::vector<ColumnVector> cols = {t.Finish(), v.Finish()};
  absl::Status s = (*writer)->Append(cols);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'time' is not nullable but row 1 is null"), std::string::npos) << s;
  std::vector<ColumnVector> wrong = {ColumnVector::AllNull(ColumnType::kInteger, 1),
                                     ColumnVector::AllNull(ColumnType::kDouble, 1)};
  s = (*writer)->Append(wrong);
  EXPECT_NE(s.message().find("column 'time' is timestamp, given integer"), std::string::npos) << s;
  EXPECT_EQ((*writer)->rows(), 0u);
  EXPECT_FALSE(
      ParquetWriter::Create(&sink, {{"a", ColumnType::kDouble}, {"a", ColumnType::kDouble}}).ok());
}

}  // namespace
}  // namespace timestore::parquet
