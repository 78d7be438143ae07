#include "common/time_util.h"

#include <charconv>
#include <chrono>
#include <limits>

#include "absl/status/status.h"
#include "common/strings.h"

namespace timestore {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;

// Howard Hinnant's days_from_civil: days since 1970-01-01 for a proleptic
// Gregorian date.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at s[*pos].
bool ReadDigits(std::string_view s, size_t* pos, int n, int64_t* out) {
  if (*pos + n > s.size()) return false;
  int64_t v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

absl::Status Bad(std::string_view s, std::string_view why) {
  return absl::InvalidArgumentError(
      StrCat("invalid RFC 3339 timestamp \"", s.substr(0, 64), "\": ", why));
}

}  // namespace

std::optional<Precision> ParsePrecision(std::string_view s) {
  if (s == "ns") return Precision::kNanoseconds;
  if (s == "us") return Precision::kMicroseconds;
  if (s == "ms") return Precision::kMilliseconds;
  if (s == "s") return Precision::kSeconds;
  return std::nullopt;
}

int64_t PrecisionNanos(Precision p) {
  switch (p) {
    case Precision::kNanoseconds:
      return 1;
    case Precision::kMicroseconds:
      return 1'000;
    case Precision::kMilliseconds:
      return 1'000'000;
    case Precision::kSeconds:
      return kNanosPerSecond;
  }
  return 1;
}

absl::StatusOr<int64_t> ScaleToNanos(int64_t value, Precision p) {
  int64_t out;
  if (__builtin_mul_overflow(value, PrecisionNanos(p), &out)) {
    return absl::OutOfRangeError(
        StrCat("timestamp ", value, " is outside the representable range (years 1677 to 2262)"));
  }
  return out;
}

absl::StatusOr<int64_t> ParseRfc3339(std::string_view s) {
  size_t pos = 0;
  int64_t year, month, day, hour, minute, second;
  if (!ReadDigits(s, &pos, 4, &year)) return Bad(s, "expected a 4-digit year");
  if (pos >= s.size() || s[pos++] != '-') return Bad(s, "expected '-' after the year");
  if (!ReadDigits(s, &pos, 2, &month) || month < 1 || month > 12)
    return Bad(s, "expected a month 01-12");
  if (pos >= s.size() || s[pos++] != '-') return Bad(s, "expected '-' after the month");
  if (!ReadDigits(s, &pos, 2, &day) || day < 1 ||
      day > DaysInMonth(year, static_cast<unsigned>(month)))
    return Bad(s, "day out of range for the month");
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't'))
    return Bad(s, "expected 'T' between date and time");
  ++pos;
  if (!ReadDigits(s, &pos, 2, &hour) || hour > 23) return Bad(s, "expected an hour 00-23");
  if (pos >= s.size() || s[pos++] != ':') return Bad(s, "expected ':' after the hour");
  if (!ReadDigits(s, &pos, 2, &minute) || minute > 59) return Bad(s, "expected minutes 00-59");
  if (pos >= s.size() || s[pos++] != ':') return Bad(s, "expected ':' after the minutes");
  // 60 is accepted as a leap second and folds into the next second, as RFC 3339 allows.
  if (!ReadDigits(s, &pos, 2, &second) || second > 60) return Bad(s, "expected seconds 00-60");
  int64_t frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (++digits > 9) return Bad(s, "at most 9 fractional digits are allowed");
      frac = frac * 10 + (s[pos] - '0');
      ++pos;
    }
    if (digits == 0) return Bad(s, "expected digits after '.'");
    for (int i = digits; i < 9; ++i) frac *= 10;
  }
  int64_t offset_seconds = 0;
  if (pos >= s.size()) return Bad(s, "missing time zone ('Z' or an offset like +02:00)");
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int64_t oh, om;
    if (!ReadDigits(s, &pos, 2, &oh) || oh > 23) return Bad(s, "bad offset hours");
    if (pos >= s.size() || s[pos++] != ':') return Bad(s, "expected ':' in the offset");
    if (!ReadDigits(s, &pos, 2, &om) || om > 59) return Bad(s, "bad offset minutes");
    offset_seconds = sign * (oh * 3600 + om * 60);
  } else {
    return Bad(s, "expected 'Z' or an offset like +02:00");
  }
  if (pos != s.size()) return Bad(s, "unexpected characters after the time zone");

  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  // Seconds fit easily in int64 for years 0000-9999; nanoseconds may not.
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  // Before 1970 borrow a second first: in the earliest second of the range secs * 1e9
  // alone underflows although the sum fits (INT64_MIN is 1677-09-21T00:12:43.145224192Z).
  if (secs < 0 && frac > 0) {
    ++secs;
    frac -= kNanosPerSecond;
  }
  int64_t nanos;
  if (__builtin_mul_overflow(secs, kNanosPerSecond, &nanos) ||
      __builtin_add_overflow(nanos, frac, &nanos)) {
    return absl::OutOfRangeError(StrCat("timestamp \"", s.substr(0, 64),
                                        "\" is outside the representable range "
                                        "(1677-09-21 to 2262-04-11)"));
  }
  return nanos;
}

void AppendRfc3339(int64_t nanos, std::string* out) {
  int64_t secs = FloorDiv(nanos, kNanosPerSecond);
  // From the remainder: secs * 1e9 overflows for the earliest second of the range.
  int64_t frac = nanos % kNanosPerSecond;
  if (frac < 0) frac += kNanosPerSecond;
  int64_t days = FloorDiv(secs, 86400);
  int64_t sod = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[40];
  char* p = buf;
  auto put2 = [&p](int64_t v) {
    *p++ = static_cast<char>('0' + v / 10);
    *p++ = static_cast<char>('0' + v % 10);
  };
  put2(y / 100);
  put2(y % 100);
  *p++ = '-';
  put2(m);
  *p++ = '-';
  put2(d);
  *p++ = 'T';
  put2(sod / 3600);
  *p++ = ':';
  put2(sod / 60 % 60);
  *p++ = ':';
  put2(sod % 60);
  if (frac != 0) {
    *p++ = '.';
    char digits[9];
    for (int i = 8; i >= 0; --i) {
      digits[i] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    int n = 9;
    while (n > 0 && digits[n - 1] == '0') --n;
    for (int i = 0; i < n; ++i) *p++ = digits[i];
  }
  *p++ = 'Z';
  out->append(buf, p - buf);
}

std::string FormatRfc3339(int64_t nanos) {
  std::string s;
  AppendRfc3339(nanos, &s);
  return s;
}

absl::StatusOr<int64_t> ParseDurationNanos(std::string_view s) {
  static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
      {"ms", 1'000'000},
      {"s", kNanosPerSecond},
      {"m", 60 * kNanosPerSecond},
      {"h", 3600 * kNanosPerSecond},
      {"d", 86400 * kNanosPerSecond},
      {"w", 7 * 86400 * kNanosPerSecond}};
  int64_t unit = kNanosPerSecond;
  std::string_view digits = s;
  for (const auto& [suffix, ns] : kUnits) {
    if (s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix &&
        s[s.size() - suffix.size() - 1] >= '0' && s[s.size() - suffix.size() - 1] <= '9') {
      digits = s.substr(0, s.size() - suffix.size());
      unit = ns;
      break;
    }
  }
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  int64_t out;
  if (ec != std::errc() || ptr != digits.data() + digits.size() || v <= 0 ||
      __builtin_mul_overflow(v, unit, &out)) {
    return absl::InvalidArgumentError(StrCat("\"", s.substr(0, 40),
                                             "\" is not a duration (a positive whole number "
                                             "with ms, s, m, h, d or w)"));
  }
  return out;
}

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace timestore
