#include "bench/tsbs/cpu_generator.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numbers>
#include <span>

namespace timestore::bench::tsbs {
namespace {

// The tag vocabularies of the TSBS devops host model. Changing any list, or its order,
// changes every generated data set.
struct Region {
  std::string_view name;
  std::span<const std::string_view> zones;
};
constexpr std::string_view kUsEast1[] = {"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1e"};
constexpr std::string_view kUsWest1[] = {"us-west-1a", "us-west-1b"};
constexpr std::string_view kUsWest2[] = {"us-west-2a", "us-west-2b", "us-west-2c"};
constexpr std::string_view kEuWest1[] = {"eu-west-1a", "eu-west-1b", "eu-west-1c"};
constexpr std::string_view kEuCentral1[] = {"eu-central-1a", "eu-central-1b"};
constexpr std::string_view kApSoutheast1[] = {"ap-southeast-1a", "ap-southeast-1b"};
constexpr std::string_view kApSoutheast2[] = {"ap-southeast-2a", "ap-southeast-2b"};
constexpr std::string_view kApNortheast1[] = {"ap-northeast-1a", "ap-northeast-1c"};
constexpr std::string_view kSaEast1[] = {"sa-east-1a", "sa-east-1b", "sa-east-1c"};
constexpr Region kRegions[] = {
    {"us-east-1", kUsEast1},           {"us-west-1", kUsWest1},
    {"us-west-2", kUsWest2},           {"eu-west-1", kEuWest1},
    {"eu-central-1", kEuCentral1},     {"ap-southeast-1", kApSoutheast1},
    {"ap-southeast-2", kApSoutheast2}, {"ap-northeast-1", kApNortheast1},
    {"sa-east-1", kSaEast1},
};
constexpr std::string_view kOses[] = {"Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"};
constexpr std::string_view kArches[] = {"x64", "x86"};
constexpr std::string_view kTeams[] = {"SF", "NYC", "LON", "CHI"};
constexpr std::string_view kEnvironments[] = {"production", "staging", "test"};
constexpr uint64_t kRacks = 100;
constexpr uint64_t kServices = 20;
constexpr uint64_t kServiceVersions = 2;

constexpr double kWalkMin = 0;
constexpr double kWalkMax = 100;

// The JSON key prefixes: `,"name":` for every column, built once.
struct Keys {
  std::array<std::string, kNumTags> tags;
  std::array<std::string, kNumFields> fields;
  Keys() {
    for (size_t i = 0; i < kNumTags; ++i) tags[i] = ",\"" + std::string(kTagNames[i]) + "\":\"";
    for (size_t i = 0; i < kNumFields; ++i) {
      fields[i] = ",\"" + std::string(kFieldNames[i]) + "\":";
    }
  }
};
const Keys& JsonKeys() {
  static const Keys keys;
  return keys;
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

void AppendDouble(double v, std::string* out) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

// [0, 1) from the top 53 bits of one draw.
double Uniform01From(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// [0, n) by multiply-shift (Lemire) without the rejection step: the bias is below n / 2^64.
uint64_t UniformIndexFrom(std::mt19937_64& rng, uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(rng()) * n) >> 64);
}

// Seed of the late-data stream: a SplitMix64 step of the data seed, so the two streams
// differ but both follow from `seed`.
uint64_t LateSeed(uint64_t seed) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

std::string ValidateOptions(const Options& options) {
  if (options.hosts < 1) return "hosts must be at least 1";
  if (options.interval_ns < 1) return "interval must be positive";
  if (options.duration_ns < 0) return "duration must not be negative";
  if (options.start_ns > INT64_MAX - options.duration_ns) return "start + duration overflows";
  int64_t ticks = options.duration_ns / options.interval_ns +
                  (options.duration_ns % options.interval_ns != 0 ? 1 : 0);
  if (ticks != 0 && options.hosts > INT64_MAX / ticks) return "hosts × ticks overflows";
  if (!(options.late_fraction >= 0 && options.late_fraction <= 1)) {
    return "late fraction must be in [0, 1]";
  }
  if (options.late_max_ns < 0) return "late max must not be negative";
  if (options.late_fraction > 0) {
    if (options.late_max_ns == 0) return "a late fraction needs a positive late max";
    if (options.start_ns + options.duration_ns > INT64_MAX - options.late_max_ns) {
      return "start + duration + late max overflows";
    }
  }
  return "";
}

int64_t TicksFor(const Options& options) {
  return options.duration_ns / options.interval_ns +
         (options.duration_ns % options.interval_ns != 0 ? 1 : 0);
}

int64_t RowsFor(const Options& options) { return options.hosts * TicksFor(options); }

CpuGenerator::CpuGenerator(const Options& options)
    : options_(options),
      rng_(options.seed),
      ticks_(TicksFor(options)),
      total_rows_(RowsFor(options)),
      late_(options.late_fraction > 0),
      late_rng_(LateSeed(options.seed)) {
  const size_t n = static_cast<size_t>(options_.hosts);
  hosts_.resize(n);
  for (size_t h = 0; h < n; ++h) {
    auto& v = hosts_[h].values;
    v[0] = "host_" + std::to_string(h);
    const Region& region = kRegions[UniformIndex(std::size(kRegions))];
    v[1] = region.name;
    v[2] = region.zones[UniformIndex(region.zones.size())];
    v[3] = std::to_string(UniformIndex(kRacks));
    v[4] = kOses[UniformIndex(std::size(kOses))];
    v[5] = kArches[UniformIndex(std::size(kArches))];
    v[6] = kTeams[UniformIndex(std::size(kTeams))];
    v[7] = std::to_string(UniformIndex(kServices));
    v[8] = std::to_string(UniformIndex(kServiceVersions));
    v[9] = kEnvironments[UniformIndex(std::size(kEnvironments))];
  }
  walks_.resize(n * kNumFields);
  for (double& w : walks_) w = Uniform01() * kWalkMax;
}

double CpuGenerator::Uniform01() { return Uniform01From(rng_); }

uint64_t CpuGenerator::UniformIndex(uint64_t n) { return UniformIndexFrom(rng_, n); }

double CpuGenerator::StandardNormal() {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return spare_normal_;
  }
  const double u1 = 1.0 - Uniform01();  // (0, 1]: log() stays finite
  const double u2 = Uniform01();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * std::numbers::pi * u2;
  spare_normal_ = r * std::sin(theta);
  has_spare_normal_ = true;
  return r * std::cos(theta);
}

void CpuGenerator::Step(size_t host) {
  double* w = &walks_[host * kNumFields];
  for (size_t f = 0; f < kNumFields; ++f) {
    w[f] = std::clamp(w[f] + StandardNormal(), kWalkMin, kWalkMax);
  }
}

bool CpuGenerator::NextInOrder(Row* row) {
  if (rows_generated_ >= total_rows_) return false;
  if (tick_ > 0) Step(next_host_);
  row->timestamp_ns = options_.start_ns + tick_ * options_.interval_ns;
  row->tags = &hosts_[next_host_];
  const double* w = &walks_[next_host_ * kNumFields];
  for (size_t f = 0; f < kNumFields; ++f) {
    // + 0.0 turns a -0.0 into 0.0, so output never shows "-0".
    row->fields[f] = (options_.integer_values ? std::trunc(w[f]) : w[f]) + 0.0;
  }
  ++rows_generated_;
  if (++next_host_ == hosts_.size()) {
    next_host_ = 0;
    ++tick_;
  }
  return true;
}

bool CpuGenerator::Next(Row* row) {
  if (!late_) {
    if (!NextInOrder(row)) return false;
    ++rows_emitted_;
    return true;
  }
  // Every row generated from now on has arrival >= timestamp >= last_generated_ns_ and a
  // larger index, so a pending row arriving at or before last_generated_ns_ comes next.
  for (;;) {
    if (!pending_.empty() &&
        (rows_generated_ == total_rows_ || pending_.top().arrival_ns <= last_generated_ns_)) {
      *row = pending_.top().row;
      pending_.pop();
      ++rows_emitted_;
      return true;
    }
    Pending p;
    if (!NextInOrder(&p.row)) return false;  // and nothing pending
    p.index = rows_generated_ - 1;
    p.arrival_ns = p.row.timestamp_ns;
    if (Uniform01From(late_rng_) < options_.late_fraction) {
      const uint64_t max = static_cast<uint64_t>(options_.late_max_ns);
      p.arrival_ns += static_cast<int64_t>(UniformIndexFrom(late_rng_, max) + 1);  // (0, max]
      ++rows_delayed_;
    }
    last_generated_ns_ = p.row.timestamp_ns;
    pending_.push(p);
  }
}

size_t CpuGenerator::NextBatch(Row* rows, size_t max_rows) {
  size_t n = 0;
  while (n < max_rows && Next(&rows[n])) ++n;
  return n;
}

void AppendJsonRecord(const Row& row, std::string* out) {
  const Keys& keys = JsonKeys();
  out->append("{\"timestamp\":");
  AppendInt(FloorDiv(row.timestamp_ns, 1'000'000), out);
  // Tag values are generated (ASCII letters, digits, '-', '_', '.'): nothing to escape.
  for (size_t i = 0; i < kNumTags; ++i) {
    out->append(keys.tags[i]);
    out->append(row.tags->values[i]);
    out->push_back('"');
  }
  for (size_t i = 0; i < kNumFields; ++i) {
    out->append(keys.fields[i]);
    AppendDouble(row.fields[i], out);
  }
  out->push_back('}');
}

void AppendNdjsonLine(const Row& row, std::string* out) {
  AppendJsonRecord(row, out);
  out->push_back('\n');
}

void AppendSchemaJson(std::string* out) {
  out->append("{\"fields\":[{\"name\":\"");
  out->append(kTimestampName);
  out->append("\",\"type\":\"timestamp\"}");
  for (std::string_view tag : kTagNames) {
    out->append(",{\"name\":\"");
    out->append(tag);
    out->append("\",\"type\":\"string\"}");
  }
  for (std::string_view field : kFieldNames) {
    out->append(",{\"name\":\"");
    out->append(field);
    out->append("\",\"type\":\"double\"}");
  }
  out->append("]}");
}

}  // namespace timestore::bench::tsbs
