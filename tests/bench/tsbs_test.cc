// The TSBS harness's pure parts: query generator, result checksum, reference answers and
// the Timestore query translation (bench/tsbs/).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "bench/tsbs/checksum.h"
#include "bench/tsbs/cpu_generator.h"
#include "bench/tsbs/queries.h"
#include "bench/tsbs/reference.h"
#include "bench/tsbs/timestore_client.h"

namespace timestore::bench::tsbs {
namespace {

constexpr int64_t kS = kNanosPerSecond;

QueryDataSpec DaySpec() {
  QueryDataSpec s;
  s.hosts = 100;
  s.start_ns = kDefaultStartNs;
  s.duration_ns = 86400 * kS;
  return s;
}

std::vector<std::string> Lines(const QueryDataSpec& spec, uint64_t seed, int64_t count) {
  std::vector<std::string> out;
  for (const std::string& type : AllQueryTypes()) {
    for (const Query& q : GenerateQueries(spec, type, count, seed)) {
      out.push_back(QueryToJsonLine(q));
    }
  }
  return out;
}

TEST(TsbsChecksumTest, FormatsValues) {
  EXPECT_EQ(FormatChecksumValue(std::nullopt), "null");
  EXPECT_EQ(FormatChecksumValue(-0.0), "0.0000");
  EXPECT_EQ(FormatChecksumValue(58), "58.0000");
  EXPECT_EQ(FormatChecksumValue(0.123456), "0.1235");
  EXPECT_EQ(FormatChecksumValue(-1.5), "-1.5000");
  EXPECT_EQ(ChecksumLine({1451606400, "host_3", {1, std::nullopt}}),
            "1451606400|host_3|1.0000,null");
  EXPECT_EQ(FloorSeconds(1451606400'999999999), 1451606400);
  EXPECT_EQ(FloorSeconds(-1), -1);
}

// The digests were computed independently with Python's xxhash (xxh3_64_hexdigest) over
// the text the README's rule gives, so the peer scripts' Python matches this code.
TEST(TsbsChecksumTest, FixedExampleHasKnownDigests) {
  std::vector<ResultRow> rows = {{1451606460, "host_1", {std::nullopt, 0.123456}},
                                 {1451606400, "", {58.0, -0.0}},
                                 {1451606400, "host_0", {99.99995, -1.5}},
                                 {1451606400, "host_10", {1e-9, 100.0}}};
  EXPECT_EQ(CanonicalResultText(rows),
            "1451606400|host_0|99.9999,-1.5000\n"
            "1451606400|host_10|0.0000,100.0000\n"
            "1451606400||58.0000,0.0000\n"
            "1451606460|host_1|null,0.1235\n");
  const std::string d1 = InstanceDigest(rows);
  const std::string d0 = InstanceDigest({});
  EXPECT_EQ(d1, "ef8200f8045dbc65");
  EXPECT_EQ(d0, "2d06800538d394c2");  // XXH3 of the empty text
  EXPECT_EQ(TypeChecksum({d1, d0}), "5b65fc1d2d9c3502");
  // Row order does not matter.
  std::reverse(rows.begin(), rows.end());
  EXPECT_EQ(InstanceDigest(rows), d1);
}

TEST(TsbsQueriesTest, FifteenTypesInCanonicalOrder) {
  const std::vector<std::string> expected = {"single-groupby-1-1-1",  "single-groupby-1-1-12",
                                             "single-groupby-1-8-1",  "single-groupby-5-1-1",
                                             "single-groupby-5-1-12", "single-groupby-5-8-1",
                                             "cpu-max-all-1",         "cpu-max-all-8",
                                             "double-groupby-1",      "double-groupby-5",
                                             "double-groupby-all",    "high-cpu-1",
                                             "high-cpu-all",          "lastpoint",
                                             "groupby-orderby-limit"};
  EXPECT_EQ(AllQueryTypes(), expected);
  EXPECT_TRUE(IsQueryType("lastpoint"));
  EXPECT_FALSE(IsQueryType("single-groupby-1-1-2"));
}

TEST(TsbsQueriesTest, DeterministicForASeedAndPrefixStable) {
  const auto a = Lines(DaySpec(), 123, 10);
  EXPECT_EQ(a, Lines(DaySpec(), 123, 10));
  EXPECT_NE(a, Lines(DaySpec(), 124, 10));
  // The first instances do not depend on the count, nor on the other types.
  for (const std::string& type : AllQueryTypes()) {
    auto three = GenerateQueries(DaySpec(), type, 3, 123);
    auto ten = GenerateQueries(DaySpec(), type, 10, 123);
    for (size_t i = 0; i < three.size(); ++i) {
      EXPECT_EQ(QueryToJsonLine(three[i]), QueryToJsonLine(ten[i])) << type;
    }
  }
}

TEST(TsbsQueriesTest, JsonLineFormat) {
  Query q;
  q.type = "single-groupby-1-1-1";
  q.hosts = {"host_3"};
  q.fields = {"usage_user"};
  q.start_ns = 1451606407 * kS;
  q.end_ns = 1451610007 * kS;
  q.bucket_ns = 60 * kS;
  q.agg = Agg::kMax;
  EXPECT_EQ(QueryToJsonLine(q),
            "{\"type\":\"single-groupby-1-1-1\",\"hosts\":[\"host_3\"],\"fields\":[\"usage_user\"],"
            "\"start\":1451606407000000000,\"end\":1451610007000000000,\"bucket\":\"1m\","
            "\"agg\":\"max\",\"groupByHost\":false,\"threshold\":null,\"limit\":null}");
  q.type = "high-cpu-all";
  q.hosts.clear();
  q.bucket_ns = 0;
  q.agg = Agg::kNone;
  q.group_by_host = true;
  q.threshold = 90;
  q.limit = 5;
  EXPECT_NE(QueryToJsonLine(q).find("\"hosts\":[],"), std::string::npos);
  EXPECT_NE(QueryToJsonLine(q).find(
                "\"bucket\":null,\"agg\":null,\"groupByHost\":true,\"threshold\":90,\"limit\":5}"),
            std::string::npos);
}

struct Expect {
  int hosts;  // 0 = all
  int fields;
  int64_t window_s;  // 0: lastpoint / groupby-orderby-limit
  int64_t bucket_s;
};

Expect ExpectFor(const std::string& t) {
  if (t == "single-groupby-1-1-1") return {1, 1, 3600, 60};
  if (t == "single-groupby-1-1-12") return {1, 1, 12 * 3600, 60};
  if (t == "single-groupby-1-8-1") return {8, 1, 3600, 60};
  if (t == "single-groupby-5-1-1") return {1, 5, 3600, 60};
  if (t == "single-groupby-5-1-12") return {1, 5, 12 * 3600, 60};
  if (t == "single-groupby-5-8-1") return {8, 5, 3600, 60};
  if (t == "cpu-max-all-1") return {1, 10, 8 * 3600, 3600};
  if (t == "cpu-max-all-8") return {8, 10, 8 * 3600, 3600};
  if (t == "double-groupby-1") return {0, 1, 12 * 3600, 3600};
  if (t == "double-groupby-5") return {0, 5, 12 * 3600, 3600};
  if (t == "double-groupby-all") return {0, 10, 12 * 3600, 3600};
  if (t == "high-cpu-1") return {1, 10, 12 * 3600, 0};
  if (t == "high-cpu-all") return {0, 10, 12 * 3600, 0};
  if (t == "lastpoint") return {0, 10, 0, 0};
  return {0, 1, 0, 60};  // groupby-orderby-limit
}

TEST(TsbsQueriesTest, WindowsLieInsideTheDataUnalignedAndHalfOpen) {
  for (const QueryDataSpec& spec : {DaySpec(), QueryDataSpec{4, kDefaultStartNs, 3600 * kS}}) {
    const int64_t data_end = spec.start_ns + spec.duration_ns;
    for (const std::string& type : AllQueryTypes()) {
      const Expect e = ExpectFor(type);
      std::set<int64_t> starts;
      for (const Query& q : GenerateQueries(spec, type, 200, 7)) {
        SCOPED_TRACE(QueryToJsonLine(q));
        EXPECT_EQ(q.type, type);
        EXPECT_EQ(q.fields.size(), static_cast<size_t>(e.fields));
        for (int f = 0; f < e.fields; ++f) EXPECT_EQ(q.fields[f], kFieldNames[f]);
        EXPECT_EQ(q.bucket_ns, e.bucket_s * kS);
        const size_t want_hosts =
            e.hosts == 0 ? 0 : static_cast<size_t>(std::min<int64_t>(e.hosts, spec.hosts));
        ASSERT_EQ(q.hosts.size(), want_hosts);
        EXPECT_EQ(std::set<std::string>(q.hosts.begin(), q.hosts.end()).size(), want_hosts);
        for (const std::string& h : q.hosts) {
          EXPECT_LT(std::stoll(h.substr(5)), spec.hosts);
        }
        EXPECT_GE(q.start_ns, spec.start_ns);
        EXPECT_LE(q.end_ns, data_end);
        EXPECT_LT(q.start_ns, q.end_ns);
        EXPECT_EQ(q.start_ns % kS, 0);
        EXPECT_EQ(q.end_ns % kS, 0);
        if (type == "lastpoint") {
          EXPECT_EQ(q.start_ns, spec.start_ns);
          EXPECT_EQ(q.end_ns, data_end);
        } else if (type == "groupby-orderby-limit") {
          EXPECT_EQ(q.start_ns, spec.start_ns);
          EXPECT_EQ(q.limit, 5);
          EXPECT_NE((q.end_ns - spec.start_ns) % (10 * kS), 0);  // never on a row
        } else {
          // Never on a row timestamp (nor a minute or hour): an inclusive and an exclusive
          // edge select the same rows, so only half-openness is tested, not luck.
          EXPECT_NE((q.start_ns - spec.start_ns) % (10 * kS), 0);
          EXPECT_NE((q.end_ns - spec.start_ns) % (10 * kS), 0);
          const int64_t want = std::min(e.window_s, spec.duration_ns / kS - 10) * kS;
          EXPECT_EQ(q.end_ns - q.start_ns, want);
          starts.insert(q.start_ns);
        }
        EXPECT_EQ(q.threshold.has_value(), type.starts_with("high-cpu"));
      }
      if (!starts.empty() && spec.duration_ns > 86000 * kS) {
        EXPECT_GT(starts.size(), 150u) << type;  // spread over the day
      }
    }
  }
}

Options SmallData() {
  Options o;
  o.hosts = 5;
  o.duration_ns = 2 * 3600 * kS;
  o.seed = 9;
  return o;
}

TEST(TsbsReferenceTest, RawWindowIsHalfOpen) {
  ReferenceData data(SmallData());
  Query q;
  q.kind = QueryKind::kHighCpu;
  q.fields = {"usage_user"};
  q.hosts = {"host_2"};
  q.group_by_host = true;
  q.threshold = -1;                        // every row
  q.start_ns = kDefaultStartNs + 10 * kS;  // on a row: included
  q.end_ns = kDefaultStartNs + 40 * kS;    // on a row: excluded
  auto rows = data.Evaluate(q);
  ASSERT_EQ(rows.size(), 3u);
  std::sort(rows.begin(), rows.end(),
            [](const ResultRow& a, const ResultRow& b) { return a.t_s < b.t_s; });
  EXPECT_EQ(rows[0].t_s, kDefaultStartNs / kS + 10);
  EXPECT_EQ(rows[2].t_s, kDefaultStartNs / kS + 30);
  EXPECT_EQ(rows[0].group, "host_2");
}

TEST(TsbsReferenceTest, AnswersMatchABruteForceOverTheRows) {
  const Options o = SmallData();
  CpuGenerator gen(o);
  std::vector<Row> rows;
  Row r;
  while (gen.Next(&r)) rows.push_back(r);
  ReferenceData data(o);
  QueryDataSpec spec{o.hosts, o.start_ns, o.duration_ns};

  // single-groupby-5-8-1 pools all 5 hosts (8 asked): max per minute.
  Query q = GenerateQueries(spec, "single-groupby-5-8-1", 1, 3)[0];
  auto got = data.Evaluate(q);
  std::map<int64_t, std::vector<double>> want;
  for (const Row& row : rows) {
    if (row.timestamp_ns < q.start_ns || row.timestamp_ns >= q.end_ns) continue;
    auto& m = want[row.timestamp_ns / (60 * kS) * 60];
    if (m.empty()) m.assign(5, -1);
    for (int f = 0; f < 5; ++f) m[f] = std::max(m[f], row.fields[f]);
  }
  ASSERT_EQ(got.size(), want.size());  // 60 buckets, two of them partial
  EXPECT_EQ(got.size(), 61u);
  for (const ResultRow& g : got) {
    EXPECT_EQ(g.group, "");
    for (int f = 0; f < 5; ++f) EXPECT_EQ(*g.values[f], want[g.t_s][f]);
  }

  // lastpoint: every host's last tick.
  q = GenerateQueries(spec, "lastpoint", 1, 3)[0];
  got = data.Evaluate(q);
  ASSERT_EQ(got.size(), 5u);
  for (const ResultRow& g : got) {
    EXPECT_EQ(g.t_s, (o.start_ns + o.duration_ns) / kS - 10);
    const Row& last = rows[rows.size() - 5 + std::stoul(g.group.substr(5))];
    EXPECT_EQ(last.tags->values[0], g.group);
    for (int f = 0; f < 10; ++f) EXPECT_EQ(*g.values[f], last.fields[f]);
  }

  // double-groupby-all: one row per host and hour touched; averages.
  q = GenerateQueries(spec, "double-groupby-all", 1, 3)[0];
  got = data.Evaluate(q);
  EXPECT_EQ(got.size(), 5u * 2);  // a 7190 s window over 2 h crosses one hour boundary
  for (const ResultRow& g : got) {
    double sum = 0;
    int n = 0;
    for (const Row& row : rows) {
      if (row.timestamp_ns < q.start_ns || row.timestamp_ns >= q.end_ns) continue;
      if (row.tags->values[0] != g.group || row.timestamp_ns / (3600 * kS) * 3600 != g.t_s) {
        continue;
      }
      sum += row.fields[9];
      ++n;
    }
    EXPECT_DOUBLE_EQ(*g.values[9], sum / n);
  }

  // groupby-orderby-limit: the 5 latest minutes before `end`.
  q = GenerateQueries(spec, "groupby-orderby-limit", 1, 3)[0];
  got = data.Evaluate(q);
  ASSERT_EQ(got.size(), 5u);
  const int64_t last_minute = (q.end_ns - 1) / (60 * kS) * 60;
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(got[i].t_s, last_minute - 60 * static_cast<int64_t>(i));
}

TEST(TsbsTimestoreTest, QueryBodies) {
  QueryDataSpec spec = DaySpec();
  Query q = GenerateQueries(spec, "single-groupby-1-1-1", 1, 1)[0];
  std::string body = TimestoreQueryBody(q);
  EXPECT_NE(body.find("{\"column\":\"hostname\",\"op\":\"eq\",\"value\":\"" + q.hosts[0] + "\"}"),
            std::string::npos);
  EXPECT_NE(body.find("\"intervalUnit\":\"minute\""), std::string::npos);
  EXPECT_NE(body.find("{\"fn\":\"max\",\"column\":\"usage_user\",\"alias\":\"usage_user\"}"),
            std::string::npos);
  EXPECT_NE(body.find("\"timestampFormat\":\"epoch_ns\""), std::string::npos);

  q = GenerateQueries(spec, "lastpoint", 1, 1)[0];
  body = TimestoreQueryBody(q);
  EXPECT_EQ(body.find("intervalUnit"), std::string::npos);
  EXPECT_NE(body.find("\"groupBy\":[\"hostname\"]"), std::string::npos);
  EXPECT_NE(body.find("{\"fn\":\"max\",\"column\":\"timestamp\",\"alias\":\"last_time\"}"),
            std::string::npos);

  q = GenerateQueries(spec, "groupby-orderby-limit", 1, 1)[0];
  body = TimestoreQueryBody(q);
  EXPECT_NE(body.find("\"order\":\"desc\",\"limit\":5"), std::string::npos);

  q = GenerateQueries(spec, "high-cpu-all", 1, 1)[0];
  body = TimestoreQueryBody(q);
  EXPECT_NE(body.find("{\"column\":\"usage_user\",\"op\":\"gt\",\"value\":90}"), std::string::npos);
  EXPECT_EQ(body.find("downsample"), std::string::npos);
}

TEST(TsbsTimestoreTest, ParsesAnswers) {
  Query q = GenerateQueries(DaySpec(), "double-groupby-1", 1, 1)[0];
  std::vector<ResultRow> rows;
  std::string error;
  ASSERT_TRUE(ParseTimestoreRows(
      q,
      R"({"rows":[{"timestamp":1451606400000000000,"hostname":"host_1","usage_user":41.5},)"
      R"({"timestamp":1451610000000000000,"hostname":"host_0","usage_user":null}]})",
      &rows, &error))
      << error;
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(ChecksumLine(rows[0]), "1451606400|host_1|41.5000");
  EXPECT_EQ(ChecksumLine(rows[1]), "1451610000|host_0|null");

  q = GenerateQueries(DaySpec(), "lastpoint", 1, 1)[0];
  q.fields = {"usage_user"};
  ASSERT_TRUE(ParseTimestoreRows(
      q,
      R"({"rows":[{"timestamp":1451606400000000000,"hostname":"host_1","last_time":1451692790000000000,"usage_user":7}]})",
      &rows, &error));
  EXPECT_EQ(ChecksumLine(rows[0]), "1451692790|host_1|7.0000");

  EXPECT_FALSE(ParseTimestoreRows(q, R"({"error":{"code":"x"}})", &rows, &error));
  EXPECT_FALSE(ParseTimestoreRows(q, "not json", &rows, &error));
}

}  // namespace
}  // namespace timestore::bench::tsbs
