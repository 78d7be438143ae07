#include "bench/tsbs/checksum.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdio>

#include "bench/tsbs/cpu_generator.h"

namespace timestore::bench::tsbs {

std::string FormatChecksumValue(std::optional<double> v) {
  if (!v) return "null";
  char buf[400];  // %.4f of 1e308 is 314 characters
  const int n = std::snprintf(buf, sizeof(buf), "%.4f", *v + 0.0);
  return std::string(buf, static_cast<size_t>(n));
}

std::string ChecksumLine(const ResultRow& row) {
  std::string line = std::to_string(row.t_s);
  line.push_back('|');
  line += row.group;
  line.push_back('|');
  for (size_t i = 0; i < row.values.size(); ++i) {
    if (i) line.push_back(',');
    line += FormatChecksumValue(row.values[i]);
  }
  return line;
}

std::string CanonicalResultText(const std::vector<ResultRow>& rows) {
  std::vector<std::string> lines;
  lines.reserve(rows.size());
  for (const ResultRow& r : rows) lines.push_back(ChecksumLine(r));
  std::sort(lines.begin(), lines.end());  // std::string compares as unsigned bytes
  std::string text;
  for (const std::string& l : lines) {
    text += l;
    text.push_back('\n');
  }
  return text;
}

std::string Xxh3Hex(std::string_view data) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(XXH3_64bits(data.data(), data.size())));
  return std::string(buf, 16);
}

std::string InstanceDigest(const std::vector<ResultRow>& rows) {
  return Xxh3Hex(CanonicalResultText(rows));
}

std::string TypeChecksum(const std::vector<std::string>& instance_digests) {
  std::string text;
  for (const std::string& d : instance_digests) {
    text += d;
    text.push_back('\n');
  }
  return Xxh3Hex(text);
}

int64_t FloorSeconds(int64_t ns) {
  int64_t q = ns / kNanosPerSecond;
  if (ns % kNanosPerSecond != 0 && ns < 0) --q;
  return q;
}

}  // namespace timestore::bench::tsbs
