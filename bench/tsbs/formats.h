// More serialisations of the cpu generator's rows, so that every system loads the same
// rows (`timestore-tsbs generate`). NDJSON and JSON bodies are in cpu_generator.h.
#pragma once

#include <string>

#include "bench/tsbs/cpu_generator.h"

namespace timestore::bench::tsbs {

// One InfluxDB line-protocol line with a nanosecond timestamp, ending in '\n':
//   cpu,hostname=host_0,region=...,service_environment=test usage_user=58,...,
//   usage_guest_nice=3 1451606400000000000
// Field values are written as doubles in their shortest round-trip form without the `i`
// suffix, so every system stores them as floats ("58" is a float in line protocol).
void AppendInfluxLine(const Row& row, std::string* out);

// The CSV header line: timestamp_ns, the ten tags, the ten fields; ends in '\n'.
void AppendCsvHeader(std::string* out);
// One CSV line: the integer nanosecond timestamp, the tags, the values (shortest
// round-trip doubles); ends in '\n'. Nothing needs quoting.
void AppendCsvRow(const Row& row, std::string* out);

}  // namespace timestore::bench::tsbs
