#include "bench/tsbs/cpu_generator.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <string>
#include <vector>

namespace timestore::bench::tsbs {
namespace {

Options SmallOptions() {
  Options o;
  o.hosts = 7;
  o.duration_ns = 3600 * kNanosPerSecond;  // 360 ticks
  o.seed = 42;
  return o;
}

std::vector<Row> All(const Options& options, std::vector<std::string>* ndjson = nullptr) {
  CpuGenerator gen(options);
  std::vector<Row> rows;
  Row row;
  while (gen.Next(&row)) {
    if (ndjson) {
      std::string line;
      AppendNdjsonLine(row, &line);
      ndjson->push_back(std::move(line));
    }
    row.tags = nullptr;  // dies with `gen`
    rows.push_back(row);
  }
  return rows;
}

TEST(CpuGeneratorTest, SameSeedSameRowsDifferentSeedDifferentRows) {
  std::vector<std::string> a, b, c;
  All(SmallOptions(), &a);
  All(SmallOptions(), &b);
  Options other = SmallOptions();
  other.seed = 43;
  All(other, &c);
  ASSERT_EQ(a.size(), c.size());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);

  Options floats = SmallOptions();
  floats.integer_values = false;
  std::vector<std::string> f1, f2;
  All(floats, &f1);
  All(floats, &f2);
  EXPECT_EQ(f1, f2);
}

TEST(CpuGeneratorTest, RowCountIsHostsTimesTicks) {
  Options o = SmallOptions();
  EXPECT_EQ(TicksFor(o), 360);
  EXPECT_EQ(RowsFor(o), 7 * 360);
  EXPECT_EQ(All(o).size(), 7u * 360u);

  Options day;  // defaults: 100 hosts, 1 day, 10 s
  EXPECT_EQ(RowsFor(day), 100 * 8640);

  // A partial last interval still gets its tick (timestamps < start + duration).
  o.duration_ns = 25 * kNanosPerSecond;
  EXPECT_EQ(All(o).size(), 7u * 3u);
  o.duration_ns = 0;
  EXPECT_TRUE(All(o).empty());
}

TEST(CpuGeneratorTest, BatchFillMatchesNext) {
  Options o = SmallOptions();
  CpuGenerator gen(o);
  std::vector<Row> batch(1000);
  std::vector<std::string> batched;
  size_t n;
  while ((n = gen.NextBatch(batch.data(), batch.size())) > 0) {
    for (size_t i = 0; i < n; ++i) AppendNdjsonLine(batch[i], &batched.emplace_back());
  }
  std::vector<std::string> single;
  All(o, &single);
  EXPECT_EQ(batched, single);
}

TEST(CpuGeneratorTest, ValuesClampedAndIntegralInIntegerMode) {
  for (bool integer_values : {true, false}) {
    Options o = SmallOptions();
    o.integer_values = integer_values;
    o.duration_ns = 86400 * kNanosPerSecond;  // long enough for walks to hit the bounds
    bool fractional_seen = false;
    for (const Row& row : All(o)) {
      for (double v : row.fields) {
        ASSERT_GE(v, 0.0);
        ASSERT_LE(v, 100.0);
        ASSERT_FALSE(std::signbit(v));
        if (integer_values) {
          ASSERT_EQ(v, std::trunc(v));
        } else if (v != std::trunc(v)) {
          fractional_seen = true;
        }
      }
    }
    if (!integer_values) {
      EXPECT_TRUE(fractional_seen);
    }
  }
}

TEST(CpuGeneratorTest, OrderedByTimeThenHostWithTenSecondSteps) {
  Options o = SmallOptions();
  CpuGenerator gen(o);
  Row row;
  int64_t i = 0;
  while (gen.Next(&row)) {
    const int64_t host = i % o.hosts;
    const int64_t tick = i / o.hosts;
    ASSERT_EQ(row.timestamp_ns, kDefaultStartNs + tick * 10 * kNanosPerSecond);
    ASSERT_EQ(row.tags->values[0], "host_" + std::to_string(host));
    ++i;
  }
  EXPECT_EQ(i, RowsFor(o));
  EXPECT_EQ(gen.rows_emitted(), RowsFor(o));
}

TEST(CpuGeneratorTest, HostTagsComeFromTheTsbsVocabulary) {
  Options o = SmallOptions();
  o.hosts = 500;
  CpuGenerator gen(o);
  for (const HostTags& h : gen.hosts()) {
    const auto& v = h.values;
    EXPECT_EQ(v[2].substr(0, v[1].size()), v[1]) << "datacenter is a zone of the region";
    EXPECT_EQ(v[2].size(), v[1].size() + 1);
    const int rack = std::stoi(v[3]);
    EXPECT_TRUE(rack >= 0 && rack < 100);
    EXPECT_TRUE(v[4] == "Ubuntu16.10" || v[4] == "Ubuntu16.04LTS" || v[4] == "Ubuntu15.10");
    EXPECT_TRUE(v[5] == "x64" || v[5] == "x86");
    EXPECT_TRUE(v[6] == "SF" || v[6] == "NYC" || v[6] == "LON" || v[6] == "CHI");
    const int service = std::stoi(v[7]);
    EXPECT_TRUE(service >= 0 && service < 20);
    EXPECT_TRUE(v[8] == "0" || v[8] == "1");
    EXPECT_TRUE(v[9] == "production" || v[9] == "staging" || v[9] == "test");
  }
}

TEST(CpuGeneratorTest, NdjsonLineIsOneJsonObjectInColumnOrder) {
  for (bool integer_values : {true, false}) {
    Options o = SmallOptions();
    o.integer_values = integer_values;
    o.start_ns = kDefaultStartNs + 1'500'000;  // 1.5 ms: truncated to 1 ms
    CpuGenerator gen(o);
    Row row;
    ASSERT_TRUE(gen.Next(&row));
    std::string line;
    AppendNdjsonLine(row, &line);
    ASSERT_EQ(line.back(), '\n');
    ASSERT_EQ(line.find('\n'), line.size() - 1);

    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    ASSERT_EQ(parser.parse(line).get(obj), simdjson::SUCCESS) << line;
    ASSERT_EQ(obj.size(), 1 + kNumTags + kNumFields);
    std::vector<std::string> keys;
    for (auto field : obj) keys.emplace_back(field.key);
    EXPECT_EQ(keys[0], "timestamp");
    for (size_t i = 0; i < kNumTags; ++i) EXPECT_EQ(keys[1 + i], kTagNames[i]);
    for (size_t i = 0; i < kNumFields; ++i) EXPECT_EQ(keys[1 + kNumTags + i], kFieldNames[i]);

    int64_t ts = 0;
    ASSERT_EQ(obj["timestamp"].get(ts), simdjson::SUCCESS);
    EXPECT_EQ(ts, 1'451'606'400'001);
    std::string_view hostname;
    ASSERT_EQ(obj["hostname"].get(hostname), simdjson::SUCCESS);
    EXPECT_EQ(hostname, "host_0");
    for (size_t i = 0; i < kNumFields; ++i) {
      simdjson::dom::element e;
      ASSERT_EQ(obj[kFieldNames[i]].get(e), simdjson::SUCCESS);
      double v = 0;
      ASSERT_EQ(e.get(v), simdjson::SUCCESS);
      EXPECT_EQ(v, row.fields[i]) << "doubles round-trip exactly";
      if (integer_values) {
        EXPECT_EQ(e.type(), simdjson::dom::element_type::INT64);
      }
    }

    // A JSON body built from records and the schema parses too.
    std::string body = "{\"schema\":";
    AppendSchemaJson(&body);
    body += ",\"records\":[";
    AppendJsonRecord(row, &body);
    body += "]}";
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(body).get(doc), simdjson::SUCCESS) << body;
    simdjson::dom::array fields;
    ASSERT_EQ(doc["schema"]["fields"].get(fields), simdjson::SUCCESS);
    EXPECT_EQ(fields.size(), 1 + kNumTags + kNumFields);
  }
}

}  // namespace
}  // namespace timestore::bench::tsbs
