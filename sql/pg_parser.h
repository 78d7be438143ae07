// libpg_query's parser, made safe for any input. Its parser and JSON writer
// recurse once per nesting level with no depth check of their own (15-4.0's
// stack check is compiled out): SELECT 1+1+...+1 with 100,000 terms overflows
// an 8 MiB thread stack. So statements are capped in length, and long ones
// are parsed on a thread whose stack is large enough for any statement under
// the cap (the memory is reserved, and touched only as deep as the parse goes).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace timestore::sql {

// Longer statements (or simple-query strings) are refused with 54000.
inline constexpr size_t kMaxStatementBytes = 1 << 20;

// The parse tree of `sql` as libpg_query's JSON; a syntax error is 42601
// with its position.
absl::StatusOr<std::string> ParseToJson(std::string_view sql);

// The [offset, length) of each statement of `sql` (a length of 0 runs to the
// end), found by PostgreSQL's parser; a syntax error anywhere is 42601.
absl::StatusOr<std::vector<std::pair<int, int>>> SplitToRanges(std::string_view sql);

}  // namespace timestore::sql
