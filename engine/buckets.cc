#include "engine/buckets.h"

#include "absl/time/civil_time.h"
#include "common/time_util.h"

namespace timestore {
namespace {

int64_t ToNanos(absl::CivilSecond cs, absl::TimeZone tz) {
  return absl::ToUnixNanos(absl::FromCivil(cs, tz));
}

}  // namespace

Bucketer::Bucketer(const Downsample& ds, int64_t start_ns)
    : has_interval_(ds.has_interval),
      start_ns_(start_ns),
      interval_ns_(ds.interval_ns),
      unit_(ds.calendar),
      size_(ds.calendar_size),
      tz_(absl::UTCTimeZone()) {
  if (unit_ != CalendarUnit::kNone && !ds.timezone.empty()) {
    // The query parser checked the name; a zone that vanished since is UTC.
    if (!absl::LoadTimeZone(ds.timezone, &tz_)) tz_ = absl::UTCTimeZone();
  }
}

int64_t Bucketer::Floor(int64_t t, int64_t* ordinal) {
  if (!has_interval_) {
    if (ordinal != nullptr) *ordinal = 0;
    return start_ns_;
  }
  if (unit_ == CalendarUnit::kNone) {
    const int64_t b = FloorToMultiple(t, interval_ns_);
    if (ordinal != nullptr) *ordinal = FloorDiv(t, interval_ns_);
    return b;
  }
  if (t < lo_ || t >= hi_) lo_ = FloorCalendar(t, &ord_);
  if (ordinal != nullptr) *ordinal = ord_;
  return lo_;
}

int64_t Bucketer::FloorCalendar(int64_t t, int64_t* ordinal) {
  const absl::CivilSecond cs = absl::ToCivilSecond(absl::FromUnixNanos(t), tz_);
  absl::CivilSecond from, to;
  switch (unit_) {
    case CalendarUnit::kYear: {
      const int64_t o = FloorDiv(cs.year() - 1970, size_) * size_;
      from = absl::CivilYear(1970 + o);
      to = absl::CivilYear(1970 + o + size_);
      *ordinal = o / size_;
      break;
    }
    case CalendarUnit::kMonth: {
      const int64_t months = (cs.year() - 1970) * 12 + (cs.month() - 1);
      const int64_t o = FloorDiv(months, size_) * size_;
      from = absl::CivilMonth(1970, 1 + o);
      to = absl::CivilMonth(1970, 1 + o + size_);
      *ordinal = o / size_;
      break;
    }
    case CalendarUnit::kWeek: {
      const absl::CivilDay monday(1970, 1, 5);  // the first Monday of the epoch
      const int64_t days = absl::CivilDay(cs) - monday;
      const int64_t o = FloorDiv(days, 7 * size_);
      from = monday + o * 7 * size_;
      to = monday + (o + 1) * 7 * size_;
      *ordinal = o;
      break;
    }
    case CalendarUnit::kDay:
    case CalendarUnit::kNone: {
      const absl::CivilDay epoch(1970, 1, 1);
      const int64_t o = FloorDiv(absl::CivilDay(cs) - epoch, size_);
      from = epoch + o * size_;
      to = epoch + (o + 1) * size_;
      *ordinal = o;
      break;
    }
  }
  lo_ = ToNanos(from, tz_);
  hi_ = ToNanos(to, tz_);
  return lo_;
}

}  // namespace timestore
