// A reference evaluator: answers the harness's queries (queries.h) by brute force over
// the generated rows in memory, with no database. It defines what a correct answer is,
// so a system's checksums can be checked against it (`timestore-tsbs reference`,
// `run --verify`) and the harness itself is tested.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/tsbs/checksum.h"
#include "bench/tsbs/cpu_generator.h"
#include "bench/tsbs/queries.h"

namespace timestore::bench::tsbs {

class ReferenceData {
 public:
  // Generates every row of `options` and keeps them (about 96 bytes per row).
  explicit ReferenceData(const Options& options);

  // The answer of `q` as checksum rows (in no particular order).
  std::vector<ResultRow> Evaluate(const Query& q) const;

  int64_t rows() const { return static_cast<int64_t>(rows_.size()); }

 private:
  struct StoredRow {
    int64_t ts;
    int32_t host;
    std::array<double, kNumFields> fields;
  };
  std::vector<std::string> host_names_;
  std::vector<StoredRow> rows_;  // sorted by time, then host (generation order)
};

}  // namespace timestore::bench::tsbs
