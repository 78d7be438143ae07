#include "common/time_util.h"

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "absl/status/status.h"
#include "common/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace timestore {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
// 2024-05-01T12:00:00Z.
constexpr int64_t kMay1Noon = int64_t{1714564800} * kSec;

int64_t Parse(std::string_view s) {
  auto r = ParseRfc3339(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status();
  return r.ok() ? *r : -12345;
}

absl::Status ParseError(std::string_view s) {
  auto r = ParseRfc3339(s);
  EXPECT_FALSE(r.ok()) << s << " parsed as " << (r.ok() ? *r : 0);
  return r.status();
}

TEST(ParseRfc3339, UtcAndOffsets) {
  EXPECT_EQ(Parse("2024-05-01T12:00:00Z"), kMay1Noon);
  EXPECT_EQ(Parse("2024-05-01T14:00:00+02:00"), kMay1Noon);
  EXPECT_EQ(Parse("2024-05-01T06:30:00-05:30"), kMay1Noon);
  EXPECT_EQ(Parse("2024-05-01T12:00:00+00:00"), kMay1Noon);
  EXPECT_EQ(Parse("2024-05-01T12:00:00-00:00"), kMay1Noon);
  // Offsets that cross a date boundary.
  EXPECT_EQ(Parse("2024-05-02T11:59:00+23:59"), kMay1Noon);
  EXPECT_EQ(Parse("2024-04-30T12:01:00-23:59"), kMay1Noon);
  EXPECT_EQ(Parse("1970-01-01T00:00:00Z"), 0);
}

TEST(ParseRfc3339, LowercaseSeparators) {
  EXPECT_EQ(Parse("2024-05-01t12:00:00z"), kMay1Noon);
  EXPECT_EQ(Parse("2024-05-01t12:00:00.5z"), kMay1Noon + kSec / 2);
}

TEST(ParseRfc3339, FractionDigitsZeroToNine) {
  const std::string digits = "123456789";
  for (size_t n = 1; n <= 9; ++n) {
    std::string s = StrCat("2024-05-01T12:00:00.", digits.substr(0, n), "Z");
    int64_t frac = 0;
    for (size_t i = 0; i < 9; ++i) frac = frac * 10 + (i < n ? digits[i] - '0' : 0);
    EXPECT_EQ(Parse(s), kMay1Noon + frac) << s;
  }
  EXPECT_EQ(Parse("2024-05-01T12:00:00.000000001Z"), kMay1Noon + 1);
  EXPECT_EQ(Parse("2024-05-01T12:00:00.000000000Z"), kMay1Noon);
  // Fraction and offset together.
  EXPECT_EQ(Parse("2024-05-01T14:00:00.25+02:00"), kMay1Noon + kSec / 4);
}

TEST(ParseRfc3339, TenFractionDigitsRejected) {
  absl::Status s = ParseError("2024-05-01T12:00:00.1234567891Z");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ToStd(s.message()), HasSubstr("at most 9 fractional digits"));
}

TEST(ParseRfc3339, EmptyFractionRejected) {
  EXPECT_THAT(ToStd(ParseError("2024-05-01T12:00:00.Z").message()),
              HasSubstr("expected digits after '.'"));
}

TEST(ParseRfc3339, BadCalendarDates) {
  EXPECT_THAT(ToStd(ParseError("2024-00-01T00:00:00Z").message()), HasSubstr("month 01-12"));
  EXPECT_THAT(ToStd(ParseError("2024-13-01T00:00:00Z").message()), HasSubstr("month 01-12"));
  EXPECT_THAT(ToStd(ParseError("2024-05-00T00:00:00Z").message()), HasSubstr("day out of range"));
  EXPECT_THAT(ToStd(ParseError("2024-05-32T00:00:00Z").message()), HasSubstr("day out of range"));
  EXPECT_THAT(ToStd(ParseError("2024-04-31T00:00:00Z").message()), HasSubstr("day out of range"));
  EXPECT_EQ(ParseError("2024-06-31T00:00:00Z").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseError("2024-09-31T00:00:00Z").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseError("2024-11-31T00:00:00Z").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Parse("2024-12-31T00:00:00Z") + 86400 * kSec, Parse("2025-01-01T00:00:00Z"));
}

TEST(ParseRfc3339, LeapYears) {
  EXPECT_THAT(ToStd(ParseError("2023-02-29T00:00:00Z").message()), HasSubstr("day out of range"));
  EXPECT_EQ(Parse("2024-02-29T00:00:00Z") + 86400 * kSec, Parse("2024-03-01T00:00:00Z"));
  // Centuries are leap years only when divisible by 400.
  EXPECT_EQ(ParseError("1900-02-29T00:00:00Z").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseError("2100-02-29T00:00:00Z").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Parse("2000-02-29T00:00:00Z") + 86400 * kSec, Parse("2000-03-01T00:00:00Z"));
  EXPECT_EQ(ParseError("2024-02-30T00:00:00Z").code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseRfc3339, BadClockFields) {
  EXPECT_THAT(ToStd(ParseError("2024-05-01T24:00:00Z").message()), HasSubstr("hour 00-23"));
  EXPECT_THAT(ToStd(ParseError("2024-05-01T12:60:00Z").message()), HasSubstr("minutes 00-59"));
  EXPECT_THAT(ToStd(ParseError("2024-05-01T12:00:61Z").message()), HasSubstr("seconds 00-60"));
  EXPECT_EQ(ParseError("2024-05-01T1:00:00Z").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseError("2024-05-01T12:0:00Z").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseError("2024-05-01T12-00-00Z").code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseRfc3339, LeapSecondFoldsIntoNextSecond) {
  EXPECT_EQ(Parse("2016-12-31T23:59:60Z"), Parse("2017-01-01T00:00:00Z"));
}

TEST(ParseRfc3339, MissingZoneRejected) {
  absl::Status s = ParseError("2024-05-01T12:00:00");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ToStd(s.message()), HasSubstr("missing time zone"));
  EXPECT_THAT(ToStd(ParseError("2024-05-01T12:00:00.5").message()), HasSubstr("missing time zone"));
}

TEST(ParseRfc3339, BadOffsetsRejected) {
  EXPECT_THAT(ToStd(ParseError("2024-05-01T12:00:00+24:00").message()),
              HasSubstr("bad offset hours"));
  EXPECT_THAT(ToStd(ParseError("2024-05-01T12:00:00+02:60").message()),
              HasSubstr("bad offset minutes"));
  EXPECT_THAT(ToStd(ParseError("2024-05-01T12:00:00+0200").message()),
              HasSubstr("expected ':' in the offset"));
  EXPECT_EQ(ParseError("2024-05-01T12:00:00+02").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseError("2024-05-01T12:00:00+2:00").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseError("2024-05-01T12:00:00UTC").code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseRfc3339, TrailingGarbageRejected) {
  for (std::string_view s :
       {"2024-05-01T12:00:00Zx", "2024-05-01T12:00:00Z ", "2024-05-01T12:00:00+02:00 ",
        "2024-05-01T12:00:00ZZ", "2024-05-01T12:00:00+02:000"}) {
    EXPECT_THAT(ToStd(ParseError(s).message()), HasSubstr("unexpected characters after")) << s;
  }
}

TEST(ParseRfc3339, MalformedDatesRejected) {
  for (std::string_view s :
       {"", "2024", "24-05-01T12:00:00Z", "2024/05/01T12:00:00Z", "2024-5-01T12:00:00Z",
        "2024-05-1T12:00:00Z", "2024-05-01 12:00:00Z", "2024-05-01X12:00:00Z", "2024-05-01",
        "+2024-05-01T12:00:00Z", "２０２４-05-01T12:00:00Z"}) {
    EXPECT_EQ(ParseError(s).code(), absl::StatusCode::kInvalidArgument) << s;
  }
}

TEST(ParseRfc3339, MessageQuotesInputTruncated) {
  EXPECT_THAT(ToStd(ParseError("2024-05-01T25:00:00Z").message()),
              HasSubstr("\"2024-05-01T25:00:00Z\""));
  std::string long_input = "2024-05-01T12:00:00Z" + std::string(1000, 'x');
  absl::Status s = ParseError(long_input);
  EXPECT_LT(s.message().size(), 200u);
}

TEST(ParseRfc3339, RangeLimits) {
  // The int64 extremes, to the nanosecond.
  EXPECT_EQ(Parse("1677-09-21T00:12:43.145224192Z"), kMin);
  EXPECT_EQ(Parse("2262-04-11T23:47:16.854775807Z"), kMax);
  EXPECT_EQ(Parse("2262-04-12T01:47:16.854775807+02:00"), kMax);
  EXPECT_EQ(Parse("1677-09-20T23:12:43.145224192-01:00"), kMin);
  EXPECT_EQ(Parse("1677-09-21T00:12:44Z"), kMin + (kSec - 145224192));

  for (std::string_view s :
       {"1677-09-21T00:12:43.145224191Z", "1677-09-21T00:12:43Z", "1677-01-01T00:00:00Z",
        "2262-04-11T23:47:16.854775808Z", "2262-04-11T23:47:17Z", "2263-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999999Z", "0000-01-01T00:00:00Z"}) {
    absl::Status st = ParseError(s);
    EXPECT_EQ(st.code(), absl::StatusCode::kOutOfRange) << s << ": " << st;
    EXPECT_THAT(ToStd(st.message()), HasSubstr("outside the representable range")) << s;
  }
}

// The parser used to compute seconds * 1e9 before adding the fraction, so the
// earliest representable second (which begins below INT64_MIN) was OutOfRange
// and FormatRfc3339(INT64_MIN) did not parse back.
TEST(ParseRfc3339, EarliestSecondOfRangeParses) {
  for (int64_t v : {kMin, kMin + 1, kMin + 854775807, kMin + 854775808}) {
    EXPECT_EQ(Parse(FormatRfc3339(v)), v) << FormatRfc3339(v);
  }
}

TEST(ParseRfc3339, Pre1970) {
  EXPECT_EQ(Parse("1969-12-31T23:59:59Z"), -kSec);
  EXPECT_EQ(Parse("1969-12-31T23:59:59.999999999Z"), -1);
  EXPECT_EQ(Parse("1969-12-31T23:59:59.5Z"), -kSec / 2);
  EXPECT_EQ(Parse("1900-01-01T00:00:00Z"), int64_t{-2208988800} * kSec);
  EXPECT_EQ(Parse("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(Parse("1970-01-01T00:00:00.000000001+00:01"), -60 * kSec + 1);
}

TEST(FormatRfc3339, TrimsTrailingZeros) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(kMay1Noon), "2024-05-01T12:00:00Z");
  EXPECT_EQ(FormatRfc3339(kMay1Noon + kSec / 2), "2024-05-01T12:00:00.5Z");
  EXPECT_EQ(FormatRfc3339(kMay1Noon + 123456789), "2024-05-01T12:00:00.123456789Z");
  EXPECT_EQ(FormatRfc3339(kMay1Noon + 120000000), "2024-05-01T12:00:00.12Z");
  EXPECT_EQ(FormatRfc3339(kMay1Noon + 1000), "2024-05-01T12:00:00.000001Z");
  EXPECT_EQ(FormatRfc3339(kMay1Noon + 1), "2024-05-01T12:00:00.000000001Z");
}

TEST(FormatRfc3339, NegativeNanos) {
  EXPECT_EQ(FormatRfc3339(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(FormatRfc3339(-kSec), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatRfc3339(-kSec - 1), "1969-12-31T23:59:58.999999999Z");
  EXPECT_EQ(FormatRfc3339(-kSec / 2), "1969-12-31T23:59:59.5Z");
  EXPECT_EQ(FormatRfc3339(-86400 * kSec), "1969-12-31T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(int64_t{-2208988800} * kSec), "1900-01-01T00:00:00Z");
}

TEST(FormatRfc3339, Extremes) {
  EXPECT_EQ(FormatRfc3339(kMin), "1677-09-21T00:12:43.145224192Z");
  EXPECT_EQ(FormatRfc3339(kMax), "2262-04-11T23:47:16.854775807Z");
}

TEST(FormatRfc3339, AppendsAndStaysShort) {
  std::string out = "t=";
  AppendRfc3339(kMay1Noon + 1, &out);
  EXPECT_EQ(out, "t=2024-05-01T12:00:00.000000001Z");
  for (int64_t v : {kMin, kMax, int64_t{-1}, int64_t{0}}) {
    EXPECT_LE(FormatRfc3339(v).size(), 35u);
  }
}

TEST(FormatRfc3339, RandomRoundTrip) {
  std::mt19937_64 rng(20240501);
  // Every int64 is a representable instant; mix full-range values with ones near
  // the epoch and whole/fractional seconds so trimming is exercised too.
  for (int i = 0; i < 20000; ++i) {
    int64_t v = static_cast<int64_t>(rng());
    switch (i % 4) {
      case 1:
        v %= 1'000'000 * kSec;
        break;
      case 2:
        v = v / kSec * kSec;
        break;
      case 3:
        v = v / 1000 * 1000;
        break;
    }
    std::string s = FormatRfc3339(v);
    auto back = ParseRfc3339(s);
    ASSERT_TRUE(back.ok()) << v << " -> " << s << ": " << back.status();
    ASSERT_EQ(*back, v) << s;
    if (s.find('.') != std::string::npos) {
      ASSERT_NE(s[s.size() - 2], '0') << s;  // trailing zeros trimmed
    }
  }
}

TEST(Precision, ParseAndNanos) {
  EXPECT_EQ(ParsePrecision("ns"), Precision::kNanoseconds);
  EXPECT_EQ(ParsePrecision("us"), Precision::kMicroseconds);
  EXPECT_EQ(ParsePrecision("ms"), Precision::kMilliseconds);
  EXPECT_EQ(ParsePrecision("s"), Precision::kSeconds);
  EXPECT_EQ(ParsePrecision(""), std::nullopt);
  EXPECT_EQ(ParsePrecision("S"), std::nullopt);
  EXPECT_EQ(ParsePrecision("sec"), std::nullopt);
  EXPECT_EQ(PrecisionNanos(Precision::kNanoseconds), 1);
  EXPECT_EQ(PrecisionNanos(Precision::kMicroseconds), 1000);
  EXPECT_EQ(PrecisionNanos(Precision::kMilliseconds), 1000000);
  EXPECT_EQ(PrecisionNanos(Precision::kSeconds), kSec);
}

TEST(Precision, ScaleToNanos) {
  EXPECT_EQ(*ScaleToNanos(1714564800, Precision::kSeconds), kMay1Noon);
  EXPECT_EQ(*ScaleToNanos(-3, Precision::kMilliseconds), -3'000'000);
  EXPECT_EQ(*ScaleToNanos(kMax, Precision::kNanoseconds), kMax);
  EXPECT_EQ(*ScaleToNanos(kMin, Precision::kNanoseconds), kMin);
  EXPECT_EQ(*ScaleToNanos(kMax / kSec, Precision::kSeconds), kMax / kSec * kSec);
  EXPECT_EQ(*ScaleToNanos(kMin / kSec, Precision::kSeconds), kMin / kSec * kSec);
  EXPECT_EQ(*ScaleToNanos(kMax / 1000, Precision::kMicroseconds), kMax / 1000 * 1000);
}

TEST(Precision, ScaleToNanosOverflow) {
  struct Case {
    int64_t v;
    Precision p;
  };
  for (Case c :
       {Case{kMax / kSec + 1, Precision::kSeconds}, Case{kMin / kSec - 1, Precision::kSeconds},
        Case{kMax / 1'000'000 + 1, Precision::kMilliseconds},
        Case{kMin / 1'000'000 - 1, Precision::kMilliseconds},
        Case{kMax / 1000 + 1, Precision::kMicroseconds}, Case{kMax, Precision::kSeconds},
        Case{kMin, Precision::kMicroseconds}}) {
    auto r = ScaleToNanos(c.v, c.p);
    ASSERT_FALSE(r.ok()) << c.v;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kOutOfRange);
    EXPECT_THAT(ToStd(r.status().message()), HasSubstr(StrCat(c.v)));
  }
}

TEST(FloorDiv, RoundsTowardNegativeInfinity) {
  EXPECT_EQ(FloorDiv(0, 10), 0);
  EXPECT_EQ(FloorDiv(9, 10), 0);
  EXPECT_EQ(FloorDiv(10, 10), 1);
  EXPECT_EQ(FloorDiv(-1, 10), -1);
  EXPECT_EQ(FloorDiv(-9, 10), -1);
  EXPECT_EQ(FloorDiv(-10, 10), -1);
  EXPECT_EQ(FloorDiv(-11, 10), -2);
  EXPECT_EQ(FloorDiv(7, -2), -4);
  EXPECT_EQ(FloorDiv(-7, -2), 3);
  EXPECT_EQ(FloorDiv(-8, -2), 4);
  EXPECT_EQ(FloorDiv(kMin, kSec), -9223372037);
  EXPECT_EQ(FloorDiv(kMax, kSec), 9223372036);
  // Bucket starts: floor(t / w) * w <= t < that + w, for negative t too.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 10000; ++i) {
    int64_t t = static_cast<int64_t>(rng()) / 4;
    int64_t w = static_cast<int64_t>(rng() % (3600 * kSec)) + 1;
    int64_t start = FloorDiv(t, w) * w;
    ASSERT_LE(start, t);
    ASSERT_GT(start + w, t);
  }
}

}  // namespace
}  // namespace timestore
