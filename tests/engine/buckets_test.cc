// Calendar buckets: months and years (any intervalSize, before and after the
// epoch), Monday weeks and civil days in a zone with daylight saving, and
// fixed widths unchanged.
#include "engine/buckets.h"

#include <gtest/gtest.h>

#include "common/time_util.h"

namespace timestore {
namespace {

int64_t T(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

Downsample Calendar(CalendarUnit unit, int64_t size = 1, std::string tz = "") {
  Downsample ds;
  ds.has_interval = true;
  ds.calendar = unit;
  ds.calendar_size = size;
  ds.timezone = std::move(tz);
  return ds;
}

TEST(BucketsTest, MonthsAndYearsInUtc) {
  Bucketer months(Calendar(CalendarUnit::kMonth), 0);
  int64_t a = 0, b = 0;
  EXPECT_EQ(months.Floor(T("2024-02-29T23:59:59Z"), &a), T("2024-02-01T00:00:00Z"));
  EXPECT_EQ(months.Floor(T("2024-03-01T00:00:00Z"), &b), T("2024-03-01T00:00:00Z"));
  EXPECT_EQ(b - a, 1);
  EXPECT_EQ(months.Floor(T("2023-12-31T12:00:00Z"), &b), T("2023-12-01T00:00:00Z"));
  EXPECT_EQ(a - b, 2);
  EXPECT_EQ(months.Floor(T("1969-07-20T20:17:40Z")), T("1969-07-01T00:00:00Z"));
  // Quarters start in January, April, July and October.
  Bucketer quarters(Calendar(CalendarUnit::kMonth, 3), 0);
  EXPECT_EQ(quarters.Floor(T("2024-06-30T00:00:00Z")), T("2024-04-01T00:00:00Z"));
  EXPECT_EQ(quarters.Floor(T("2024-07-01T00:00:00Z"), &a), T("2024-07-01T00:00:00Z"));
  EXPECT_EQ(quarters.Floor(T("2024-12-31T00:00:00Z"), &b), T("2024-10-01T00:00:00Z"));
  EXPECT_EQ(b - a, 1);
  Bucketer years(Calendar(CalendarUnit::kYear), 0);
  EXPECT_EQ(years.Floor(T("2024-12-31T23:59:59.999999999Z")), T("2024-01-01T00:00:00Z"));
  EXPECT_EQ(years.Floor(T("1969-12-31T23:59:59Z")), T("1969-01-01T00:00:00Z"));
  Bucketer decades(Calendar(CalendarUnit::kYear, 10), 0);
  EXPECT_EQ(decades.Floor(T("2024-05-01T00:00:00Z")), T("2020-01-01T00:00:00Z"));
}

TEST(BucketsTest, DaysAndWeeksInAZoneWithDaylightSaving) {
  // Berlin moved from UTC+1 to UTC+2 on 2024-03-31: that civil day is 23 h.
  Bucketer days(Calendar(CalendarUnit::kDay, 1, "Europe/Berlin"), 0);
  int64_t a = 0, b = 0;
  EXPECT_EQ(days.Floor(T("2024-03-31T12:00:00Z"), &a), T("2024-03-30T23:00:00Z"));
  EXPECT_EQ(days.Floor(T("2024-03-31T21:59:59Z")), T("2024-03-30T23:00:00Z"));
  EXPECT_EQ(days.Floor(T("2024-03-31T22:00:00Z"), &b), T("2024-03-31T22:00:00Z"));
  EXPECT_EQ(b - a, 1);
  // And back on 2024-10-27: a 25 h day.
  EXPECT_EQ(days.Floor(T("2024-10-27T23:30:00Z")), T("2024-10-27T23:00:00Z"));
  EXPECT_EQ(days.Floor(T("2024-10-27T22:59:00Z")), T("2024-10-26T22:00:00Z"));
  // Weeks start on Monday (2024-04-01 was one).
  Bucketer weeks(Calendar(CalendarUnit::kWeek, 1, "Europe/Berlin"), 0);
  EXPECT_EQ(weeks.Floor(T("2024-04-07T21:00:00Z")), T("2024-03-31T22:00:00Z"));
  EXPECT_EQ(weeks.Floor(T("2024-04-07T22:00:00Z")), T("2024-04-07T22:00:00Z"));
  // A month in New York starts at local midnight.
  Bucketer ny(Calendar(CalendarUnit::kMonth, 1, "America/New_York"), 0);
  EXPECT_EQ(ny.Floor(T("2024-05-01T03:00:00Z")), T("2024-04-01T04:00:00Z"));
  EXPECT_EQ(ny.Floor(T("2024-05-01T04:00:00Z")), T("2024-05-01T04:00:00Z"));
}

TEST(BucketsTest, FixedWidthsAndNoIntervalAreUnchanged) {
  Downsample fixed;
  fixed.has_interval = true;
  fixed.interval_ns = 3'600'000'000'000;
  Bucketer hours(fixed, 0);
  int64_t a = 0, b = 0;
  EXPECT_EQ(hours.Floor(T("2024-05-01T12:34:56Z"), &a), T("2024-05-01T12:00:00Z"));
  EXPECT_EQ(hours.Floor(T("2024-05-01T14:00:00Z"), &b), T("2024-05-01T14:00:00Z"));
  EXPECT_EQ(b - a, 2);
  EXPECT_EQ(hours.Floor(-1), -3'600'000'000'000);
  Downsample none;
  Bucketer all(none, 42);
  EXPECT_EQ(all.Floor(T("2024-05-01T12:34:56Z"), &a), 42);
  EXPECT_EQ(a, 0);
}

}  // namespace
}  // namespace timestore
