// Filters on the types stored as canonical text (segment/typed_text.h), matched
// once per dictionary entry (engine/filters.cc):
//   uuid   - compares like a string, after the literal is made canonical.
//   json   - compares by the value's JSON kind: a number literal with a JSON
//            number (numerically), a string literal with a JSON string (its
//            content, bytewise), a boolean with a JSON boolean (eq and neq
//            only). A value of another kind equals no literal: neq and notIn
//            pass it, every other comparison fails.
//   arrays - eq: the array contains the value; in: contains any of them; neq
//            and notIn: contains none. The value has the element type. No
//            ordering comparisons.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "engine/filters.h"
#include "engine/query.h"

namespace timestore {

// Lowers `lit` for a filter `f` on a uuid, json or array column of `type`
// into `cf` (strings: the canonical uuid or array element; literals: json).
// A literal of the wrong kind, or an operator the type has none of, is 400
// invalid_query naming the column.
absl::Status CompileTypedLiteral(const Filter& f, ColumnType type, const Literal& lit,
                                 CompiledFilter* cf);

// Whether the value with canonical text `text` passes `f` (not null).
bool MatchTypedText(const CompiledFilter& f, std::string_view text);

}  // namespace timestore
