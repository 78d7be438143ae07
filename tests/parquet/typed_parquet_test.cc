// Parquet files of json, uuid and array columns, read back by DuckDB: json as
// BYTE_ARRAY (JSON), uuid as FIXED_LEN_BYTE_ARRAY(16) (UUID), arrays as
// 3-level LISTs of their element type, value for value (every element of
// every array), with nulls, empty arrays, unicode, long json and edge values,
// over several row groups and pages.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>

#include "common/strings.h"
#include "parquet/parquet_writer.h"
#include "segment/array_text.h"
#include "segment/typed_text.h"
#include "tests/parquet/duckdb_check.h"

namespace timestore::parquet {
namespace {

using ::timestore::testing::AskDuckDb;
using ::timestore::testing::DuckAnswer;
using ::timestore::testing::DuckDbAvailable;

constexpr ColumnType kArrays[] = {ColumnType::kDoubleArray, ColumnType::kIntegerArray,
                                  ColumnType::kStringArray, ColumnType::kBooleanArray};
const char* const kArrayNames[] = {"da", "ia", "sa", "ba"};

std::string Canon(ColumnType type, std::string_view text) {
  auto c = CanonicalTypedText(type, text);
  EXPECT_TRUE(c.ok()) << text << ": " << c.status().message();
  return c.value_or("");
}

// Canonical text per column and row; nullopt is null. Columns: j (json),
// u (uuid), then the arrays in kArrays order.
using Rows = std::vector<std::vector<std::optional<std::string>>>;

Rows RandomRows(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string long_json = "{";
  for (int i = 0; i < 500; ++i) long_json += StrCat(i ? "," : "", "\"k", i, "\":\"v", i, "\"");
  long_json += "}";
  const std::vector<std::string> json = {
      Canon(ColumnType::kJson, R"({"http":{"status":200,"method":"GET"},"名前":"héllo 🎉"})"),
      Canon(ColumnType::kJson, long_json),
      "null",
      "[]",
      "{}",
      "1.5",
      R"("a\"b\\c\n")",
      Canon(ColumnType::kJson, R"({"nested":[[1,{"x":null}],true,-9223372036854775808]})")};
  const std::vector<std::string> doubles = {"-0",  "5e-324", "1.7976931348623157e+308",
                                            "0.1", "-2.5",   "3"};
  const std::vector<std::string> ints = {"-9223372036854775808", "9223372036854775807", "0", "-1",
                                         "42"};
  const std::vector<std::string> strings = {R"("")",       R"("é")",          R"("🦆 duck")",
                                            R"("a\"b\\")", R"("\n\t\u0001")", R"("東京")"};
  Rows rows(6, std::vector<std::optional<std::string>>(n));
  for (size_t r = 0; r < n; ++r) {
    if (rng() % 7) {
      rows[0][r] = rng() % 3 ? json[rng() % json.size()]
                             : Canon(ColumnType::kJson,
                                     StrCat(R"({"n":)", r, R"(,"v":")", rng() % 1000, "\"}"));
    }
    if (rng() % 6) {
      uint8_t b[16];
      for (auto& x : b) x = static_cast<uint8_t>(rng() % 4 == 0 ? 0xff * (rng() % 2) : rng());
      rows[1][r] = UuidFromBytes(b);
    }
    for (size_t a = 0; a < 4; ++a) {
      if (rng() % 6 == 0) continue;  // null
      const size_t len = rng() % 5 == 0 ? 0 : rng() % 6;
      std::string text = "[";
      for (size_t k = 0; k < len; ++k) {
        if (k) text += ",";
        switch (kArrays[a]) {
          case ColumnType::kDoubleArray:
            text += rng() % 3 ? StrCat(static_cast<int64_t>(rng() % 100000) - 50000, ".25")
                              : doubles[rng() % doubles.size()];
            break;
          case ColumnType::kIntegerArray:
            text += rng() % 3 ? StrCat(static_cast<int64_t>(rng()) >> (rng() % 64))
                              : ints[rng() % ints.size()];
            break;
          case ColumnType::kStringArray:
            text +=
                rng() % 2 ? StrCat("\"tag", rng() % 3000, "\"") : strings[rng() % strings.size()];
            break;
          default:
            text += rng() % 2 ? "true" : "false";
        }
      }
      rows[2 + a][r] = Canon(kArrays[a], text + "]");
    }
  }
  return rows;
}

std::vector<ParquetColumn> Schema() {
  std::vector<ParquetColumn> s = {{"j", ColumnType::kJson, true}, {"u", ColumnType::kUuid, true}};
  for (size_t a = 0; a < 4; ++a) s.push_back({kArrayNames[a], kArrays[a], true});
  return s;
}

std::vector<ColumnVector> Batch(const Rows& rows, size_t from, size_t to) {
  std::vector<ColumnVector> out;
  const auto schema = Schema();
  for (size_t c = 0; c < schema.size(); ++c) {
    ColumnBuilder b(schema[c].type);
    for (size_t r = from; r < to; ++r) rows[c][r] ? b.AppendString(*rows[c][r]) : b.AppendNull();
    out.push_back(b.Finish());
  }
  return out;
}

class TypedParquetTest : public ::testing::Test {
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

std::string Write(const std::string& path, const Rows& rows, const ParquetWriterOptions& options) {
  StringSink sink;
  auto writer = ParquetWriter::Create(&sink, Schema(), options);
  EXPECT_TRUE(writer.ok()) << writer.status();
  const size_t n = rows[0].size();
  for (size_t from = 0; from < n; from += 700) {
    auto batch = Batch(rows, from, std::min(n, from + 700));
    absl::Status s = (*writer)->Append(batch);
    EXPECT_TRUE(s.ok()) << s;
  }
  EXPECT_TRUE((*writer)->Finish().ok());
  std::ofstream f(path, std::ios::binary);
  f.write(sink.data().data(), static_cast<std::streamsize>(sink.data().size()));
  return path;
}

// The elements of canonical array text, as DuckDB prints each one.
std::vector<std::string> Elements(ColumnType type, const std::string& text) {
  ArrayElements e;
  e.element = ArrayElementType(type);
  EXPECT_TRUE(ParseArrayText(text, &e).has_value()) << text;
  std::vector<std::string> out;
  for (size_t i = 0; i < e.size(); ++i) {
    switch (e.element) {
      case ColumnType::kDouble:
        out.push_back(std::to_string(std::bit_cast<uint64_t>(e.doubles[i])));
        break;
      case ColumnType::kInteger:
        out.push_back(std::to_string(e.ints[i]));
        break;
      case ColumnType::kBoolean:
        out.push_back(e.bools[i] ? "true" : "false");
        break;
      default:
        out.push_back(e.strings[i]);
    }
  }
  return out;
}

TEST_F(TypedParquetTest, EveryValueAndElementReadsBackInDuckDb) {
  const size_t n = 2500;
  const Rows rows = RandomRows(n, 11);
  for (Compression compression : {Compression::kZstd, Compression::kNone}) {
    SCOPED_TRACE(CompressionName(compression));
    ParquetWriterOptions options;
    options.compression = compression;
    options.row_group_rows = 1000;  // three row groups
    options.page_size = 2048;       // many pages
    const std::string path =
        Write(StrCat(dir_, "/typed_", CompressionName(compression), ".parquet"), rows, options);
    const std::string src = "read_parquet('" + path + "', file_row_number=true)";
    std::vector<std::string> statements = {
        "SELECT file_row_number, j::VARCHAR, u::VARCHAR, da IS NULL, len(da), ia IS NULL, "
        "len(ia), sa IS NULL, len(sa), ba IS NULL, len(ba) FROM " +
            src + " ORDER BY file_row_number",
        "SELECT column_name, column_type FROM (DESCRIBE SELECT j, u, da, ia, sa, ba FROM " + src +
            ")",
        "SELECT name, type, type_length, converted_type, logical_type, repetition_type FROM "
        "parquet_schema('" +
            path + "')"};
    for (const char* a : kArrayNames) {
      // Doubles as their bits, so that -0 and 5e-324 compare exactly.
      const std::string value = std::string(a) == "da" ? "CAST(v AS DOUBLE)" : "v";
      statements.push_back(StrCat("SELECT file_row_number, k, ", value,
                                  " FROM (SELECT file_row_number, unnest(", a,
                                  ") AS v, generate_subscripts(", a, ", 1) AS k FROM ", src,
                                  ") ORDER BY file_row_number, k"));
    }
    std::string failure;
    auto answers = AskDuckDb(statements, &failure);
    ASSERT_EQ(answers.size(), statements.size()) << failure;
    for (const DuckAnswer& a : answers) ASSERT_TRUE(a.error.empty()) << a.error;

    const DuckAnswer& data = answers[0];
    ASSERT_EQ(data.rows.size(), n);
    for (size_t r = 0; r < n; ++r) {
      const auto& row = data.rows[r];
      EXPECT_EQ(row[1], rows[0][r]) << "json row " << r;
      EXPECT_EQ(row[2], rows[1][r]) << "uuid row " << r;
      for (size_t a = 0; a < 4; ++a) {
        EXPECT_EQ(row[3 + 2 * a], rows[2 + a][r] ? "false" : "true") << kArrayNames[a] << r;
        if (rows[2 + a][r]) {
          EXPECT_EQ(row[4 + 2 * a], std::to_string(Elements(kArrays[a], *rows[2 + a][r]).size()))
              << kArrayNames[a] << " row " << r;
        }
      }
    }
    std::map<std::string, std::string> types;
    for (const auto& row : answers[1].rows) types[*row[0]] = *row[1];
    EXPECT_EQ(types["u"], "UUID");
    EXPECT_TRUE(types["j"] == "JSON" || types["j"] == "VARCHAR") << types["j"];
    EXPECT_EQ(types["da"], "DOUBLE[]");
    EXPECT_EQ(types["ia"], "BIGINT[]");
    EXPECT_EQ(types["sa"], "VARCHAR[]");
    EXPECT_EQ(types["ba"], "BOOLEAN[]");
    std::map<std::string, std::vector<std::optional<std::string>>> schema;
    for (const auto& row : answers[2].rows) schema[*row[0]] = row;
    EXPECT_EQ(schema["u"][1], "FIXED_LEN_BYTE_ARRAY");
    EXPECT_EQ(schema["u"][2], "16");
    EXPECT_NE(schema["u"][4].value_or("").find("UUID"), std::string::npos);
    EXPECT_EQ(schema["j"][3], "JSON");
    EXPECT_EQ(schema["da"][3], "LIST");
    EXPECT_EQ(schema["list"][5], "REPEATED");
    EXPECT_EQ(schema["element"][5], "REQUIRED");

    for (size_t a = 0; a < 4; ++a) {
      SCOPED_TRACE(kArrayNames[a]);
      std::vector<std::vector<std::string>> want;
      for (size_t r = 0; r < n; ++r) {
        if (!rows[2 + a][r]) continue;
        const auto elems = Elements(kArrays[a], *rows[2 + a][r]);
        for (size_t k = 0; k < elems.size(); ++k) {
          want.push_back({std::to_string(r), std::to_string(k + 1), elems[k]});
        }
      }
      const DuckAnswer& got = answers[3 + a];
      ASSERT_EQ(got.rows.size(), want.size());
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_EQ(got.rows[i][0], want[i][0]);
        ASSERT_EQ(got.rows[i][1], want[i][1]);
        if (kArrays[a] == ColumnType::kDoubleArray) {
          const double d = std::strtod(got.rows[i][2].value_or("").c_str(), nullptr);
          const double w = std::bit_cast<double>(std::stoull(want[i][2]));
          EXPECT_EQ(std::bit_cast<uint64_t>(d), std::bit_cast<uint64_t>(w))
              << "row " << want[i][0] << ": " << *got.rows[i][2];
        } else {
          EXPECT_EQ(got.rows[i][2], want[i][2]) << "row " << want[i][0];
        }
      }
    }
  }
}

// The uuid statistics (unsigned bytes) must not make DuckDB skip row groups
// holding the value asked for.
TEST_F(TypedParquetTest, UuidFiltersFindEveryRow) {
  const size_t n = 3000;
  const Rows rows = RandomRows(n, 5);
  ParquetWriterOptions options;
  options.row_group_rows = 500;
  const std::string path = Write(dir_ + "/uuid.parquet", rows, options);
  std::string lo = "80000000-0000-0000-0000-000000000000";
  size_t above = 0;
  for (size_t r = 0; r < n; ++r) above += rows[1][r] && *rows[1][r] > lo;
  const std::string some = *rows[1][n - 2 - (rows[1][n - 2] ? 0 : 1)];
  size_t equal = 0;
  for (size_t r = 0; r < n; ++r) equal += rows[1][r] == some;
  std::string failure;
  auto answers = AskDuckDb(
      {"SELECT count(*) FROM read_parquet('" + path + "') WHERE u > '" + lo + "'::UUID",
       "SELECT count(*) FROM read_parquet('" + path + "') WHERE u = '" + some + "'::UUID"},
      &failure);
  ASSERT_EQ(answers.size(), 2u) << failure;
  ASSERT_TRUE(answers[0].error.empty()) << answers[0].error;
  EXPECT_EQ(answers[0].rows[0][0], std::to_string(above));
  EXPECT_EQ(answers[1].rows[0][0], std::to_string(equal));
}

TEST(TypedParquetWriterTest, RefusesTextThatIsNotCanonical) {
  StringSink sink;
  auto writer = ParquetWriter::Create(&sink, {{"a", ColumnType::kIntegerArray, true}});
  ASSERT_TRUE(writer.ok());
  ColumnBuilder b(ColumnType::kIntegerArray);
  b.AppendString("[1, 2]");
  std::vector<ColumnVector> cols = {b.Finish()};
  absl::Status s = (*writer)->Append(cols);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("column 'a' row 0"), std::string::npos) << s;
}

}  // namespace
}  // namespace timestore::parquet
