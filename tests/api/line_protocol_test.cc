// InfluxDB line protocol parsing: the grammar (escapes, every field type and
// boolean spelling, comments, CRLF, optional timestamps, precisions), the
// measurement-to-dataset mapping, the series cache, and the errors, each
// naming the line.
#include "api/line_protocol.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "common/status_util.h"
#include "tests/api/ingest_test_util.h"

namespace timestore::api {
namespace {

using ::testing::HasSubstr;
using ::timestore::api::testing::Col;
using ::timestore::api::testing::Str;
using ::timestore::api::testing::TypeOf;

LineProtocolOptions Options(std::string prefix = "db_") {
  LineProtocolOptions o;
  o.dataset_prefix = std::move(prefix);
  o.now_ns = 777;
  return o;
}

std::vector<IngestRequest> MustParse(std::string_view body,
                                     const LineProtocolOptions& o = Options()) {
  auto r = ParseLineProtocol(body, o);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : std::vector<IngestRequest>{};
}

std::string ErrorOf(std::string_view body, const LineProtocolOptions& o = Options()) {
  auto r = ParseLineProtocol(body, o);
  EXPECT_FALSE(r.ok()) << body;
  return r.ok() ? "" : std::string(r.status().message());
}

TEST(LineProtocolTest, EveryFieldTypeAndTags) {
  auto reqs = MustParse(
      "cpu,host=a,region=eu f=1.5,i=-3i,u=7u,b=true,s=\"hi\" 1700000000000000000\n"
      "cpu,host=b f=2,i=4i,u=0u,b=F,s=\"\" 1700000000000000001\n");
  ASSERT_EQ(reqs.size(), 1u);
  const IngestRequest& r = reqs[0];
  EXPECT_EQ(r.slug, "db_cpu");
  EXPECT_EQ(r.time_column, "timestamp");
  ASSERT_EQ(r.rows, 2u);
  EXPECT_EQ(TypeOf(r, "host"), ColumnType::kString);
  EXPECT_EQ(TypeOf(r, "f"), ColumnType::kDouble);
  EXPECT_EQ(TypeOf(r, "i"), ColumnType::kInteger);
  EXPECT_EQ(TypeOf(r, "u"), ColumnType::kInteger);
  EXPECT_EQ(TypeOf(r, "b"), ColumnType::kBoolean);
  EXPECT_EQ(TypeOf(r, "s"), ColumnType::kString);
  EXPECT_EQ(Str(Col(r, "host"), 0), "a");
  EXPECT_EQ(Str(Col(r, "host"), 1), "b");
  EXPECT_EQ(Str(Col(r, "region"), 0), "eu");
  EXPECT_TRUE(Col(r, "region").IsNull(1));
  EXPECT_EQ(Col(r, "f").doubles[0], 1.5);
  EXPECT_EQ(Col(r, "f").doubles[1], 2.0);
  EXPECT_EQ(Col(r, "i").ints[0], -3);
  EXPECT_EQ(Col(r, "u").ints[0], 7);
  EXPECT_EQ(Col(r, "b").bools[0], 1);
  EXPECT_EQ(Col(r, "b").bools[1], 0);
  EXPECT_EQ(Str(Col(r, "s"), 0), "hi");
  EXPECT_EQ(Str(Col(r, "s"), 1), "");
  EXPECT_EQ(Col(r, "timestamp").ints[0], 1700000000000000000);
  EXPECT_EQ(Col(r, "timestamp").ints[1], 1700000000000000001);
}

TEST(LineProtocolTest, EveryBooleanSpelling) {
  std::string body;
  const char* spellings[] = {"t", "T", "true", "True", "TRUE", "f", "F", "false", "False", "FALSE"};
  for (const char* s : spellings) body += std::string("m v=") + s + " 1\n";
  auto reqs = MustParse(body);
  ASSERT_EQ(reqs.size(), 1u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(reqs[0].columns.back().bools[i], i < 5 ? 1 : 0) << i;
  EXPECT_THAT(ErrorOf("m v=yes 1\n"), HasSubstr("bad value \"yes\""));
  EXPECT_THAT(ErrorOf("m v=tru 1\n"), HasSubstr("line 1"));
}

TEST(LineProtocolTest, Escapes) {
  auto reqs = MustParse(
      "my\\ meas\\,ure=x,ta\\ g\\=k=va\\,l\\ u\\=e fi\\=eld\\ k=\"q\\\"uo\\\\te\\n\" 5\n");
  ASSERT_EQ(reqs.size(), 1u);
  const IngestRequest& r = reqs[0];
  // Measurement "my meas,ure=x" maps to a slug with '_' for the odd bytes.
  EXPECT_EQ(r.slug, "db_my_meas_ure_x");
  EXPECT_EQ(Str(Col(r, "ta g=k"), 0), "va,l u=e");
  // In a string, only \" and \\ are escapes; "\n" stays a backslash and n.
  EXPECT_EQ(Str(Col(r, "fi=eld k"), 0), "q\"uo\\te\\n");
}

TEST(LineProtocolTest, StringsMayHoldNewlinesAndSeparators) {
  auto reqs = MustParse("log msg=\"a b,c=d\nsecond line\" 1\nlog msg=\"x\" 2\n");
  ASSERT_EQ(reqs.size(), 1u);
  ASSERT_EQ(reqs[0].rows, 2u);
  EXPECT_EQ(Str(Col(reqs[0], "msg"), 0), "a b,c=d\nsecond line");
  // Line numbers count the newline inside the string.
  EXPECT_THAT(ErrorOf("log msg=\"a\nb\" 1\nlog msg=bad 2\n"), HasSubstr("line 3"));
}

TEST(LineProtocolTest, CommentsBlankLinesCrlfAndMissingTimestamps) {
  auto reqs = MustParse("# a comment\n\n  \r\nm v=1 10\r\nm v=2\r\nm v=3   \n# end");
  ASSERT_EQ(reqs.size(), 1u);
  ASSERT_EQ(reqs[0].rows, 3u);
  const ColumnVector& t = Col(reqs[0], "timestamp");
  EXPECT_EQ(t.ints[0], 10);
  EXPECT_EQ(t.ints[1], 777);  // the server's time
  EXPECT_EQ(t.ints[2], 777);
  EXPECT_TRUE(MustParse("").empty());
  EXPECT_TRUE(MustParse("\n# only a comment\n").empty());
}

TEST(LineProtocolTest, Precisions) {
  struct Case {
    std::string_view name;
    int64_t ns;
  } cases[] = {{"", 1},           {"n", 1},           {"ns", 1},
               {"u", 1000},       {"us", 1000},       {"ms", 1000000},
               {"s", 1000000000}, {"m", 60000000000}, {"h", 3600000000000}};
  for (const auto& c : cases) {
    auto p = ParseInfluxPrecision(c.name);
    ASSERT_TRUE(p.has_value()) << c.name;
    EXPECT_EQ(*p, c.ns) << c.name;
    LineProtocolOptions o = Options();
    o.precision_ns = *p;
    auto reqs = MustParse("m v=1 3\n", o);
    EXPECT_EQ(Col(reqs[0], "timestamp").ints[0], 3 * c.ns) << c.name;
  }
  EXPECT_FALSE(ParseInfluxPrecision("rfc3339").has_value());
  LineProtocolOptions o = Options();
  o.precision_ns = 3600000000000;
  EXPECT_THAT(ErrorOf("m v=1 9000000000\n", o), HasSubstr("out of range"));
  EXPECT_EQ(Col(MustParse("m v=1 -5\n")[0], "timestamp").ints[0], -5);
}

TEST(LineProtocolTest, MeasurementsBecomeDatasets) {
  auto reqs = MustParse("cpu,h=a v=1 1\nMEM free=2i 1\ncpu,h=b v=3 2\nCpu v=4 3\n");
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].slug, "db_cpu");
  EXPECT_EQ(reqs[0].rows, 3u);  // "Cpu" lower-cases onto "cpu"
  EXPECT_EQ(reqs[1].slug, "db_mem");
  EXPECT_EQ(reqs[1].rows, 1u);
  EXPECT_EQ(*MeasurementSlug("telegraf_", "disk.io"), "telegraf_disk_io");
  EXPECT_EQ(*MeasurementSlug("", "_internal"), "minternal");
  EXPECT_FALSE(MeasurementSlug("x_", std::string(70, 'a')).ok());
  EXPECT_THAT(ErrorOf(std::string(70, 'a') + " v=1 1\n"), HasSubstr("longer than 64"));
  // At most 1000 measurements (datasets) per body; 1000 is fine.
  std::string many;
  for (int i = 0; i < 1001; ++i) many += "m" + std::to_string(i) + " v=1 1\n";
  EXPECT_THAT(ErrorOf(many),
              HasSubstr("line 1001, measurement \"m1000\": the body names more than 1000"));
  many.resize(many.rfind("m1000"));
  EXPECT_EQ(MustParse(many).size(), 1000u);
}

TEST(LineProtocolTest, SeriesCacheKeepsColumnsRight) {
  // Many lines of few series, with a column appearing midway and a field
  // order change: cached tag ids must land in the right rows.
  std::string body;
  for (int i = 0; i < 1000; ++i) {
    std::string host = "h" + std::to_string(i % 7);
    if (i < 500) {
      body += "cpu,host=" + host + ",dc=x v=" + std::to_string(i) + " " + std::to_string(i) + "\n";
    } else {
      body += "cpu,host=" + host + ",dc=x,extra=e" + std::to_string(i % 3) +
              " w=" + std::to_string(i) + "i,v=" + std::to_string(i) + " " + std::to_string(i) +
              "\n";
    }
  }
  auto reqs = MustParse(body);
  ASSERT_EQ(reqs.size(), 1u);
  const IngestRequest& r = reqs[0];
  ASSERT_EQ(r.rows, 1000u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(Str(Col(r, "host"), i), "h" + std::to_string(i % 7)) << i;
    EXPECT_EQ(Str(Col(r, "dc"), i), "x");
    EXPECT_EQ(Col(r, "v").doubles[i], i);
    if (i < 500) {
      EXPECT_TRUE(Col(r, "extra").IsNull(i));
      EXPECT_TRUE(Col(r, "w").IsNull(i));
    } else {
      EXPECT_EQ(Str(Col(r, "extra"), i), "e" + std::to_string(i % 3));
      EXPECT_EQ(Col(r, "w").ints[i], i);
    }
  }
}

TEST(LineProtocolTest, TypeConflicts) {
  EXPECT_THAT(ErrorOf("m v=1 1\nm v=2i 2\n"),
              HasSubstr("line 2, measurement \"m\", field \"v\": type conflict: integer here, "
                        "but float (double) in an earlier line"));
  EXPECT_THAT(ErrorOf("m,v=a x=1 1\nm v=2 2\n"), HasSubstr("type conflict"));
  // Against the stored schema.
  LineProtocolOptions o = Options();
  auto schema = std::make_shared<Schema>();
  schema->time_column = "ts";
  schema->fields = {Field{"ts", ColumnType::kTimestamp}, Field{"v", ColumnType::kInteger},
                    Field{"other", ColumnType::kDouble}};
  o.schema_of = [schema](const std::string& slug) { return slug == "db_m" ? schema : SchemaPtr(); };
  EXPECT_THAT(ErrorOf("m v=1.5 1\n", o),
              HasSubstr("float (double) here, but integer in dataset \"db_m\""));
  auto reqs = MustParse("m v=1i 1\n", o);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].time_column, "ts");
  EXPECT_EQ(Col(reqs[0], "ts").ints[0], 1);
  for (const auto& f : reqs[0].fields) EXPECT_NE(f.name, "other");  // untouched: left out
  EXPECT_THAT(ErrorOf("m ts=1 1\n", o), HasSubstr("has the name of the time column"));
  EXPECT_THAT(ErrorOf("n,timestamp=x v=1 1\n"), HasSubstr("has the name of the time column"));
}

TEST(LineProtocolTest, ErrorsNameTheLine) {
  struct Case {
    std::string body;
    std::string want;
  } cases[] = {
      {"m\n", "line 2: missing fields"},
      {"m 1\n", "line 2: field \"1\" has no '=' and value"},
      {"m,t v=1\n", "tag \"t\" has no '=' and value"},
      {"m,t= v=1\n", "tag \"t\" has an empty value"},
      {"m,=x v=1\n", "missing tag key"},
      {"m v=\n", "field \"v\" has no value"},
      {"m =1\n", "missing field key"},
      {"m v=1,\n", "has no '=' and value"},
      {"m v=1x\n", "bad value \"1x\""},
      {"m v=nan\n", "bad value \"nan\""},
      {"m v=inf\n", "bad value \"inf\""},
      {"m v=+1\n", "bad value \"+1\""},
      {"m v=1.2.3\n", "bad value \"1.2.3\""},
      {"m v=1e999\n", "out of range"},
      {"m v=9223372036854775808i\n", "integer 9223372036854775808i is out of range"},
      {"m v=-1u\n", "bad unsigned integer"},
      {"m v=9223372036854775808u\n", "is above 9223372036854775807"},
      {"m v=1i2\n", "bad value"},
      {"m v=\"open\n", "unterminated string"},
      {"m v=\"a\"b\n", "unexpected text after the value"},
      {"m v=1 12x\n", "bad timestamp \"12x\""},
      {"m v=1 1 2\n", "unexpected text after the timestamp"},
      {"m v=1,v=2 1\n", "\"v\" is given twice"},
      {"m,t=a,t=b v=1 1\n", "\"t\" is given twice"},
      {",t=a v=1\n", "missing measurement"},
  };
  for (const auto& c : cases) {
    auto r = ParseLineProtocol("ok v=1 1\n" + c.body, Options());
    ASSERT_FALSE(r.ok()) << c.body;
    std::string msg(r.status().message());
    EXPECT_THAT(msg, HasSubstr(c.want)) << c.body;
    EXPECT_THAT(msg, HasSubstr("line 2")) << c.body;
    EXPECT_EQ(ErrorCodeOf(r.status()), c.want.find("range") != std::string::npos ||
                                               c.want.find("twice") != std::string::npos ||
                                               c.want.find("above") != std::string::npos
                                           ? "invalid_value"
                                           : "invalid_line")
        << c.body;
  }
}

// Floats take a fast path for short decimals; every spelling must give the
// double strtod gives, bit for bit.
TEST(LineProtocolTest, FloatsMatchStrtod) {
  std::mt19937_64 rng(7);
  std::string body;
  std::vector<std::string> texts;
  for (int i = 0; i < 20000; ++i) {
    std::string t;
    if (rng() % 2) t.push_back('-');
    int int_digits = static_cast<int>(rng() % 18);
    for (int k = 0; k < int_digits; ++k) t.push_back(static_cast<char>('0' + rng() % 10));
    if (int_digits == 0 || rng() % 2) {
      t.push_back('.');
      int frac = static_cast<int>(rng() % 25) + (int_digits == 0 ? 1 : 0);
      for (int k = 0; k < frac; ++k) t.push_back(static_cast<char>('0' + rng() % 10));
    }
    if (rng() % 10 == 0) t += "e" + std::to_string(static_cast<int>(rng() % 500) - 250);
    texts.push_back(t);
    body += "m v=" + t + " " + std::to_string(i) + "\n";
  }
  auto reqs = MustParse(body);
  ASSERT_EQ(reqs.size(), 1u);
  const ColumnVector& v = Col(reqs[0], "v");
  for (size_t i = 0; i < texts.size(); ++i) {
    double want = std::strtod(texts[i].c_str(), nullptr);
    uint64_t a, b;
    std::memcpy(&a, &want, 8);
    std::memcpy(&b, &v.doubles[i], 8);
    EXPECT_EQ(a, b) << texts[i];
  }
}

}  // namespace
}  // namespace timestore::api
