// Canonical text of the types stored like strings (segment/column.h): json,
// uuid and the arrays. Every writer (JSON ingest, OTLP, connectors) turns a
// value into this text once, so equal values have equal text and dedup,
// groupBy, count_distinct and equality filters compare bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "segment/column.h"
#include "simdjson.h"

namespace timestore {

// Deepest nesting of arrays and objects a json value may have.
inline constexpr int kMaxJsonDepth = 64;

// Appends the canonical text of `v`: compact; object members sorted by key
// bytes (a key given twice is an error); numbers that are whole and within
// int64 written as integers, others in shortest round-trip form (not finite
// is an error); strings with only the escapes JSON requires. The error's
// message says what was wrong, for the caller to name record and column.
absl::Status AppendCanonicalJson(simdjson::ondemand::value v, std::string* out);

// Parses `json` (one value) and returns its canonical text.
absl::StatusOr<std::string> CanonicalJsonText(std::string_view json);

// Appends the canonical text of an array of `element` (double, integer,
// string or boolean) values; elements may not be null. The error's message
// says which element was wrong and what it held.
absl::Status AppendCanonicalArray(simdjson::ondemand::value v, ColumnType element,
                                  std::string* out);

// The type a new column takes from its first array value (raw JSON text):
// double[], string[] or boolean[] when every element is a number, a string or
// a boolean (and there is one at least), json otherwise.
ColumnType InferArrayType(std::string_view raw_array);

// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" in lowercase, from that form in any
// case, with or without braces, or from 32 hex digits without hyphens.
std::optional<std::string> CanonicalUuid(std::string_view s);
// Whether `s` is already canonical (what CanonicalUuid returns); allocates nothing.
bool IsCanonicalUuid(std::string_view s);
// The 16 bytes of a canonical uuid, and back.
void UuidToBytes(std::string_view canonical, uint8_t out[16]);
std::string UuidFromBytes(const uint8_t in[16]);

// The canonical text of `value` for a column of `type`, from text given
// outside JSON (CSV cells, SQL literals, migration values): a json column
// parses it as JSON, an array column as a JSON array, a uuid column as a
// uuid. Other types are an error.
absl::StatusOr<std::string> CanonicalTypedText(ColumnType type, std::string_view value);

// A path into a json column: "attributes.http.status" is column "attributes"
// and path {"http", "status"}. A segment that is all digits also indexes an
// array.
std::vector<std::string> SplitJsonPath(std::string_view path);

// The canonical text of the value at `path` in canonical json `doc`, or
// nullopt when the path leads nowhere (or to JSON null). An object key may
// span several segments ({"http.status": 200} answers path {"http",
// "status"}); the key spelling the most segments wins.
std::optional<std::string> ExtractJsonPath(std::string_view doc,
                                           const std::vector<std::string>& path);

// How a json value compares with a filter literal: the value's kind.
enum class JsonKind { kNull, kBool, kNumber, kString, kArray, kObject };
JsonKind JsonKindOf(std::string_view canonical);
// The content of a canonical JSON string (unescaped), or nullopt when
// `canonical` is not a string.
std::optional<std::string> JsonStringContent(std::string_view canonical);

}  // namespace timestore
