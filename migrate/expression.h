// Expressions of a migration's transforms (docs/migrate.md, "Expressions"),
// typed against the dataset's columns and evaluated a block of rows at a
// time. The grammar, loosest binding first:
//
//   expr    := expr OR expr | expr AND expr | NOT expr
//            | expr cmp expr                  cmp: = == != <> < <= > >=
//            | expr IS [NOT] NULL
//            | expr (+ | - | ||) expr | expr (* | / | %) expr
//            | - expr | expr :: type
//            | CAST ( expr AS type ) | name ( [expr {, expr}] ) | ( expr )
//            | column | "quoted column" | 'string' | 123 | 1.5 | 1e3
//            | TRUE | FALSE | NULL
//   type    := integer | double | string | boolean | timestamp | json | uuid
//   functions: lower upper trim substr(s, start[, len]) concat(...) length
//              coalesce(...) abs round(x[, digits]) floor ceil
//
// Keywords, types and function names are case-insensitive; column names
// are not. Nulls follow SQL: an operator or function with a null operand is
// null, but for coalesce, concat (which skips nulls), IS [NOT] NULL and
// three-valued AND/OR. Integer arithmetic stays integer (7 / 2 = 3) and an
// overflow is an error; mixed with a double it is double. timestamp ±
// integer (ns) is a timestamp, timestamp - timestamp an integer. A division
// or modulo by zero and a cast of a string that does not parse are errors
// naming the row's time, never silent nulls.
//
// json, uuid and the array types are values of their canonical text
// (segment/typed_text.h): a column passes through unchanged, compares with
// = and the others as that text, casts to string (the text) and from a
// string (parsed per row; a value that does not parse fails the migration
// naming the row). No function or arithmetic takes them: cast to string
// first.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "segment/column.h"

namespace timestore::migrate {

struct ExprNode;
using ExprPtr = std::shared_ptr<const ExprNode>;

// A typed expression over input columns (given to Evaluate by index).
// Immutable; shares subtrees. Thread-safe to evaluate concurrently.
class Expression {
 public:
  // What a column name means while compiling: an input column, or (after a
  // transform earlier in the migration) an expression over input columns.
  struct Binding {
    std::string name;
    ColumnType type;
    ExprPtr expr;
  };

  // The input column `index` itself.
  static Expression Input(int index, ColumnType type);
  // Parses `text` and types it against `columns`; InvalidArgument naming
  // the position and what was expected.
  static absl::StatusOr<Expression> Compile(std::string_view text,
                                            const std::vector<Binding>& columns);
  // `e` cast to `type` (InvalidArgument when no cast exists).
  static absl::StatusOr<Expression> CastTo(const Expression& e, ColumnType type);

  ColumnType type() const;
  const ExprPtr& node() const { return node_; }
  // The input index when this is an input column unchanged, else -1.
  int input_index() const;
  const std::string& text() const { return text_; }

  // Evaluates over `rows` rows; inputs[i] is input column i (null: all
  // null). `time` (may be null) names a failing row by its timestamp.
  absl::StatusOr<ColumnVector> Evaluate(std::span<const ColumnVector* const> inputs, uint32_t rows,
                                        const ColumnVector* time) const;

 private:
  Expression(ExprPtr node, std::string text) : node_(std::move(node)), text_(std::move(text)) {}
  ExprPtr node_;
  std::string text_;
};

}  // namespace timestore::migrate
