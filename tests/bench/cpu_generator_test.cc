#include "bench/tsbs/cpu_generator.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
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

Options LateOptions() {
  Options o;
  o.hosts = 20;
  o.duration_ns = 86400 * kNanosPerSecond;  // 8640 ticks, 172,800 rows
  o.seed = 7;
  o.late_fraction = 0.05;
  o.late_max_ns = 2 * 3600 * kNanosPerSecond;
  return o;
}

// Per emitted row: how far its timestamp is behind the largest timestamp emitted before
// it (0 when it is in order).
std::vector<int64_t> Lateness(const std::vector<Row>& rows) {
  std::vector<int64_t> lateness;
  lateness.reserve(rows.size());
  int64_t watermark = INT64_MIN;
  for (const Row& row : rows) {
    lateness.push_back(row.timestamp_ns < watermark ? watermark - row.timestamp_ns : 0);
    watermark = std::max(watermark, row.timestamp_ns);
  }
  return lateness;
}

TEST(CpuGeneratorLateTest, SameRowsInAnotherOrder) {
  Options late = LateOptions();
  Options in_order = late;
  in_order.late_fraction = 0;
  in_order.late_max_ns = 0;
  std::vector<std::string> a, b;
  All(late, &a);
  All(in_order, &b);
  ASSERT_EQ(a.size(), static_cast<size_t>(RowsFor(late)));
  EXPECT_NE(a, b) << "late data changes the order";

  // Deterministic from the seed; another seed delays other rows.
  std::vector<std::string> again, other;
  All(late, &again);
  EXPECT_EQ(again, a);
  Options other_seed = late;
  other_seed.seed = 8;
  All(other_seed, &other);
  EXPECT_NE(other, a);

  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  EXPECT_EQ(a, b) << "same multiset of rows (values included)";
}

TEST(CpuGeneratorLateTest, ExpectedFractionOutOfOrderAndNoneLaterThanMax) {
  const Options o = LateOptions();
  CpuGenerator gen(o);
  std::vector<Row> rows;
  Row row;
  while (gen.Next(&row)) rows.push_back(row);
  ASSERT_EQ(rows.size(), static_cast<size_t>(RowsFor(o)));
  EXPECT_EQ(gen.rows_emitted(), RowsFor(o));

  const double n = static_cast<double>(rows.size());
  const double delayed = static_cast<double>(gen.rows_delayed());
  // Binomial(172800, 0.05): sd ≈ 91, so ±600 is more than 6 sd.
  EXPECT_NEAR(delayed, n * o.late_fraction, 600);

  // A delayed row is out of order unless its delay is below one interval (then the next
  // tick's rows don't pass it): expected fraction late_fraction × (1 - interval / max).
  // On-time rows are never out of order.
  const std::vector<int64_t> lateness = Lateness(rows);
  int64_t out_of_order = 0, max_lateness = 0;
  double sum_lateness = 0;
  for (int64_t l : lateness) {
    ASSERT_LE(l, o.late_max_ns) << "no row later than late_max";
    if (l > 0) {
      ++out_of_order;
      sum_lateness += static_cast<double>(l);
      max_lateness = std::max(max_lateness, l);
    }
  }
  const double expected =
      n * o.late_fraction *
      (1 - static_cast<double>(o.interval_ns) / static_cast<double>(o.late_max_ns));
  EXPECT_NEAR(static_cast<double>(out_of_order), expected, 600);
  EXPECT_LE(static_cast<double>(out_of_order), delayed);
  // Delays are uniform over (0, late_max]: the latest come close to the bound, and the
  // mean lateness of out-of-order rows is about half of it.
  EXPECT_GT(max_lateness, o.late_max_ns - 60 * kNanosPerSecond);
  const double mean = sum_lateness / static_cast<double>(out_of_order);
  EXPECT_NEAR(mean / static_cast<double>(o.late_max_ns), 0.5, 0.05);
}

TEST(CpuGeneratorLateTest, EveryRowDelayedStillBoundedAndComplete) {
  Options o = SmallOptions();
  o.late_fraction = 1;
  o.late_max_ns = 5 * 60 * kNanosPerSecond;
  std::vector<std::string> late, in_order;
  const std::vector<Row> rows = All(o, &late);
  EXPECT_EQ(rows.size(), static_cast<size_t>(RowsFor(o)));
  for (int64_t l : Lateness(rows)) ASSERT_LE(l, o.late_max_ns);
  Options plain = SmallOptions();
  All(plain, &in_order);
  EXPECT_NE(late, in_order);
  std::sort(late.begin(), late.end());
  std::sort(in_order.begin(), in_order.end());
  EXPECT_EQ(late, in_order);
}

TEST(CpuGeneratorLateTest, BatchFillMatchesNext) {
  Options o = LateOptions();
  o.duration_ns = 6 * 3600 * kNanosPerSecond;
  CpuGenerator gen(o);
  std::vector<Row> batch(777);
  std::vector<std::string> batched;
  size_t n;
  while ((n = gen.NextBatch(batch.data(), batch.size())) > 0) {
    for (size_t i = 0; i < n; ++i) AppendNdjsonLine(batch[i], &batched.emplace_back());
  }
  std::vector<std::string> single;
  All(o, &single);
  EXPECT_EQ(batched, single);
}

TEST(CpuGeneratorLateTest, ValidateOptionsChecksLateSettings) {
  Options o = SmallOptions();
  EXPECT_EQ(ValidateOptions(o), "");
  o.late_fraction = 0.05;
  EXPECT_NE(ValidateOptions(o), "") << "a late fraction without a late max";
  o.late_max_ns = 3600 * kNanosPerSecond;
  EXPECT_EQ(ValidateOptions(o), "");
  for (double bad : {-0.1, 1.5, std::nan("")}) {
    o.late_fraction = bad;
    EXPECT_NE(ValidateOptions(o), "") << bad;
  }
  o.late_fraction = 0;
  o.late_max_ns = -1;
  EXPECT_NE(ValidateOptions(o), "");
  o.late_fraction = 0.5;
  o.late_max_ns = INT64_MAX;
  EXPECT_NE(ValidateOptions(o), "") << "start + duration + late max overflows";
}

}  // namespace
}  // namespace timestore::bench::tsbs
