// A deterministic generator of TSBS "cpu-only" rows (github.com/timescale/tsbs, use case
// `cpu-only`), independent of the engine so that load generators and a full TSBS harness
// can share it.
//
// Data model (one measurement, `cpu`):
//   - `hosts` hosts; each has ten fixed tags drawn once from the seed: hostname `host_<i>`,
//     region (9 AWS regions), datacenter (a zone of that region), rack "0"-"99",
//     os, arch, team, service "0"-"19", service_version "0"|"1", service_environment.
//   - One row per host every `interval_ns`, from `start_ns` while t < start_ns + duration_ns,
//     ordered by time, then by host index.
//   - Ten double fields (kFieldNames). Each is an independent random walk per host: it
//     starts uniform in [0, 100), moves by N(0, 1) per tick and is clamped to [0, 100].
//     With `integer_values` (the TSBS default) the emitted value is the walk truncated
//     toward zero; otherwise the full-precision double.
//
// Determinism: the same Options produce the same rows, byte for byte, on any platform
// with IEEE doubles and the same libm: random bits come from std::mt19937_64 (whose
// output sequence the standard fixes) and uniform/normal variates are derived here
// (53-bit uniform, Box-Muller), not by the library's distributions.
//
// Draw order from the one RNG stream (changing it changes every data set; don't):
//   1. per host, in host order: region, datacenter, rack, os, arch, team, service,
//      service_version, service_environment;
//   2. per host, per field in kFieldNames order: the walk's start value;
//   3. per tick after the first, per host, per field: one normal step.
//
// Late data (Options::late_fraction > 0): the same rows, emitted in another order. Each
// row is delayed independently with probability late_fraction, by a delay uniform in
// (0, late_max_ns]; a row "arrives" at its timestamp plus its delay (an on-time row at its
// timestamp), and rows are emitted by arrival, ties in generation order. So a delayed row
// shows up in the stream where data time has reached its own timestamp + delay: out of
// order, at most late_max_ns behind the largest timestamp emitted before it, as real late
// data arrives. The choice and the delays come from a second RNG stream seeded from
// `seed`, drawn per row in generation order (one uniform for "delayed?", one more for the
// delay when it is), so rows and values are the same as without late data. The reordering
// buffers only the rows still in flight (about late_fraction × hosts × late_max / interval).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <queue>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace timestore::bench::tsbs {

inline constexpr int64_t kNanosPerSecond = 1'000'000'000;
// 2016-01-01T00:00:00Z, the TSBS default start.
inline constexpr int64_t kDefaultStartNs = 1'451'606'400LL * kNanosPerSecond;

inline constexpr std::string_view kMeasurement = "cpu";
inline constexpr std::string_view kTimestampName = "timestamp";

inline constexpr size_t kNumTags = 10;
inline constexpr std::array<std::string_view, kNumTags> kTagNames = {
    "hostname", "region",          "datacenter",         "rack", "os", "arch", "team",
    "service",  "service_version", "service_environment"};

inline constexpr size_t kNumFields = 10;
inline constexpr std::array<std::string_view, kNumFields> kFieldNames = {
    "usage_user", "usage_system",  "usage_idle",  "usage_nice",  "usage_iowait",
    "usage_irq",  "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"};

struct Options {
  int64_t hosts = 100;  // the TSBS "scale"
  int64_t start_ns = kDefaultStartNs;
  int64_t interval_ns = 10 * kNanosPerSecond;
  int64_t duration_ns = 86'400 * kNanosPerSecond;
  uint64_t seed = 123;
  bool integer_values = true;
  // Late data (see the header comment); 0 = rows in time order.
  double late_fraction = 0;  // in [0, 1]
  int64_t late_max_ns = 0;   // > 0 when late_fraction > 0
};

// Empty when `options` can be generated; otherwise what is wrong with them.
std::string ValidateOptions(const Options& options);

// Number of timestamps per host: ceil(duration_ns / interval_ns).
// REQUIRES: ValidateOptions(options).empty().
int64_t TicksFor(const Options& options);
// hosts × TicksFor(options).
int64_t RowsFor(const Options& options);

// The fixed tags of one host, in kTagNames order.
struct HostTags {
  std::array<std::string, kNumTags> values;
};

struct Row {
  int64_t timestamp_ns = 0;
  // Owned by the generator that produced the row; valid while it lives.
  const HostTags* tags = nullptr;
  std::array<double, kNumFields> fields{};
};

// Produces the rows of one data set in order. Not thread-safe; cheap to create, so give
// each thread its own generator (same Options → same rows).
class CpuGenerator {
 public:
  // REQUIRES: ValidateOptions(options).empty().
  explicit CpuGenerator(const Options& options);

  CpuGenerator(const CpuGenerator&) = delete;
  CpuGenerator& operator=(const CpuGenerator&) = delete;

  // Fills `*row` with the next row and returns true, or returns false when all rows have
  // been produced. Rows come by time then host, or in arrival order with late data.
  bool Next(Row* row);
  // Fills up to `max_rows` rows into `rows` (which must have room for them); returns how
  // many were filled, 0 at the end.
  size_t NextBatch(Row* rows, size_t max_rows);

  const Options& options() const { return options_; }
  const std::vector<HostTags>& hosts() const { return hosts_; }
  int64_t total_rows() const { return total_rows_; }
  int64_t rows_emitted() const { return rows_emitted_; }
  // Rows given a delay so far (among the rows generated, which run ahead of the emitted
  // ones by the rows in flight); equals the total once every row has been emitted.
  int64_t rows_delayed() const { return rows_delayed_; }

 private:
  // A row waiting to be emitted in arrival order.
  struct Pending {
    int64_t arrival_ns;
    int64_t index;  // generation order: breaks arrival ties
    Row row;
  };
  struct LaterArrival {
    bool operator()(const Pending& a, const Pending& b) const {
      return a.arrival_ns != b.arrival_ns ? a.arrival_ns > b.arrival_ns : a.index > b.index;
    }
  };

  double Uniform01();                 // [0, 1), 53 random bits
  uint64_t UniformIndex(uint64_t n);  // [0, n)
  double StandardNormal();            // N(0, 1), Box-Muller
  void Step(size_t host);
  bool NextInOrder(Row* row);  // the rows by time then host

  Options options_;
  std::mt19937_64 rng_;
  bool has_spare_normal_ = false;
  double spare_normal_ = 0;

  std::vector<HostTags> hosts_;
  std::vector<double> walks_;  // hosts × kNumFields, row-major by host
  int64_t ticks_ = 0;
  int64_t total_rows_ = 0;
  int64_t rows_generated_ = 0;  // by NextInOrder
  int64_t rows_emitted_ = 0;    // by Next
  int64_t tick_ = 0;            // of the next row
  size_t next_host_ = 0;        // of the next row

  // Late data.
  bool late_ = false;
  std::mt19937_64 late_rng_;
  std::priority_queue<Pending, std::vector<Pending>, LaterArrival> pending_;
  int64_t last_generated_ns_ = 0;  // timestamp of the last row NextInOrder produced
  int64_t rows_delayed_ = 0;
};

// Serialisation. Timestamps are written as integer milliseconds since the epoch (the
// server's `?precision=ms`), truncated toward negative infinity; keys in the order
// timestamp, the ten tags, the ten fields; doubles in the shortest form that round-trips
// (std::to_chars), so integral values print without a fraction ("42").

// Appends `row` as one JSON object, e.g. {"timestamp":1451606400000,"hostname":"host_0",...}.
void AppendJsonRecord(const Row& row, std::string* out);
// Appends `row` as one NDJSON line: the JSON record followed by '\n'.
void AppendNdjsonLine(const Row& row, std::string* out);
// Appends the Timestore ingest schema for these rows:
// {"fields":[{"name":"timestamp","type":"timestamp"},{"name":"hostname","type":"string"},...
//  {"name":"usage_user","type":"double"},...]}.
void AppendSchemaJson(std::string* out);

}  // namespace timestore::bench::tsbs
