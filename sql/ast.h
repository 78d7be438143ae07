// The statements Timestore's SQL understands, as a small tree built from
// libpg_query's parse tree (PostgreSQL 15's own grammar: no SQL grammar is
// written here). Constructs outside the supported subset are refused while
// the tree is built, with 0A000 naming the construct, so later stages only
// see what they can answer.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sql/value.h"

namespace timestore::sql {

enum class ExprKind : uint8_t {
  kConst,     // value
  kParam,     // $n: param (1-based)
  kColumn,    // name; qualifier in `qualifier` (a table name or alias)
  kStar,      // * in a select list
  kFunc,      // name(args) [DISTINCT] [WITHIN GROUP (ORDER BY within_group)]
  kOp,        // operator `name` with one (prefix) or two args: + - * / % = <> < <= > >= || ~~ ~~*
  kAnd,       // args
  kOr,        // args
  kNot,       // args[0]
  kIn,        // args[0] [NOT] IN (args[1..])
  kBetween,   // args[0] [NOT] BETWEEN args[1] AND args[2]
  kNullTest,  // args[0] IS [NOT] NULL
  kBoolTest,  // args[0] IS [NOT] TRUE/FALSE: name = "true"/"false"
  kCast,      // args[0]::cast_type
  kCase,      // CASE [args[0] when has_case_arg] WHEN w THEN t ... [ELSE e]: see below
};

struct Expr {
  ExprKind kind = ExprKind::kConst;
  std::string name;  // column, function (lower-cased), operator
  std::string qualifier;
  std::vector<Expr> args;
  Value value;
  int param = 0;
  SqlType cast_type = SqlType::kNull;
  bool negated = false;   // NOT IN, NOT BETWEEN, IS NOT NULL, IS NOT TRUE
  bool distinct = false;  // aggregate DISTINCT
  bool star = false;      // count(*)
  // kCase: args = [arg?] then pairs (when, then), then the else (or a null
  // constant); has_case_arg says whether args[0] is the CASE operand.
  bool has_case_arg = false;
  std::vector<Expr> within_group;
  int location = -1;  // byte offset in the statement, for error positions
};

struct SelectTarget {
  Expr expr;
  std::string alias;  // empty: PostgreSQL's default name
};

struct SortItem {
  Expr expr;
  bool desc = false;
  std::optional<bool> nulls_first;  // default: nulls last for ASC, first for DESC
};

struct TableRef {
  std::string schema;  // "" when unqualified
  std::string name;
  std::string alias;
};

struct Select {
  bool distinct = false;
  std::vector<Expr> distinct_on;  // DISTINCT ON (...)
  std::vector<SelectTarget> targets;
  std::optional<TableRef> from;
  std::optional<Expr> where;
  std::vector<Expr> group_by;
  std::optional<Expr> having;
  std::vector<SortItem> order_by;
  std::optional<Expr> limit;  // null constant = LIMIT ALL
  std::optional<Expr> offset;
};

enum class StatementKind : uint8_t {
  kSelect,
  kExplain,
  kSet,          // SET name = values / SET name TO DEFAULT / RESET
  kShow,         // SHOW name / SHOW ALL
  kTransaction,  // BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK, ABORT
  kDiscard,      // DISCARD ALL and friends: drops session state
  kDeallocate,   // DEALLOCATE name / ALL (SQL-level; protocol statements are the transport's)
};

enum class TransactionKind : uint8_t { kBegin, kCommit, kRollback, kOther };

struct Statement {
  StatementKind kind = StatementKind::kSelect;
  Select select;  // kSelect, kExplain
  bool explain_analyze = false;
  std::string name;  // kSet, kShow: the setting (lower-cased)
  std::vector<Value> set_values;
  bool set_default = false;  // SET x TO DEFAULT, RESET x, RESET ALL (name "all")
  TransactionKind tx = TransactionKind::kOther;
  std::string tag;  // the CommandComplete tag of commands ("SET", "BEGIN", ...)
  std::string raw;  // the statement's text
};

// Parses exactly one statement (42601 on a syntax error, with the position;
// 0A000 for constructs outside the subset). Returns the highest $n in
// *param_count.
absl::StatusOr<Statement> ParseStatement(std::string_view sql, int* param_count);

// Splits a string of statements at top-level semicolons with PostgreSQL's
// parser, so that, as in PostgreSQL, a syntax error anywhere fails the whole
// string before any of it runs (42601). Empty statements are dropped.
absl::StatusOr<std::vector<std::string>> SplitStatements(std::string_view sql);

// The name PostgreSQL gives an unnamed output column: the column name, the
// function name, "?column?" otherwise.
std::string DefaultColumnName(const Expr& e);

}  // namespace timestore::sql
