// Timestamps are signed 64-bit nanoseconds since the Unix epoch (UTC).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace timestore {

enum class Precision { kNanoseconds, kMicroseconds, kMilliseconds, kSeconds };

// Parses "ns" | "us" | "ms" | "s".
std::optional<Precision> ParsePrecision(std::string_view s);
// Nanoseconds per unit of `p`.
int64_t PrecisionNanos(Precision p);
// Scales an integer in unit `p` to nanoseconds; fails on int64 overflow.
absl::StatusOr<int64_t> ScaleToNanos(int64_t value, Precision p);

// Parses RFC 3339 ("2024-05-01T12:00:00Z", "2024-05-01t12:00:00.123456789+02:00"):
// at most 9 fractional digits, `T`/`Z` in either case, offsets within ±23:59.
// The error message says what was wrong; the caller adds record and column.
absl::StatusOr<int64_t> ParseRfc3339(std::string_view s);

// Formats as RFC 3339 UTC with the fraction trimmed of trailing zeros.
// Appends to `out`; at most 35 characters are written.
void AppendRfc3339(int64_t nanos, std::string* out);
std::string FormatRfc3339(int64_t nanos);

// Floor division that rounds toward negative infinity (bucket starts before 1970).
inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Parses a positive duration: a whole number with a unit ms, s, m, h, d or w
// ("90d", "6h"); a bare number is seconds. Fails on zero, negatives, overflow.
absl::StatusOr<int64_t> ParseDurationNanos(std::string_view s);

// floor(ts / interval) * interval, the start of ts's bucket or partition,
// clamped to the int64 range where it would overflow (near 1677 or 2262).
inline int64_t FloorToMultiple(int64_t ts, int64_t interval) {
  int64_t q = FloorDiv(ts, interval);
  int64_t out;
  if (__builtin_mul_overflow(q, interval, &out)) {
    return q < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  }
  return out;
}

// a + b, clamped to the int64 range.
inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out)) {
    return b < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  }
  return out;
}

// Current wall-clock time in nanoseconds since the epoch.
int64_t NowNanos();

}  // namespace timestore
