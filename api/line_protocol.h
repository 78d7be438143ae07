// InfluxDB line protocol (docs/api.md "InfluxDB line protocol"), parsed
// straight into the columns of one IngestRequest per measurement: no
// per-line allocation, no intermediate JSON. A series cache maps the raw bytes
// of `measurement,tags` to the dictionary ids of its tags, so a line of a
// series seen before costs one hash for all its tags.
//
// Mapping: each measurement is a dataset named `<prefix><measurement>`
// (lower-cased, bytes outside [a-z0-9_-] as '_'); tags are string columns;
// fields are double (a plain number), integer (`i`, and `u` up to 2^63-1),
// boolean or string columns; the timestamp goes to the dataset's time column
// ("timestamp" for a new dataset). Any error rejects the whole body.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "engine/schema.h"

namespace timestore::api {

struct LineProtocolOptions {
  std::string dataset_prefix;  // prepended to each measurement's slug, e.g. "telegraf_"
  int64_t precision_ns = 1;    // nanoseconds per timestamp unit
  int64_t now_ns = 0;          // the time of lines without a timestamp
  // The current schema of a dataset, or null when it does not exist.
  std::function<SchemaPtr(const std::string& slug)> schema_of;
};

// Nanoseconds per unit for InfluxDB's precision names: n/ns, u/us/µ, ms, s,
// m, h. Empty means nanoseconds. nullopt for anything else.
std::optional<int64_t> ParseInfluxPrecision(std::string_view precision);

// The dataset slug of `measurement` under `prefix`, or an error naming why
// it cannot be one (too long, empty).
absl::StatusOr<std::string> MeasurementSlug(std::string_view prefix, std::string_view measurement);

// One IngestRequest per measurement, in order of first appearance. Errors
// (tagged invalid_line or invalid_value) name the line (1-based), the
// measurement and the tag or field.
absl::StatusOr<std::vector<IngestRequest>> ParseLineProtocol(std::string_view body,
                                                             const LineProtocolOptions& options);

}  // namespace timestore::api
