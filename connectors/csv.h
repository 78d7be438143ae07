// CSV for the bulk loader (docs/connectors.md "CSV"): RFC 4180 text with a
// header row (quoted fields, "" inside quotes, LF or CRLF line ends), turned
// into the records of a JSON ingest body so the API's parser checks the
// values. Types follow the JSON ingest path: a value that is a JSON number
// becomes a number (a new column: double), true/false (any case) a boolean,
// an empty field null, anything else a string; a column the dataset already
// holds takes the value as its stored type wants it (a string column keeps
// "123" a string; an integer timestamp stays a number). A cell of a json,
// uuid or array column is that value's text (JSON for json and arrays:
// [1,2]) and goes into the record in its canonical form; one that does not
// parse fails the record naming the column, its type and the value.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/schema.h"

namespace timestore::connectors {

// Reads records one at a time. `text` must outlive the reader.
class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : text_(text) {}
  // The next record's fields; false at the end. Blank lines are skipped. An
  // unterminated quote is InvalidArgument naming the line it began on.
  absl::StatusOr<bool> Next(std::vector<std::string>* fields);
  // 1-based line on which the last record returned began.
  int line() const { return record_line_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  int record_line_ = 0;
};

// Appends one record as a JSON object ({"col":value,...}) to `out`; `current`
// (may be null) is the dataset's schema. Null values are left out. A record
// with more fields than the header is InvalidArgument; fewer fields are null.
absl::Status AppendCsvRecordJson(const std::vector<std::string>& header,
                                 const std::vector<std::string>& fields, const Schema* current,
                                 std::string* out);

// True when `s` is a JSON number (-?int(.frac)?(e[+-]?digits)?).
bool IsJsonNumber(std::string_view s);

}  // namespace timestore::connectors
