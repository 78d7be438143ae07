// The time buckets of a downsample. Fixed widths (a multiple of millisecond …
// week) are aligned to the Unix epoch, as they always were. Calendar buckets
// follow civil time in a time zone (UTC unless the query names one): months
// and years, and days and weeks when a time zone is given (weeks start on
// Monday). A civil day in a zone with daylight saving is 23 or 25 hours long
// twice a year, and its bucket is exactly that day.
#pragma once

#include <cstdint>

#include "absl/time/time.h"
#include "engine/query.h"

namespace timestore {

class Bucketer {
 public:
  // `start_ns` is the single bucket of a downsample without an interval.
  Bucketer(const Downsample& ds, int64_t start_ns);

  // The start of the bucket holding `t`, and an ordinal that grows by one per
  // bucket (so ordinal differences count buckets). Cheap for consecutive
  // times in one bucket: calendar buckets cache the last one.
  int64_t Floor(int64_t t, int64_t* ordinal = nullptr);

 private:
  int64_t FloorCalendar(int64_t t, int64_t* ordinal);

  bool has_interval_;
  int64_t start_ns_;
  int64_t interval_ns_;
  CalendarUnit unit_;
  int64_t size_;
  absl::TimeZone tz_;
  // The last calendar bucket: [lo_, hi_) with ordinal ord_.
  int64_t lo_ = 1, hi_ = 0, ord_ = 0;
};

}  // namespace timestore
