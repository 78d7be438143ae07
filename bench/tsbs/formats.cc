#include "bench/tsbs/formats.h"

#include <charconv>

namespace timestore::bench::tsbs {
namespace {

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

void AppendDouble(double v, std::string* out) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

}  // namespace

void AppendInfluxLine(const Row& row, std::string* out) {
  out->append(kMeasurement);
  // Tag values are generated (letters, digits, '-', '_', '.'): nothing to escape.
  for (size_t i = 0; i < kNumTags; ++i) {
    out->push_back(',');
    out->append(kTagNames[i]);
    out->push_back('=');
    out->append(row.tags->values[i]);
  }
  for (size_t i = 0; i < kNumFields; ++i) {
    out->push_back(i == 0 ? ' ' : ',');
    out->append(kFieldNames[i]);
    out->push_back('=');
    AppendDouble(row.fields[i], out);
  }
  out->push_back(' ');
  AppendInt(row.timestamp_ns, out);
  out->push_back('\n');
}

void AppendCsvHeader(std::string* out) {
  out->append("timestamp_ns");
  for (std::string_view t : kTagNames) {
    out->push_back(',');
    out->append(t);
  }
  for (std::string_view f : kFieldNames) {
    out->push_back(',');
    out->append(f);
  }
  out->push_back('\n');
}

void AppendCsvRow(const Row& row, std::string* out) {
  AppendInt(row.timestamp_ns, out);
  for (size_t i = 0; i < kNumTags; ++i) {
    out->push_back(',');
    out->append(row.tags->values[i]);
  }
  for (size_t i = 0; i < kNumFields; ++i) {
    out->push_back(',');
    AppendDouble(row.fields[i], out);
  }
  out->push_back('\n');
}

}  // namespace timestore::bench::tsbs
