// Internal to the expression library (expression_parser.cc,
// expression_eval.cc): the node tree a compiled Expression holds, and the
// helpers both the parser and the evaluator use. Not part of the public
// interface; include migrate/expression.h instead.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "migrate/expression.h"

namespace timestore::migrate {

enum class NodeKind { kLiteral, kInput, kNeg, kNot, kBinary, kCast, kIsNull, kFunc };
enum class BinOp { kAdd, kSub, kMul, kDiv, kMod, kConcat, kEq, kNe, kLt, kLe, kGt, kGe, kAnd, kOr };

// One cell while evaluating.
struct Value {
  bool null = true;
  int64_t i = 0;  // timestamp, integer, boolean (0/1)
  double d = 0;
  std::string s;
};

struct ExprNode {
  NodeKind kind = NodeKind::kLiteral;
  ColumnType type = ColumnType::kInteger;
  bool untyped_null = false;  // the NULL literal, typed by its context
  Value literal;
  int input = -1;
  BinOp op = BinOp::kAdd;
  bool negate = false;  // IS NOT NULL
  std::string func;
  std::vector<ExprPtr> args;
  mutable int depth = 0;  // levels from here to the deepest leaf; 0: not computed yet
};

namespace expression_internal {

// `s` in ASCII lower case (keywords, types and function names).
std::string Lower(std::string_view s);

}  // namespace expression_internal

}  // namespace timestore::migrate
