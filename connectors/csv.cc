#include "connectors/csv.h"

#include <cctype>

#include "common/json_writer.h"
#include "common/strings.h"
#include "segment/typed_text.h"

namespace timestore::connectors {

absl::StatusOr<bool> CsvReader::Next(std::vector<std::string>* fields) {
  fields->clear();
  // Skip blank lines (a trailing newline, CRLF files' empty last line).
  while (pos_ < text_.size() && (text_[pos_] == '\n' || text_[pos_] == '\r')) {
    if (text_[pos_] == '\n') ++line_;
    ++pos_;
  }
  if (pos_ >= text_.size()) return false;
  record_line_ = line_;
  std::string field;
  bool quoted = false;
  bool was_quoted = false;
  while (pos_ < text_.size()) {
    char c = text_[pos_++];
    if (quoted) {
      if (c == '"') {
        if (pos_ < text_.size() && text_[pos_] == '"') {
          field.push_back('"');
          ++pos_;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line_;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && field.empty() && !was_quoted) {
      quoted = true;
      was_quoted = true;
    } else if (c == ',') {
      fields->push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else if (c == '\n') {
      ++line_;
      break;
    } else if (c == '\r' && (pos_ >= text_.size() || text_[pos_] == '\n')) {
      // CR of CRLF: the LF ends the record.
    } else {
      field.push_back(c);
    }
  }
  if (quoted) {
    return absl::InvalidArgumentError(
        StrCat("line ", record_line_, ": a quoted field is not closed before the end of the file"));
  }
  fields->push_back(std::move(field));
  return true;
}

bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size() || !isdigit(static_cast<unsigned char>(s[i]))) return false;
  if (s[i] == '0' && i + 1 < s.size() && isdigit(static_cast<unsigned char>(s[i + 1]))) {
    return false;  // no leading zeros, as in JSON
  }
  while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || !isdigit(static_cast<unsigned char>(s[i]))) return false;
    while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= s.size() || !isdigit(static_cast<unsigned char>(s[i]))) return false;
    while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  return i == s.size();
}

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  }
  return true;
}

absl::Status AppendValue(std::string_view v, const Field* stored, bool is_time, std::string* out) {
  const bool number = IsJsonNumber(v);
  const bool boolean = EqualsIgnoreCase(v, "true") || EqualsIgnoreCase(v, "false");
  auto as_bool = [&] {
    out->append(tolower(static_cast<unsigned char>(v[0])) == 't' ? "true" : "false");
  };
  if (stored != nullptr) {
    switch (stored->type) {
      case ColumnType::kString:
        AppendJsonString(out, v);
        return absl::OkStatus();
      case ColumnType::kBoolean:
        if (boolean) {
          as_bool();
          return absl::OkStatus();
        }
        break;
      case ColumnType::kDouble:
      case ColumnType::kInteger:
      case ColumnType::kTimestamp:
        if (number) {
          out->append(v);
          return absl::OkStatus();
        }
        break;
      case ColumnType::kJson:
      case ColumnType::kUuid:
      case ColumnType::kDoubleArray:
      case ColumnType::kIntegerArray:
      case ColumnType::kStringArray:
      case ColumnType::kBooleanArray: {
        // The cell is the value's text: JSON for json and arrays ([1,2]), a
        // uuid for uuid. Its canonical form goes in the body as JSON (a uuid
        // as a string), which the ingest parser takes as the column's type.
        absl::StatusOr<std::string> text = CanonicalTypedText(stored->type, v);
        if (!text.ok()) {
          std::string_view shown = v.substr(0, 60);
          return absl::InvalidArgumentError(
              StrCat("column \"", stored->name, "\" is ", ColumnTypeName(stored->type),
                     " and the value \"", shown, v.size() > shown.size() ? "..." : "",
                     "\" is not: ", ToStd(text.status().message())));
        }
        if (stored->type == ColumnType::kUuid) {
          AppendJsonString(out, *text);
        } else {
          out->append(*text);
        }
        return absl::OkStatus();
      }
    }
    // A value the column cannot take: as a string, so the parser's error
    // names the record, the column, what it expected and what it got.
    AppendJsonString(out, v);
    return absl::OkStatus();
  }
  if (number) {
    out->append(v);
  } else if (boolean && !is_time) {
    as_bool();
  } else {
    AppendJsonString(out, v);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status AppendCsvRecordJson(const std::vector<std::string>& header,
                                 const std::vector<std::string>& fields, const Schema* current,
                                 std::string* out) {
  if (fields.size() > header.size()) {
    return absl::InvalidArgumentError(
        StrCat("has ", fields.size(), " fields; the header names ", header.size(), " columns"));
  }
  out->push_back('{');
  bool first = true;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].empty()) continue;  // null
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, header[i]);
    out->push_back(':');
    const Field* stored = nullptr;
    bool is_time = false;
    if (current != nullptr) {
      int idx = current->IndexOf(header[i]);
      if (idx >= 0) stored = &current->fields[idx];
      is_time = header[i] == current->time_column;
    } else {
      is_time = header[i] == "timestamp";
    }
    if (absl::Status s = AppendValue(fields[i], stored, is_time, out); !s.ok()) return s;
  }
  out->push_back('}');
  return absl::OkStatus();
}

}  // namespace timestore::connectors
