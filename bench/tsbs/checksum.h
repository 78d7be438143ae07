// The canonical result checksum of the TSBS harness (bench/README.md, "The result
// checksum"). Every system's runner reduces a query's answer to ResultRows and digests
// them with these functions (the peer scripts implement the same rule in Python), so
// answers are compared across systems, not just timed.
//
//   row line     "<t>|<group>|<v1>,<v2>,..."  t: integer seconds since the epoch (bucket
//                start, or the row's timestamp for raw and lastpoint rows); group: the
//                hostname, or "" when hosts are pooled; each value printf("%.4f", v + 0.0)
//                in the order of the query's fields, a null as "null"
//   instance     lines sorted by byte order, each followed by "\n" (no rows: ""); the
//                digest is XXH3_64bits (seed 0) of that text as 16 lowercase hex digits
//   type         XXH3_64bits of the instance digests in instance order, each followed by
//                "\n", as 16 lowercase hex digits
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace timestore::bench::tsbs {

struct ResultRow {
  int64_t t_s = 0;
  std::string group;
  std::vector<std::optional<double>> values;
};

// printf("%.4f", v + 0.0), or "null".
std::string FormatChecksumValue(std::optional<double> v);
// "<t>|<group>|<v1>,<v2>,...".
std::string ChecksumLine(const ResultRow& row);
// The sorted lines, each followed by "\n".
std::string CanonicalResultText(const std::vector<ResultRow>& rows);
// XXH3_64bits(data, seed 0) as 16 lowercase hex digits.
std::string Xxh3Hex(std::string_view data);
// Xxh3Hex(CanonicalResultText(rows)).
std::string InstanceDigest(const std::vector<ResultRow>& rows);
// Xxh3Hex of the digests, each followed by "\n".
std::string TypeChecksum(const std::vector<std::string>& instance_digests);

// Integer seconds of a nanosecond timestamp, rounded toward negative infinity.
int64_t FloorSeconds(int64_t ns);

}  // namespace timestore::bench::tsbs
