// Values in PostgreSQL's text and binary forms: the expected strings are what
// PostgreSQL 15 prints for the same values (float8out/float4out with
// extra_float_digits 1, timestamptz_out with DateStyle ISO and TimeZone UTC).
#include "pgwire/value_format.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>

#include "common/strings.h"
#include "pgwire/pg_error.h"

namespace timestore::pgwire {
namespace {

std::string F8(double v) {
  std::string s;
  AppendFloat8Text(v, &s);
  return s;
}
std::string F4(float v) {
  std::string s;
  AppendFloat4Text(v, &s);
  return s;
}
std::string Ts(int64_t nanos) {
  std::string s;
  AppendTimestampText(NanosToMicros(nanos), true, &s);
  return s;
}

TEST(ValueFormatTest, Float8Text) {
  EXPECT_EQ(F8(0), "0");
  EXPECT_EQ(F8(-0.0), "-0");
  EXPECT_EQ(F8(1), "1");
  EXPECT_EQ(F8(0.1), "0.1");
  EXPECT_EQ(F8(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(F8(-2.5), "-2.5");
  EXPECT_EQ(F8(100000000000000.0), "100000000000000");  // 1e14: still fixed
  EXPECT_EQ(F8(1e15), "1e+15");
  EXPECT_EQ(F8(123456789012345678.0), "1.2345678901234568e+17");
  EXPECT_EQ(F8(0.0001), "0.0001");
  EXPECT_EQ(F8(0.00001), "1e-05");
  EXPECT_EQ(F8(1.5e-7), "1.5e-07");
  EXPECT_EQ(F8(1e100), "1e+100");
  EXPECT_EQ(F8(std::numeric_limits<double>::max()), "1.7976931348623157e+308");
  EXPECT_EQ(F8(std::numeric_limits<double>::denorm_min()), "5e-324");
  EXPECT_EQ(F8(std::nan("")), "NaN");
  EXPECT_EQ(F8(-std::nan("")), "NaN");
  EXPECT_EQ(F8(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(F8(-std::numeric_limits<double>::infinity()), "-Infinity");
  EXPECT_EQ(F8(42.5), "42.5");
}

TEST(ValueFormatTest, Float4Text) {
  EXPECT_EQ(F4(0.1f), "0.1");
  EXPECT_EQ(F4(3.14159f), "3.14159");
  EXPECT_EQ(F4(100000.0f), "100000");
  EXPECT_EQ(F4(1e6f), "1e+06");
  EXPECT_EQ(F4(16777216.0f), "1.6777216e+07");
  EXPECT_EQ(F4(-0.0f), "-0");
  EXPECT_EQ(F4(std::numeric_limits<float>::infinity()), "Infinity");
  EXPECT_EQ(F4(std::nanf("")), "NaN");
}

TEST(ValueFormatTest, TimestamptzText) {
  EXPECT_EQ(Ts(0), "1970-01-01 00:00:00+00");
  EXPECT_EQ(Ts(1714564800'000000000), "2024-05-01 12:00:00+00");
  EXPECT_EQ(Ts(1714564800'500000000), "2024-05-01 12:00:00.5+00");
  EXPECT_EQ(Ts(1714564800'123456789), "2024-05-01 12:00:00.123456+00");
  EXPECT_EQ(Ts(1714564800'000010000), "2024-05-01 12:00:00.00001+00");
  EXPECT_EQ(Ts(1500), "1970-01-01 00:00:00.000001+00");
  EXPECT_EQ(Ts(999), "1970-01-01 00:00:00+00");  // below a microsecond
  // Before 1970 the nanoseconds round toward negative infinity.
  EXPECT_EQ(Ts(-1), "1969-12-31 23:59:59.999999+00");
  EXPECT_EQ(Ts(-1000), "1969-12-31 23:59:59.999999+00");
  EXPECT_EQ(Ts(-1001), "1969-12-31 23:59:59.999998+00");
  EXPECT_EQ(Ts(-86400'000000000), "1969-12-31 00:00:00+00");
  // Before 2000 and leap days.
  EXPECT_EQ(Ts(951782400'000000000), "2000-02-29 00:00:00+00");
  EXPECT_EQ(Ts(946684799'999999000), "1999-12-31 23:59:59.999999+00");
  // The ends of int64 nanoseconds.
  EXPECT_EQ(Ts(std::numeric_limits<int64_t>::min()), "1677-09-21 00:12:43.145224+00");
  EXPECT_EQ(Ts(std::numeric_limits<int64_t>::max()), "2262-04-11 23:47:16.854775+00");
  std::string no_tz;
  AppendTimestampText(0, false, &no_tz);
  EXPECT_EQ(no_tz, "1970-01-01 00:00:00");
}

ResultColumn IntColumn(std::vector<int64_t> v) {
  ResultColumn c;
  c.type = ColumnType::kInteger;
  c.ints = std::move(v);
  c.valid.assign(c.ints.size(), 1);
  return c;
}

std::string Value(const ResultColumn& c, size_t row, uint32_t oid, int16_t format) {
  std::string out;
  absl::Status s = AppendValue(c, row, oid, format, &out);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

std::string BigEndian(uint64_t v, int bytes) {
  std::string s;
  for (int i = bytes - 1; i >= 0; --i) s.push_back(static_cast<char>(v >> (8 * i)));
  return s;
}

TEST(ValueFormatTest, IntegersTextAndBinary) {
  auto c = IntColumn(
      {0, -1, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), 32767});
  EXPECT_EQ(Value(c, 2, sql::oid::kInt8, kTextFormat), "-9223372036854775808");
  EXPECT_EQ(Value(c, 3, sql::oid::kInt8, kTextFormat), "9223372036854775807");
  EXPECT_EQ(Value(c, 2, sql::oid::kInt8, kBinaryFormat), BigEndian(0x8000000000000000ull, 8));
  EXPECT_EQ(Value(c, 1, sql::oid::kInt8, kBinaryFormat), std::string(8, '\xff'));
  EXPECT_EQ(Value(c, 1, sql::oid::kInt4, kBinaryFormat), std::string(4, '\xff'));
  EXPECT_EQ(Value(c, 4, sql::oid::kInt2, kBinaryFormat), BigEndian(0x7fff, 2));
  EXPECT_EQ(Value(c, 4, sql::oid::kOid, kBinaryFormat), BigEndian(32767, 4));
  EXPECT_EQ(Value(c, 0, sql::oid::kBool, kTextFormat), "f");
  EXPECT_EQ(Value(c, 1, sql::oid::kBool, kTextFormat), "t");
  EXPECT_EQ(Value(c, 1, sql::oid::kBool, kBinaryFormat), std::string(1, '\1'));
  EXPECT_EQ(Value(c, 0, sql::oid::kBool, kBinaryFormat), std::string(1, '\0'));
  // An integer column described as float8 (count() as a double, say).
  EXPECT_EQ(Value(c, 4, sql::oid::kFloat8, kTextFormat), "32767");
}

TEST(ValueFormatTest, FloatsBinaryAreIeeeBigEndian) {
  ResultColumn c;
  c.type = ColumnType::kDouble;
  c.doubles = {1.5, -0.0, std::numeric_limits<double>::infinity()};
  c.valid = {1, 1, 1};
  EXPECT_EQ(Value(c, 0, sql::oid::kFloat8, kBinaryFormat), BigEndian(0x3FF8000000000000ull, 8));
  EXPECT_EQ(Value(c, 1, sql::oid::kFloat8, kBinaryFormat), BigEndian(0x8000000000000000ull, 8));
  EXPECT_EQ(Value(c, 2, sql::oid::kFloat8, kBinaryFormat), BigEndian(0x7FF0000000000000ull, 8));
  EXPECT_EQ(Value(c, 0, sql::oid::kFloat4, kBinaryFormat), BigEndian(0x3FC00000u, 4));
  EXPECT_EQ(Value(c, 2, sql::oid::kFloat8, kTextFormat), "Infinity");
  EXPECT_EQ(Value(c, 1, sql::oid::kFloat8, kTextFormat), "-0");
  // A double column described as int8 (sum of integers): whole numbers.
  EXPECT_EQ(Value(c, 0, sql::oid::kInt8, kTextFormat), "1");
}

TEST(ValueFormatTest, TimestamptzBinaryIsMicrosecondsSince2000) {
  ResultColumn c;
  c.type = ColumnType::kTimestamp;
  c.ints = {946684800'000000000, 0, -1, 946684800'000001999};
  c.valid = {1, 1, 1, 1};
  EXPECT_EQ(Value(c, 0, sql::oid::kTimestamptz, kBinaryFormat), std::string(8, '\0'));
  EXPECT_EQ(Value(c, 1, sql::oid::kTimestamptz, kBinaryFormat),
            BigEndian(static_cast<uint64_t>(-kPostgresEpochMicros), 8));
  EXPECT_EQ(Value(c, 2, sql::oid::kTimestamptz, kBinaryFormat),
            BigEndian(static_cast<uint64_t>(-kPostgresEpochMicros - 1), 8));
  EXPECT_EQ(Value(c, 3, sql::oid::kTimestamptz, kBinaryFormat), BigEndian(1, 8));
  EXPECT_EQ(Value(c, 0, sql::oid::kTimestamptz, kTextFormat), "2000-01-01 00:00:00+00");
  EXPECT_EQ(Value(c, 0, sql::oid::kTimestamp, kTextFormat), "2000-01-01 00:00:00");
}

TEST(ValueFormatTest, StringsAreTheirBytesInBothFormats) {
  ResultColumn c;
  c.type = ColumnType::kString;
  c.strings = {"héllo", ""};
  c.valid = {1, 1};
  for (uint32_t oid : {sql::oid::kText, sql::oid::kVarchar, sql::oid::kName}) {
    EXPECT_EQ(Value(c, 0, oid, kTextFormat), "héllo");
    EXPECT_EQ(Value(c, 0, oid, kBinaryFormat), "héllo");
    EXPECT_EQ(Value(c, 1, oid, kBinaryFormat), "");
  }
  EXPECT_TRUE(HasBinaryOutput(sql::oid::kText));
  EXPECT_FALSE(HasBinaryOutput(sql::oid::kNumeric));
  EXPECT_FALSE(HasBinaryOutput(sql::oid::kInterval));
}

TEST(ValueFormatTest, ValidateResultCatchesShortColumns) {
  sql::SqlResult r;
  r.returns_rows = true;
  r.columns = {{"a", sql::oid::kInt8}};
  r.table.rows = 3;
  r.table.columns.push_back(IntColumn({1, 2, 3}));
  EXPECT_TRUE(ValidateResult(r).ok());
  r.table.columns[0].valid.pop_back();
  EXPECT_EQ(PayloadSqlState(ValidateResult(r)), "XX000");
  r.table.columns[0] = IntColumn({1, 2});
  EXPECT_EQ(PayloadSqlState(ValidateResult(r)), "XX000");
  r.table.columns.clear();
  EXPECT_EQ(PayloadSqlState(ValidateResult(r)), "XX000");
}

std::string Param(uint32_t oid, std::string bytes) {
  auto r = BinaryParamToText(oid, bytes, 1);
  return r.ok() ? *r
                : "error " + PayloadSqlState(r.status()) + ": " + std::string(r.status().message());
}

TEST(BinaryParamTest, DecodesToText) {
  EXPECT_EQ(Param(sql::oid::kInt2, BigEndian(0xffff, 2)), "-1");
  EXPECT_EQ(Param(sql::oid::kInt4, BigEndian(42, 4)), "42");
  EXPECT_EQ(Param(sql::oid::kInt4, BigEndian(0x80000000u, 4)), "-2147483648");
  EXPECT_EQ(Param(sql::oid::kOid, BigEndian(0xffffffffu, 4)), "4294967295");
  EXPECT_EQ(Param(sql::oid::kInt8, BigEndian(0x8000000000000000ull, 8)), "-9223372036854775808");
  EXPECT_EQ(Param(sql::oid::kFloat8, BigEndian(std::bit_cast<uint64_t>(1.5), 8)), "1.5");
  EXPECT_EQ(Param(sql::oid::kFloat8, BigEndian(0x7FF8000000000000ull, 8)), "NaN");
  EXPECT_EQ(Param(sql::oid::kFloat8, BigEndian(0xFFF0000000000000ull, 8)), "-Infinity");
  EXPECT_EQ(Param(sql::oid::kFloat4, BigEndian(0x3FC00000u, 4)), "1.5");
  EXPECT_EQ(Param(sql::oid::kBool, std::string(1, '\1')), "true");
  EXPECT_EQ(Param(sql::oid::kBool, std::string(1, '\0')), "false");
  EXPECT_EQ(Param(sql::oid::kText, "abc"), "abc");
  EXPECT_EQ(Param(sql::oid::kVarchar, ""), "");
  EXPECT_EQ(Param(sql::oid::kTimestamptz, std::string(8, '\0')), "2000-01-01 00:00:00+00");
  EXPECT_EQ(Param(sql::oid::kTimestamp, BigEndian(1500000, 8)), "2000-01-01 00:00:01.5");
  EXPECT_EQ(Param(sql::oid::kTimestamptz, BigEndian(static_cast<uint64_t>(-1), 8)),
            "1999-12-31 23:59:59.999999+00");
  EXPECT_EQ(
      Param(sql::oid::kTimestamptz, BigEndian(static_cast<uint64_t>(-kPostgresEpochMicros), 8)),
      "1970-01-01 00:00:00+00");
  // 0001-01-01 is the first year AD; the microsecond before is 1 BC.
  const int64_t year1 = -730119LL * 86400'000000;
  EXPECT_EQ(Param(sql::oid::kTimestamptz, BigEndian(static_cast<uint64_t>(year1), 8)),
            "0001-01-01 00:00:00+00");
  EXPECT_EQ(Param(sql::oid::kTimestamptz, BigEndian(static_cast<uint64_t>(year1 - 1), 8)),
            "0001-12-31 23:59:59.999999+00 BC");
  EXPECT_EQ(Param(sql::oid::kTimestamptz, BigEndian(0x7fffffffffffffffull, 8)), "infinity");
  EXPECT_EQ(Param(sql::oid::kTimestamptz, BigEndian(0x8000000000000000ull, 8)), "-infinity");
  // Far-future microseconds do not overflow on the way to a date.
  EXPECT_EQ(Param(sql::oid::kTimestamptz, BigEndian(0x7ffffffffffffffeull, 8)),
            "294277-01-09 04:00:54.775806+00");
}

TEST(BinaryParamTest, ErrorsNameTheProblem) {
  EXPECT_EQ(Param(sql::oid::kInt4, "abc").substr(0, 12), "error 22P03:");
  EXPECT_EQ(Param(sql::oid::kInt8, BigEndian(1, 4)).substr(0, 12), "error 22P03:");
  EXPECT_EQ(Param(sql::oid::kBool, "").substr(0, 12), "error 22P03:");
  EXPECT_EQ(Param(sql::oid::kFloat8, std::string(9, '\0')).substr(0, 12), "error 22P03:");
  const std::string numeric = Param(sql::oid::kNumeric, std::string(8, '\0'));
  EXPECT_EQ(numeric.substr(0, 12), "error 0A000:");
  EXPECT_NE(numeric.find("1700"), std::string::npos) << numeric;
  EXPECT_EQ(Param(sql::oid::kUnspecified, "x").substr(0, 12), "error 0A000:");
  EXPECT_EQ(Param(sql::oid::kText, "\xff\xfe").substr(0, 12), "error 22021:");
  EXPECT_EQ(Param(sql::oid::kText, std::string("a\0b", 3)).substr(0, 12), "error 22021:");
}

// json, uuid and arrays arrive as canonical text (sql/value.h) in a column of
// their own type; PostgreSQL's forms are made here.
ResultColumn TypedColumn(ColumnType type, std::vector<std::string_view> values) {
  ResultColumn c;
  c.type = type;
  c.strings = std::move(values);
  c.valid.assign(c.strings.size(), 1);
  return c;
}

TEST(TypedValueFormatTest, TextFormsArePostgresOnes) {
  auto j = TypedColumn(ColumnType::kJson, {R"({"a":[1,"x"]})"});
  EXPECT_EQ(Value(j, 0, sql::oid::kJson, kTextFormat), R"({"a":[1,"x"]})");
  EXPECT_EQ(Value(j, 0, sql::oid::kJson, kBinaryFormat), R"({"a":[1,"x"]})");
  auto u = TypedColumn(ColumnType::kUuid, {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"});
  EXPECT_EQ(Value(u, 0, sql::oid::kUuid, kTextFormat), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  auto d = TypedColumn(ColumnType::kDoubleArray, {"[1,2.5,-0.001]", "[]"});
  EXPECT_EQ(Value(d, 0, sql::oid::kFloat8Array, kTextFormat), "{1,2.5,-0.001}");
  EXPECT_EQ(Value(d, 1, sql::oid::kFloat8Array, kTextFormat), "{}");
  auto t = TypedColumn(ColumnType::kStringArray, {R"(["a b","c","","NULL","q\"\\"])"});
  EXPECT_EQ(Value(t, 0, sql::oid::kTextArray, kTextFormat), R"({"a b",c,"","NULL","q\"\\"})");
  auto b = TypedColumn(ColumnType::kBooleanArray, {"[true,false]"});
  EXPECT_EQ(Value(b, 0, sql::oid::kBoolArray, kTextFormat), "{t,f}");
  auto i = TypedColumn(ColumnType::kIntegerArray, {"[-9223372036854775808,3]"});
  EXPECT_EQ(Value(i, 0, sql::oid::kInt8Array, kTextFormat), "{-9223372036854775808,3}");
  for (uint32_t oid : {sql::oid::kJson, sql::oid::kUuid, sql::oid::kFloat8Array,
                       sql::oid::kInt8Array, sql::oid::kTextArray, sql::oid::kBoolArray}) {
    EXPECT_TRUE(HasBinaryOutput(oid)) << oid;
  }
}

TEST(TypedValueFormatTest, BinaryUuidIsSixteenBytes) {
  auto u = TypedColumn(ColumnType::kUuid, {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"});
  EXPECT_EQ(Value(u, 0, sql::oid::kUuid, kBinaryFormat),
            BigEndian(0xa0eebc999c0b4ef8ull, 8) + BigEndian(0xbb6d6bb9bd380a11ull, 8));
}

TEST(TypedValueFormatTest, BinaryArraysAreArraySend) {
  auto i = TypedColumn(ColumnType::kIntegerArray, {"[1,-2]", "[]"});
  EXPECT_EQ(Value(i, 0, sql::oid::kInt8Array, kBinaryFormat),
            BigEndian(1, 4) + BigEndian(0, 4) + BigEndian(sql::oid::kInt8, 4) + BigEndian(2, 4) +
                BigEndian(1, 4) + BigEndian(8, 4) + BigEndian(1, 8) + BigEndian(8, 4) +
                BigEndian(static_cast<uint64_t>(-2), 8));
  EXPECT_EQ(Value(i, 1, sql::oid::kInt8Array, kBinaryFormat),
            BigEndian(0, 4) + BigEndian(0, 4) + BigEndian(sql::oid::kInt8, 4));
  auto t = TypedColumn(ColumnType::kStringArray, {R"(["ab"])"});
  EXPECT_EQ(Value(t, 0, sql::oid::kTextArray, kBinaryFormat),
            BigEndian(1, 4) + BigEndian(0, 4) + BigEndian(sql::oid::kText, 4) + BigEndian(1, 4) +
                BigEndian(1, 4) + BigEndian(2, 4) + "ab");
  auto d = TypedColumn(ColumnType::kDoubleArray, {"[1.5]"});
  EXPECT_EQ(Value(d, 0, sql::oid::kFloat8Array, kBinaryFormat),
            BigEndian(1, 4) + BigEndian(0, 4) + BigEndian(sql::oid::kFloat8, 4) + BigEndian(1, 4) +
                BigEndian(1, 4) + BigEndian(8, 4) + BigEndian(std::bit_cast<uint64_t>(1.5), 8));
  auto b = TypedColumn(ColumnType::kBooleanArray, {"[true]"});
  EXPECT_EQ(Value(b, 0, sql::oid::kBoolArray, kBinaryFormat),
            BigEndian(1, 4) + BigEndian(0, 4) + BigEndian(sql::oid::kBool, 4) + BigEndian(1, 4) +
                BigEndian(1, 4) + BigEndian(1, 4) + std::string(1, '\1'));
}

// A stored array or uuid that is not canonical text is an error naming the
// column and row (XX001 data_corrupted), in either format, not an empty
// array {} or garbage bytes sent as if they were the value.
TEST(TypedValueFormatTest, StoredTextThatDoesNotParseIsDataCorrupted) {
  auto d = TypedColumn(ColumnType::kDoubleArray, {"[1]", "[1,", "[1.0]", "{1}"});
  d.name = "vals";
  for (size_t row : {1, 2, 3}) {
    for (int16_t format : {kTextFormat, kBinaryFormat}) {
      std::string out;
      absl::Status s = AppendValue(d, row, sql::oid::kFloat8Array, format, &out);
      ASSERT_FALSE(s.ok()) << row << " " << format;
      EXPECT_EQ(PayloadSqlState(s), "XX001");
      EXPECT_EQ(s.message(), StrCat("row ", row + 1,
                                    " of result column \"vals\" holds stored text that is not "
                                    "a double precision[] value: \"",
                                    d.strings[row], "\""));
    }
  }
  auto t = TypedColumn(ColumnType::kStringArray, {R"(["a)", R"([1])"});
  t.name = "tags";
  std::string out;
  EXPECT_EQ(PayloadSqlState(AppendValue(t, 0, sql::oid::kTextArray, kBinaryFormat, &out)), "XX001");
  EXPECT_EQ(PayloadSqlState(AppendValue(t, 1, sql::oid::kTextArray, kTextFormat, &out)), "XX001");
  auto u = TypedColumn(ColumnType::kUuid, {"not-a-uuid"});
  u.name = "id";
  absl::Status s = AppendValue(u, 0, sql::oid::kUuid, kBinaryFormat, &out);
  EXPECT_EQ(PayloadSqlState(s), "XX001");
  EXPECT_NE(s.message().find("result column \"id\""), absl::string_view::npos) << s;
  // The first, canonical row is still sent.
  EXPECT_EQ(Value(d, 0, sql::oid::kFloat8Array, kTextFormat), "{1}");
}

TEST(TypedValueFormatTest, BinaryParamsOfTheNewTypes) {
  EXPECT_EQ(Param(sql::oid::kUuid,
                  BigEndian(0xa0eebc999c0b4ef8ull, 8) + BigEndian(0xbb6d6bb9bd380a11ull, 8)),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(Param(sql::oid::kUuid, "short").substr(0, 12), "error 22P03:");
  EXPECT_EQ(Param(sql::oid::kJson, R"({"a":1})"), R"({"a":1})");
  EXPECT_EQ(Param(sql::oid::kJsonb, std::string(1, '\1') + "[1]"), "[1]");
  EXPECT_EQ(Param(sql::oid::kJsonb, std::string(1, '\2') + "[1]").substr(0, 12), "error 22P03:");
  // int4[] {7,-1}: read as the JSON array the SQL layer's array input takes.
  EXPECT_EQ(Param(sql::oid::kInt4Array, BigEndian(1, 4) + BigEndian(0, 4) +
                                            BigEndian(sql::oid::kInt4, 4) + BigEndian(2, 4) +
                                            BigEndian(1, 4) + BigEndian(4, 4) + BigEndian(7, 4) +
                                            BigEndian(4, 4) + BigEndian(0xffffffffu, 4)),
            "[7,-1]");
  EXPECT_EQ(Param(sql::oid::kTextArray, BigEndian(1, 4) + BigEndian(0, 4) +
                                            BigEndian(sql::oid::kText, 4) + BigEndian(1, 4) +
                                            BigEndian(1, 4) + BigEndian(3, 4) + "a\"b"),
            R"(["a\"b"])");
  // A NULL element (length -1) is refused: arrays hold none here.
  EXPECT_EQ(Param(sql::oid::kInt8Array, BigEndian(1, 4) + BigEndian(1, 4) +
                                            BigEndian(sql::oid::kInt8, 4) + BigEndian(1, 4) +
                                            BigEndian(1, 4) + BigEndian(0xffffffffu, 4))
                .substr(0, 12),
            "error 22P03:");
}

TEST(Utf8Test, AcceptsWellFormedOnly) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\x80"));              // stray continuation
  EXPECT_FALSE(IsValidUtf8(std::string(1, '\0')));
}

}  // namespace
}  // namespace timestore::pgwire
