// Values of the types held as canonical text (json, uuid and the arrays,
// sql/value.h): conversions from and to PostgreSQL's text forms, ordering,
// and the json operators -> ->> #> #>>.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "segment/array_text.h"
#include "sql/value.h"

namespace timestore::sql {

// The elements of canonical array text of array type `type`, as values of
// its element type. 22P02 when `canonical` is not such an array.
absl::StatusOr<std::vector<Value>> ArrayValues(SqlType type, std::string_view canonical);

// The canonical text of an array of `type` holding `elements` (each cast to
// the element type); 22004 for a NULL element (arrays hold none here).
absl::StatusOr<std::string> CanonicalArrayOf(SqlType type, const std::vector<Value>& elements);

// PostgreSQL's array literal of canonical array text: {1,2.5}, {t,f},
// {"a b",c}: elements quoted when empty, when they hold a space, comma,
// brace, quote or backslash, or spell NULL; " and \ escaped with \.
std::string PgArrayText(SqlType type, std::string_view canonical);
// The same appended to `out`; false (nothing appended) when `canonical` is
// not canonical array text of `type` (PgArrayText then gives it unchanged).
bool AppendPgArrayText(SqlType type, std::string_view canonical, std::string* out);

// `text` cast to `to` (json, uuid or an array type): json parsed and made
// canonical; a uuid in any case, with or without hyphens or braces; an
// array from a PostgreSQL array literal ({1,2}) or a JSON array ([1,2]).
// 22P02 naming the type and the text when it does not parse.
absl::StatusOr<Value> TextToTyped(std::string_view text, SqlType to);

// PostgreSQL's ordering of two values of one of these types: uuids and json
// by their canonical text, arrays element by element, then by length.
int CompareTyped(const Value& a, const Value& b);

// CompareTyped's order of two parsed arrays of one element type: elements
// [xb, xb + xn) of `x` against [yb, yb + yn) of `y`, element by element as
// CompareValues orders them, then the shorter first.
int CompareArrayElements(const ArrayElements& x, size_t xb, size_t xn, const ArrayElements& y,
                         size_t yb, size_t yn);

// The values of one array-typed ORDER BY key, parsed once (ParseArrayText)
// so a sort compares elements instead of parsing two texts per comparison.
class ParsedArrayKeys {
 public:
  explicit ParsedArrayKeys(SqlType type);
  // Parses the next row's value; a NULL, a value of another type or text
  // that is not canonical is kept unparsed (compare it with CompareValues).
  void Add(const Value& v);
  bool parsed(size_t row) const { return ok_[row] != 0; }
  // CompareTyped's order of rows `a` and `b`. REQUIRES: both parsed.
  int Compare(size_t a, size_t b) const {
    return CompareArrayElements(elements_, begin_[a], begin_[a + 1] - begin_[a], elements_,
                                begin_[b], begin_[b + 1] - begin_[b]);
  }

 private:
  SqlType type_;
  ArrayElements elements_;        // every row's elements, one row after the other
  std::vector<size_t> begin_{0};  // row i's are [begin_[i], begin_[i + 1])
  std::vector<uint8_t> ok_;
};

// A json operator over canonical json `doc`:
//   doc -> 'key' / doc -> n       the member or element, as json
//   doc ->> 'key' / doc ->> n     the same as text (a JSON string unquoted)
//   doc #> '{a,0}' / doc #>> ...  the value at a path (text[]), json or text
// A missing key, an index out of range, a key on an array or an index on an
// object give NULL (and ->> of a JSON null is NULL), as in PostgreSQL; a
// negative index counts from the end. `key` is text, bigint or text[].
absl::StatusOr<Value> JsonOperator(std::string_view op, std::string_view doc, const Value& key);

// The text ->> gives for canonical json `v`: a string's content, NULL for
// null, the canonical text of anything else.
std::optional<std::string> JsonAsText(std::string_view v);

}  // namespace timestore::sql
