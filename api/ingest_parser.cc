#include "api/ingest_parser.h"

#include <simdjson.h>

#include <cmath>
#include <cstring>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/json_writer.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "segment/typed_text.h"

namespace timestore::api {
namespace {

using simdjson::ondemand::json_type;

std::string_view JsonTypeName(json_type t) {
  switch (t) {
    case json_type::array:
      return "array";
    case json_type::object:
      return "object";
    case json_type::number:
      return "number";
    case json_type::string:
      return "string";
    case json_type::boolean:
      return "boolean";
    case json_type::null:
      return "null";
  }
  return "value";
}

absl::Status BadJson(std::string_view what, int64_t record, bool ndjson) {
  std::string where = record < 0 ? std::string()
                      : ndjson   ? StrCat(" on line ", record + 1)
                                 : StrCat(" in record ", record);
  return MakeError(absl::StatusCode::kInvalidArgument, "invalid_json",
                   StrCat("malformed JSON", where, ": ", what),
                   record < 0 ? "" : ErrorDetails(record, "", "", "", ndjson));
}

absl::Status BadSchema(std::string_view message) {
  return MakeError(absl::StatusCode::kInvalidArgument, "invalid_schema", message);
}

// Accumulates rows column by column.
class RecordParser {
 public:
  RecordParser(const IngestParseOptions& opts, std::string time_column)
      : opts_(opts), ndjson_(opts.format == BodyFormat::kNdjson), time_column_(time_column) {}

  // Adds a known field (current or declared schema).
  void AddField(const Field& f) {
    if (index_.contains(f.name)) return;
    index_.emplace(f.name, static_cast<int>(fields_.size()));
    fields_.push_back(f);
    builders_.emplace_back(f.type);
    touched_.push_back(0);
    raw_ok_.push_back(RawComparable(f.name));
  }

  absl::Status ParseRecord(simdjson::ondemand::object obj, int64_t record) {
    size_t position = 0;
    for (auto field_result : obj) {
      simdjson::ondemand::field field;
      if (auto e = std::move(field_result).get(field))
        return BadJson(simdjson::error_message(e), record, ndjson_);
      // Records of one batch nearly always list their keys in the same order:
      // compare the raw key bytes with the column seen at this position last
      // time, and only unescape and hash the key when that fails.
      int slot = -1;
      std::string_view key;
      if (position < order_cache_.size()) {
        int cand = order_cache_[position];
        if (raw_ok_[cand] && field.key().unsafe_is_equal(fields_[cand].name)) {
          slot = cand;
          key = fields_[cand].name;
        }
      }
      if (slot < 0) {
        if (field.unescaped_key().get(key)) return BadJson("bad object key", record, ndjson_);
        if (auto it = index_.find(key); it != index_.end()) slot = it->second;
      }
      simdjson::ondemand::value value = field.value();
      json_type type;
      if (value.type().get(type)) return BadJson("bad value", record, ndjson_);
      std::string inferred_text;  // a new array column's first value, canonical
      bool has_inferred_text = false;

      if (slot < 0) {
        // A new key: infer its type from the value (null infers nothing yet).
        ColumnType inferred;
        if (type == json_type::number) {
          inferred = ColumnType::kDouble;
        } else if (type == json_type::string) {
          inferred = key == time_column_ ? ColumnType::kTimestamp : ColumnType::kString;
        } else if (type == json_type::boolean) {
          inferred = ColumnType::kBoolean;
        } else if (type == json_type::null) {
          continue;
        } else if (type == json_type::object) {
          inferred = ColumnType::kJson;
        } else if (type == json_type::array) {
          // The element types decide the column's type: read the array whole.
          simdjson::ondemand::array arr;
          std::string_view raw;
          if (value.get_array().get(arr) || arr.raw_json().get(raw))
            return BadJson("bad array", record, ndjson_);
          inferred = InferArrayType(raw);
          auto text = CanonicalTypedText(inferred, raw);
          if (!text.ok()) {
            return Invalid(record, key, StrCat("a valid ", ColumnTypeName(inferred)),
                           ToStd(text.status().message()));
          }
          inferred_text = *std::move(text);
          has_inferred_text = true;
        } else {
          return Invalid(record, key, "a number, string, boolean, object, array or null",
                         JsonTypeName(type));
        }
        if (key == time_column_) inferred = ColumnType::kTimestamp;
        RETURN_IF_ERROR(ValidateColumnName(key));
        slot = static_cast<int>(fields_.size());
        index_.emplace(std::string(key), slot);
        fields_.push_back(Field{std::string(key), inferred});
        builders_.emplace_back(inferred);
        builders_.back().PadNullsTo(rows_);
        touched_.push_back(0);
        raw_ok_.push_back(RawComparable(fields_.back().name));
      }
      if (position >= order_cache_.size()) order_cache_.resize(position + 1);
      order_cache_[position++] = slot;
      ColumnBuilder& b = builders_[slot];
      if (b.size() != rows_) {
        return MakeError(absl::StatusCode::kInvalidArgument, "invalid_value",
                         StrCat(Where(record), " has the key \"", key, "\" twice"),
                         ErrorDetails(record, key, "", "", ndjson_));
      }
      if (has_inferred_text) {
        // A new array column's first value, already read and made canonical.
        if (fields_[slot].name == time_column_) {
          return Invalid(record, key, "a timestamp (RFC 3339 string or integer)", "an array");
        }
        touched_[slot] = 1;
        b.AppendString(inferred_text);
        has_inferred_text = false;
        continue;
      }
      RETURN_IF_ERROR(ParseValue(value, type, b, record, slot));
    }
    ++rows_;
    for (auto& b : builders_) {
      if (b.size() < rows_) b.PadNullsTo(rows_);
    }
    if (!time_seen_) {
      return MakeError(absl::StatusCode::kInvalidArgument, "invalid_value",
                       StrCat(Where(record), " lacks the time column \"", time_column_, "\""),
                       ErrorDetails(record, time_column_, "timestamp", "missing", ndjson_));
    }
    time_seen_ = false;
    return absl::OkStatus();
  }

  absl::StatusOr<IngestRequest> Finish(bool schema_declared) {
    IngestRequest req;
    req.slug = opts_.slug;
    req.time_column = time_column_;
    req.rows = rows_;
    req.schema_declared = schema_declared;
    req.fields.reserve(fields_.size());
    for (size_t i = 0; i < fields_.size(); ++i) {
      // Columns of the current schema that the batch never mentions stay out.
      if (from_current_.contains(fields_[i].name) && builders_[i].size() > 0 && AllNullBuilder(i)) {
        continue;
      }
      req.fields.push_back(fields_[i]);
      req.columns.push_back(builders_[i].Finish());
    }
    return req;
  }

  void MarkCurrent(const std::string& name) { from_current_.insert(name); }
  int time_slot() const { return index_.at(time_column_); }
  uint32_t rows() const { return rows_; }

 private:
  std::string Where(int64_t record) const {
    return ndjson_ ? StrCat("line ", record + 1) : StrCat("record ", record);
  }

  // A name with a quote, backslash or control byte is written escaped in JSON,
  // so its raw bytes never equal the name: match it through unescaping.
  static bool RawComparable(std::string_view name) {
    for (char c : name)
      if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
    return true;
  }

  bool AllNullBuilder(size_t i) { return touched_[i] == 0; }

  absl::Status Invalid(int64_t record, std::string_view column, std::string_view expected,
                       std::string_view got) {
    return MakeError(
        absl::StatusCode::kInvalidArgument, "invalid_value",
        StrCat(Where(record), ", column \"", column, "\": expected ", expected, ", got ", got),
        ErrorDetails(record, column, expected, got, ndjson_));
  }

  absl::Status ParseValue(simdjson::ondemand::value& v, json_type type, ColumnBuilder& b,
                          int64_t record, int slot) {
    const std::string& column = fields_[slot].name;
    const bool is_time = column == time_column_;
    if (type == json_type::null) {
      if (is_time)
        return Invalid(record, column, "a timestamp (the time column cannot be null)", "null");
      b.AppendNull();
      return absl::OkStatus();
    }
    touched_[slot] = 1;
    switch (b.type()) {
      case ColumnType::kDouble: {
        if (type != json_type::number) return Invalid(record, column, "double", JsonTypeName(type));
        double d;
        if (v.get_double().get(d))
          return Invalid(record, column, "double", "an unrepresentable number");
        b.AppendDouble(d);
        return absl::OkStatus();
      }
      case ColumnType::kInteger: {
        if (type != json_type::number)
          return Invalid(record, column, "integer", JsonTypeName(type));
        int64_t i;
        if (!v.get_int64().get(i)) {
          b.AppendInt(i);
          return absl::OkStatus();
        }
        double d;
        if (v.get_double().get(d) || std::floor(d) != d || d < -9.223372036854775808e18 ||
            d >= 9.223372036854775808e18) {
          std::string_view raw = v.raw_json_token();
          return Invalid(record, column, "integer (whole number within int64)",
                         StrCat("number ", raw.substr(0, 40)));
        }
        b.AppendInt(static_cast<int64_t>(d));
        return absl::OkStatus();
      }
      case ColumnType::kString: {
        if (type != json_type::string) return Invalid(record, column, "string", JsonTypeName(type));
        // A string without escapes is its raw bytes between the quotes: take
        // them in place instead of unescaping into the parser's buffer.
        std::string_view tok = v.raw_json_token();
        size_t close = tok.rfind('"');
        if (close > 0 && close != std::string_view::npos &&
            std::memchr(tok.data(), '\\', close) == nullptr) {
          b.AppendString(tok.substr(1, close - 1));
          return absl::OkStatus();
        }
        std::string_view s;
        if (v.get_string().get(s)) return Invalid(record, column, "string", "invalid string");
        b.AppendString(s);
        return absl::OkStatus();
      }
      case ColumnType::kJson: {
        scratch_.clear();
        if (absl::Status st = AppendCanonicalJson(v, &scratch_); !st.ok())
          return Invalid(record, column, "a JSON value", ToStd(st.message()));
        b.AppendString(scratch_);
        return absl::OkStatus();
      }
      case ColumnType::kUuid: {
        std::string_view s;
        if (type != json_type::string || v.get_string().get(s))
          return Invalid(record, column, "a uuid string", JsonTypeName(type));
        std::optional<std::string> u = CanonicalUuid(s);
        if (!u) {
          return Invalid(record, column, "a uuid (8-4-4-4-12 hex digits)",
                         StrCat("\"", s.substr(0, 64), "\""));
        }
        b.AppendString(*u);
        return absl::OkStatus();
      }
      case ColumnType::kDoubleArray:
      case ColumnType::kIntegerArray:
      case ColumnType::kStringArray:
      case ColumnType::kBooleanArray: {
        scratch_.clear();
        if (absl::Status st = AppendCanonicalArray(v, ArrayElementType(b.type()), &scratch_);
            !st.ok()) {
          return Invalid(record, column,
                         StrCat("an array of ", ColumnTypeName(ArrayElementType(b.type()))),
                         ToStd(st.message()));
        }
        b.AppendString(scratch_);
        return absl::OkStatus();
      }
      case ColumnType::kBoolean: {
        if (type != json_type::boolean)
          return Invalid(record, column, "boolean", JsonTypeName(type));
        bool x;
        if (v.get_bool().get(x)) return Invalid(record, column, "boolean", "invalid literal");
        b.AppendBool(x);
        return absl::OkStatus();
      }
      case ColumnType::kTimestamp: {
        int64_t ns;
        if (type == json_type::string) {
          std::string_view s;
          if (v.get_string().get(s)) return Invalid(record, column, "timestamp", "invalid string");
          auto parsed = ParseRfc3339(s);
          if (!parsed.ok()) {
            return Invalid(record, column, "an RFC 3339 timestamp",
                           StrCat("\"", s.substr(0, 64), "\" (", parsed.status().message(), ")"));
          }
          ns = *parsed;
        } else if (type == json_type::number) {
          int64_t i;
          if (v.get_int64().get(i)) {
            return Invalid(record, column, "an integer timestamp in the unit of `precision`",
                           StrCat("number ", v.raw_json_token().substr(0, 40)));
          }
          auto scaled = ScaleToNanos(i, opts_.precision);
          if (!scaled.ok())
            return Invalid(record, column, "a timestamp between 1677 and 2262", StrCat(i));
          ns = *scaled;
        } else {
          return Invalid(record, column, "a timestamp (RFC 3339 string or integer)",
                         JsonTypeName(type));
        }
        if (is_time) time_seen_ = true;
        b.AppendInt(ns);
        return absl::OkStatus();
      }
    }
    return absl::OkStatus();
  }

  const IngestParseOptions& opts_;
  const bool ndjson_;
  const std::string time_column_;
  std::vector<Field> fields_;
  std::vector<ColumnBuilder> builders_;
  StringMap<int> index_;
  absl::flat_hash_set<std::string> from_current_;
  std::vector<uint8_t> touched_;  // per slot: a non-null value was seen
  std::vector<int> order_cache_;  // key position in a record -> slot
  std::vector<uint8_t> raw_ok_;   // per slot: the name can be matched on raw JSON bytes
  uint32_t rows_ = 0;
  bool time_seen_ = false;
  std::string scratch_;  // canonical text of a json, uuid or array value
};

simdjson::ondemand::parser& ThreadParser() {
  static thread_local simdjson::ondemand::parser parser;
  return parser;
}

// Object members are always read in order: simdjson 3.0's unordered lookup
// assumes well-formed input when it wraps around an object, which a hostile
// body is not (found by fuzz/ingest_fuzz.cc).
absl::StatusOr<std::vector<Field>> ParseDeclaredSchema(simdjson::ondemand::value schema_value) {
  std::vector<Field> out;
  simdjson::ondemand::object schema;
  if (schema_value.get_object().get(schema)) return BadSchema("\"schema\" must be an object");
  bool have_fields = false;
  for (auto member : schema) {
    simdjson::ondemand::field m;
    std::string_view key;
    if (std::move(member).get(m) || m.unescaped_key().get(key))
      return BadJson("malformed \"schema\" object", -1, false);
    if (key != "fields") continue;
    have_fields = true;
    simdjson::ondemand::array fields;
    if (m.value().get_array().get(fields))
      return BadSchema("\"schema.fields\" must be an array of {\"name\", \"type\"}");
    int64_t i = 0;
    for (auto f : fields) {
      simdjson::ondemand::object fo;
      if (f.get_object().get(fo)) {
        return BadSchema(StrCat("schema.fields[", i, "] must be an object {\"name\", \"type\"}"));
      }
      std::string name_copy, type_copy;
      bool has_name = false, has_type = false;
      for (auto attr : fo) {
        simdjson::ondemand::field a;
        std::string_view akey, aval;
        if (std::move(attr).get(a) || a.unescaped_key().get(akey))
          return BadJson(StrCat("malformed schema.fields[", i, "]"), -1, false);
        if (akey == "name" || akey == "type") {
          if (a.value().get_string().get(aval)) {
            return BadSchema(StrCat("schema.fields[", i, "].", akey, " must be a string"));
          }
          (akey == "name" ? name_copy : type_copy) = std::string(aval);
          (akey == "name" ? has_name : has_type) = true;
        }
      }
      if (!has_name) return BadSchema(StrCat("schema.fields[", i, "] needs a string \"name\""));
      if (!has_type) {
        return BadSchema(
            StrCat("schema.fields[", i, "] (\"", name_copy, "\") needs a string \"type\""));
      }
      auto t = ParseColumnType(type_copy);
      if (!t) {
        return MakeError(
            absl::StatusCode::kInvalidArgument, "invalid_schema",
            StrCat("schema.fields[", i, "] (\"", name_copy, "\") has unknown type \"", type_copy,
                   "\"; expected timestamp, double, integer, string, boolean, json, uuid, ",
                   "double[], integer[], string[] or boolean[]"),
            ErrorDetails(-1, name_copy,
                         "timestamp|double|integer|string|boolean|json|uuid|double[]|integer[]|"
                         "string[]|boolean[]",
                         type_copy));
      }
      RETURN_IF_ERROR(ValidateColumnName(name_copy));
      for (const auto& prev : out) {
        if (prev.name == name_copy)
          return MakeError(absl::StatusCode::kInvalidArgument, "invalid_schema",
                           StrCat("schema declares column \"", name_copy, "\" twice"),
                           ErrorDetails(-1, name_copy, "", ""));
      }
      out.push_back(Field{std::move(name_copy), *t});
      ++i;
    }
  }
  if (!have_fields) return BadSchema("\"schema.fields\" must be an array of {\"name\", \"type\"}");
  return out;
}

absl::Status CheckTimeField(const std::vector<Field>& fields, const std::string& time_column) {
  for (const auto& f : fields) {
    if (f.name == time_column && f.type != ColumnType::kTimestamp) {
      return MakeError(absl::StatusCode::kInvalidArgument, "invalid_schema",
                       StrCat("the time column \"", time_column,
                              "\" must have type timestamp, not ", ColumnTypeName(f.type)),
                       ErrorDetails(-1, time_column, "timestamp", ColumnTypeName(f.type)));
    }
  }
  return absl::OkStatus();
}

// Seeds the parser with the current schema and the declared fields; a
// declared type that differs from the stored one is a 422 schema conflict.
absl::Status SeedFields(RecordParser* p, const IngestParseOptions& opts,
                        const std::vector<Field>& declared, const std::string& time_column) {
  RETURN_IF_ERROR(CheckTimeField(declared, time_column));
  if (opts.current != nullptr) {
    RETURN_IF_ERROR(MergeFields(*opts.current, declared).status());
    for (const auto& f : opts.current->fields) {
      p->AddField(f);
      p->MarkCurrent(f.name);
    }
  }
  p->AddField(Field{time_column, ColumnType::kTimestamp});
  for (const auto& f : declared) p->AddField(f);
  return absl::OkStatus();
}

// The parts of a JSON body that say how to read its records.
struct BodyHeader {
  std::vector<Field> declared;
  bool schema_declared = false;
  std::string time_column;
  // partitionKey: attributes of the whole batch, stored as string columns of
  // every row.
  std::vector<std::pair<std::string, std::string>> partition_key;
  bool operator==(const BodyHeader&) const = default;
};

absl::Status ParsePartitionKey(simdjson::ondemand::value value, BodyHeader* h) {
  h->partition_key.clear();
  bool is_null = false;
  if (!value.is_null().get(is_null) && is_null) return absl::OkStatus();
  simdjson::ondemand::object o;
  if (value.get_object().get(o)) {
    return MakeError(absl::StatusCode::kInvalidArgument, "invalid_request",
                     "\"partitionKey\" must be an object of string values, e.g. "
                     "{\"region\": \"eu\"}",
                     "{\"field\":\"partitionKey\"}");
  }
  for (auto member : o) {
    simdjson::ondemand::field f;
    std::string_view key, v;
    if (std::move(member).get(f) || f.unescaped_key().get(key)) {
      return BadJson("malformed \"partitionKey\" object", -1, false);
    }
    std::string name(key);
    if (f.value().get_string().get(v)) {
      return MakeError(absl::StatusCode::kInvalidArgument, "invalid_value",
                       StrCat("partitionKey.", name, " must be a string"),
                       ErrorDetails(-1, name, "string", ""));
    }
    RETURN_IF_ERROR(ValidateColumnName(name));
    for (const auto& [k, unused] : h->partition_key) {
      if (k == name) {
        return MakeError(absl::StatusCode::kInvalidArgument, "invalid_request",
                         StrCat("partitionKey names \"", name, "\" twice"),
                         ErrorDetails(-1, name, "", ""));
      }
    }
    h->partition_key.emplace_back(std::move(name), std::string(v));
  }
  return absl::OkStatus();
}

// Adds the partitionKey attributes to every row of `req` as string columns. A
// record that sets the same column, or a column of another type, is a 400:
// the batch would say two things about one value.
absl::Status ApplyPartitionKey(const BodyHeader& h, const IngestParseOptions& opts,
                               IngestRequest* req) {
  for (const auto& [name, value] : h.partition_key) {
    if (name == req->time_column) {
      return MakeError(absl::StatusCode::kInvalidArgument, "invalid_value",
                       StrCat("partitionKey.", name, " names the time column"),
                       ErrorDetails(-1, name, "", ""));
    }
    const int stored_index = opts.current ? opts.current->IndexOf(name) : -1;
    const Field* stored = stored_index >= 0 ? &opts.current->fields[stored_index] : nullptr;
    if (stored != nullptr && stored->type != ColumnType::kString) {
      return MakeError(absl::StatusCode::kInvalidArgument, "invalid_value",
                       StrCat("partitionKey.", name, " is a string, but column \"", name,
                              "\" has type ", ColumnTypeName(stored->type)),
                       ErrorDetails(-1, name, ColumnTypeName(stored->type), "string"));
    }
    ColumnVector col;
    col.type = ColumnType::kString;
    col.length = req->rows;
    col.dict.push_back(value);
    col.ids.assign(req->rows, 0);
    bool replaced = false;
    for (size_t i = 0; i < req->fields.size(); ++i) {
      if (req->fields[i].name != name) continue;
      const ColumnVector& existing = req->columns[i];
      if (req->fields[i].type != ColumnType::kString || existing.NullCount() != existing.size()) {
        return MakeError(
            absl::StatusCode::kInvalidArgument, "invalid_value",
            StrCat("column \"", name, "\" is given both by partitionKey and by the records"),
            ErrorDetails(-1, name, "", ""));
      }
      req->columns[i] = std::move(col);
      replaced = true;
      break;
    }
    if (!replaced) {
      req->fields.push_back(Field{name, ColumnType::kString});
      req->columns.push_back(std::move(col));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseHeaderMember(std::string_view key, simdjson::ondemand::value value,
                               BodyHeader* h) {
  if (key == "schema") {
    bool is_null = false;
    if (!value.is_null().get(is_null) && is_null) {
      h->declared.clear();
      h->schema_declared = false;
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(h->declared, ParseDeclaredSchema(value));
    h->schema_declared = true;
    return absl::OkStatus();
  }
  std::string_view s;
  if (value.get_string().get(s) || s.empty()) {
    return MakeError(absl::StatusCode::kInvalidArgument, "invalid_request",
                     "\"timestampColumn\" must be a non-empty string");
  }
  h->time_column = std::string(s);
  return ValidateColumnName(h->time_column);
}

absl::Status NoRecords() {
  return MakeError(absl::StatusCode::kInvalidArgument, "invalid_request",
                   "the body needs a \"records\" array");
}

// One in-order pass over the body. With `header_known`, the header members are
// skipped and `h` is used as given; otherwise they are read into `h` as they
// come and `records` is parsed with what is known at that point.
// `*header_after_records` tells the caller that a header member followed the
// records, so they must be read again with the full header.
absl::StatusOr<IngestRequest> ParseJsonPass(std::string* body, const IngestParseOptions& opts,
                                            BodyHeader* h, bool header_known,
                                            bool* header_after_records, bool parse_records) {
  auto& parser = ThreadParser();
  simdjson::padded_string_view view(body->data(), body->size(), body->capacity());
  simdjson::ondemand::document doc;
  if (auto err = parser.iterate(view).get(doc))
    return BadJson(simdjson::error_message(err), -1, false);
  simdjson::ondemand::object root;
  if (auto err = doc.get_object().get(root)) {
    return BadJson(err == simdjson::INCORRECT_TYPE
                       ? "the body must be a JSON object with \"records\" (or send "
                         "application/x-ndjson)"
                       : simdjson::error_message(err),
                   -1, false);
  }
  std::optional<RecordParser> p;
  bool records_seen = false;
  for (auto member : root) {
    simdjson::ondemand::field m;
    std::string_view key;
    if (auto e = std::move(member).get(m)) return BadJson(simdjson::error_message(e), -1, false);
    if (auto e = m.unescaped_key().get(key)) return BadJson(simdjson::error_message(e), -1, false);
    if (key == "schema" || key == "timestampColumn" || key == "partitionKey") {
      if (header_known) continue;
      if (key == "partitionKey") {
        RETURN_IF_ERROR(ParsePartitionKey(m.value(), h));
      } else {
        RETURN_IF_ERROR(ParseHeaderMember(key, m.value(), h));
      }
      if (records_seen) *header_after_records = true;
      continue;
    }
    if (key != "records") {
      // Nothing a client sends is dropped silently: a member that is not
      // stored (a misspelt "records", say) is refused.
      std::string details;
      JsonWriter(&details).BeginObject().Key("field").String(key.substr(0, 64)).EndObject();
      return MakeError(absl::StatusCode::kInvalidArgument, "invalid_request",
                       StrCat("unknown member \"", key.substr(0, 64),
                              "\" in the body (allowed: records, schema, timestampColumn, "
                              "partitionKey)"),
                       details);
    }
    if (records_seen) {
      return MakeError(absl::StatusCode::kInvalidArgument, "invalid_request",
                       "the body has more than one \"records\" member");
    }
    records_seen = true;
    if (!parse_records) continue;
    simdjson::ondemand::array records;
    if (m.value().get_array().get(records)) {
      return MakeError(absl::StatusCode::kInvalidArgument, "invalid_request",
                       "\"records\" must be an array of objects");
    }
    p.emplace(opts, h->time_column);
    RETURN_IF_ERROR(SeedFields(&*p, opts, h->declared, h->time_column));
    int64_t index = 0;
    for (auto rec : records) {
      simdjson::ondemand::object obj;
      if (auto e = rec.get_object().get(obj)) {
        if (e == simdjson::INCORRECT_TYPE) {
          return MakeError(absl::StatusCode::kInvalidArgument, "invalid_value",
                           StrCat("record ", index, " is not a JSON object"),
                           ErrorDetails(index, "", "object", ""));
        }
        return BadJson(simdjson::error_message(e), index, false);
      }
      RETURN_IF_ERROR(p->ParseRecord(obj, index));
      ++index;
    }
  }
  if (!records_seen) return NoRecords();
  // Nothing may follow the root object, or `{...} {...}` would be accepted.
  const char* trailing = nullptr;
  if (!doc.current_location().get(trailing)) {
    return BadJson("unexpected content after the JSON object", -1, false);
  }
  if (!parse_records) return IngestRequest{};
  ASSIGN_OR_RETURN(IngestRequest req, p->Finish(h->schema_declared));
  RETURN_IF_ERROR(ApplyPartitionKey(*h, opts, &req));
  return req;
}

absl::StatusOr<IngestRequest> ParseJson(std::string* body, const IngestParseOptions& opts) {
  BodyHeader h;
  h.time_column = opts.current ? opts.current->time_column : "timestamp";
  const BodyHeader defaults = h;
  bool late_header = false;
  auto first = ParseJsonPass(body, opts, &h, /*header_known=*/false, &late_header,
                             /*parse_records=*/true);
  if (first.ok() && !late_header) return first;
  if (!first.ok()) {
    // The records were read with the header known so far. If a schema or
    // timestampColumn follows them, the error may be an artefact: read just
    // the header, and read the records again if it differs.
    BodyHeader full = defaults;
    bool unused = false;
    auto header_only =
        ParseJsonPass(body, opts, &full, /*header_known=*/false, &unused, /*parse_records=*/false);
    if (!header_only.ok() || full == h) return first.status();
    h = std::move(full);
  }
  bool unused = false;
  return ParseJsonPass(body, opts, &h, /*header_known=*/true, &unused, /*parse_records=*/true);
}

absl::StatusOr<IngestRequest> ParseNdjson(std::string* body, const IngestParseOptions& opts) {
  auto& parser = ThreadParser();
  std::string time_column = opts.current ? opts.current->time_column : "timestamp";
  RecordParser p(opts, time_column);
  RETURN_IF_ERROR(SeedFields(&p, opts, {}, time_column));
  const char* data = body->data();
  const size_t size = body->size();
  const size_t capacity = body->capacity();
  size_t pos = 0;
  int64_t line = 0;
  while (pos < size) {
    const char* nl = static_cast<const char*>(std::memchr(data + pos, '\n', size - pos));
    size_t end = nl ? static_cast<size_t>(nl - data) : size;
    std::string_view text(data + pos, end - pos);
    size_t next = end + 1;
    // Skip blank lines (and a lone \r of CRLF endings).
    bool blank = true;
    for (char c : text) {
      if (c != ' ' && c != '\t' && c != '\r') {
        blank = false;
        break;
      }
    }
    if (!blank) {
      // The rest of the buffer (and its padding) follows the line, which is the
      // padding simdjson needs to read past its end.
      simdjson::padded_string_view view(data + pos, text.size(), capacity - pos);
      simdjson::ondemand::document doc;
      if (auto e = parser.iterate(view).get(doc))
        return BadJson(simdjson::error_message(e), line, true);
      simdjson::ondemand::object obj;
      if (auto e = doc.get_object().get(obj)) {
        return MakeError(
            absl::StatusCode::kInvalidArgument, "invalid_json",
            StrCat("line ", line + 1, " is not a JSON object (", simdjson::error_message(e), ")"),
            ErrorDetails(line, "", "object", "", true));
      }
      RETURN_IF_ERROR(p.ParseRecord(obj, line));
      // After the whole object, a readable location means more tokens follow.
      const char* trailing = nullptr;
      if (!doc.current_location().get(trailing)) {
        return BadJson("unexpected content after the object (one record per line)", line, true);
      }
    }
    ++line;
    pos = next;
  }
  return p.Finish(false);
}

}  // namespace

absl::StatusOr<IngestRequest> ParseIngestBody(std::string* body,
                                              const IngestParseOptions& options) {
  if (body->capacity() < body->size() + simdjson::SIMDJSON_PADDING) {
    body->reserve(body->size() + simdjson::SIMDJSON_PADDING);
  }
  return options.format == BodyFormat::kNdjson ? ParseNdjson(body, options)
                                               : ParseJson(body, options);
}

}  // namespace timestore::api
