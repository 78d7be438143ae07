#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "common/strings.h"
#include "common/time_util.h"
#include "migrate/expression.h"
#include "migrate/expression_internal.h"

namespace timestore::migrate {

namespace expression_internal {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace expression_internal

namespace {

bool Numeric(ColumnType t) { return t == ColumnType::kInteger || t == ColumnType::kDouble; }

using expression_internal::Lower;

std::optional<ColumnType> TypeName(std::string_view s) {
  std::string l = Lower(s);
  if (l == "int" || l == "bigint") l = "integer";
  if (l == "float" || l == "float8" || l == "real") l = "double";
  if (l == "text" || l == "varchar") l = "string";
  if (l == "bool") l = "boolean";
  return ParseColumnType(l);
}

// ---- Tokens ----

enum class Tok { kEnd, kNumber, kString, kIdent, kQuotedIdent, kOp };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // identifiers and operators as written; strings unescaped
  size_t pos = 0;    // 1-based column in the expression
};

class Parser {
 public:
  Parser(std::string_view text, const std::vector<Expression::Binding>& cols)
      : text_(text), cols_(cols) {}

  absl::StatusOr<ExprPtr> Parse() {
    if (auto s = Tokenize(); !s.ok()) return s;
    auto e = ParseExpr(0);
    if (!e.ok()) return e;
    if (Peek().kind != Tok::kEnd) return Error(Peek(), "an operator or the end");
    return e;
  }

 private:
  absl::Status Fail(size_t pos, std::string_view what) const {
    return absl::InvalidArgumentError(
        StrCat("expression \"", text_, "\" at character ", pos, ": ", what));
  }
  absl::Status Error(const Token& t, std::string_view expected) const {
    if (t.kind == Tok::kEnd) return Fail(text_.size() + 1, StrCat("expected ", expected));
    return Fail(t.pos, StrCat("expected ", expected, ", found \"", t.text, "\""));
  }

  absl::Status Tokenize() {
    size_t i = 0;
    while (i < text_.size()) {
      char c = text_[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
        continue;
      }
      Token t;
      t.pos = i + 1;
      if (std::isdigit(static_cast<unsigned char>(c)) ||
          (c == '.' && i + 1 < text_.size() &&
           std::isdigit(static_cast<unsigned char>(text_[i + 1])))) {
        size_t j = i;
        while (j < text_.size() && std::isdigit(static_cast<unsigned char>(text_[j]))) ++j;
        if (j < text_.size() && text_[j] == '.') {
          ++j;
          while (j < text_.size() && std::isdigit(static_cast<unsigned char>(text_[j]))) ++j;
        }
        if (j < text_.size() && (text_[j] == 'e' || text_[j] == 'E')) {
          size_t k = j + 1;
          if (k < text_.size() && (text_[k] == '+' || text_[k] == '-')) ++k;
          if (k < text_.size() && std::isdigit(static_cast<unsigned char>(text_[k]))) {
            j = k;
            while (j < text_.size() && std::isdigit(static_cast<unsigned char>(text_[j]))) ++j;
          }
        }
        t.kind = Tok::kNumber;
        t.text = std::string(text_.substr(i, j - i));
        i = j;
      } else if (c == '\'' || c == '"') {
        const char q = c;
        std::string v;
        size_t j = i + 1;
        bool closed = false;
        while (j < text_.size()) {
          if (text_[j] == q) {
            if (j + 1 < text_.size() && text_[j + 1] == q) {
              v.push_back(q);
              j += 2;
              continue;
            }
            closed = true;
            ++j;
            break;
          }
          v.push_back(text_[j++]);
        }
        if (!closed)
          return Fail(i + 1, q == '\'' ? "unterminated string" : "unterminated quoted column");
        t.kind = q == '\'' ? Tok::kString : Tok::kQuotedIdent;
        t.text = std::move(v);
        i = j;
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t j = i;
        while (j < text_.size() &&
               (std::isalnum(static_cast<unsigned char>(text_[j])) || text_[j] == '_'))
          ++j;
        t.kind = Tok::kIdent;
        t.text = std::string(text_.substr(i, j - i));
        i = j;
      } else {
        static constexpr std::string_view kTwo[] = {"::", "==", "!=", "<>", "<=", ">=", "||"};
        std::string_view two = text_.substr(i, 2);
        bool matched = false;
        for (std::string_view op : kTwo) {
          if (two == op) {
            t.text = std::string(op);
            i += 2;
            matched = true;
            break;
          }
        }
        if (!matched) {
          if (std::string_view("+-*/%()<>=,").find(c) == std::string_view::npos)
            return Fail(i + 1, StrCat("unexpected character '", std::string(1, c), "'"));
          t.text = std::string(1, c);
          ++i;
        }
        t.kind = Tok::kOp;
      }
      tokens_.push_back(std::move(t));
    }
    Token end;
    end.pos = text_.size() + 1;
    tokens_.push_back(end);
    return absl::OkStatus();
  }

  const Token& Peek() const { return tokens_[pos_]; }
  Token Next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool IsOp(const Token& t, std::string_view op) const {
    return t.kind == Tok::kOp && t.text == op;
  }
  bool IsKeyword(const Token& t, std::string_view kw) const {
    return t.kind == Tok::kIdent && Lower(t.text) == kw;
  }
  absl::Status Expect(std::string_view op) {
    if (!IsOp(Peek(), op)) return Error(Peek(), StrCat("\"", op, "\""));
    Next();
    return absl::OkStatus();
  }

  absl::StatusOr<ColumnType> ParseType() {
    Token t = Next();
    if (t.kind != Tok::kIdent)
      return Error(t, "a type (integer, double, string, boolean, timestamp, json, uuid)");
    auto type = TypeName(t.text);
    if (!type)
      return Fail(t.pos, StrCat("unknown type \"", t.text,
                                "\" (integer, double, string, boolean, timestamp, json, uuid)"));
    return *type;
  }

  // Binding powers: OR 10, AND 20, NOT 25 (prefix), comparisons 30, IS 35,
  // + - || 50, * / % 60, unary minus 70, :: 80.
  // Parsing and evaluating recurse: a deeper expression (100,000 '(' or
  // '1+1+...') is refused rather than overflowing the stack.
  static constexpr int kMaxDepth = 256;

  // The node's depth, computed (and kept) from its arguments'.
  static int Depth(const ExprNode& n) {
    if (n.depth > 0) return n.depth;
    int d = 0;
    for (const ExprPtr& a : n.args) d = std::max(d, Depth(*a));
    n.depth = d + 1;
    return n.depth;
  }
  absl::Status CheckDepth(const ExprNode& n, size_t pos) const {
    if (Depth(n) <= kMaxDepth) return absl::OkStatus();
    return Fail(pos, StrCat("the expression nests deeper than ", kMaxDepth, " levels"));
  }

  absl::StatusOr<ExprPtr> ParseExpr(int min_bp) {
    if (nesting_ >= kMaxDepth) {
      return Fail(Peek().pos, StrCat("the expression nests deeper than ", kMaxDepth, " levels"));
    }
    ++nesting_;
    auto e = ParseNested(min_bp);
    --nesting_;
    return e;
  }

  absl::StatusOr<ExprPtr> ParseNested(int min_bp) {
    const size_t start = Peek().pos;
    auto lhs_or = ParsePrefix();
    if (!lhs_or.ok()) return lhs_or;
    ExprPtr lhs = *lhs_or;
    for (;;) {
      if (auto s = CheckDepth(*lhs, start); !s.ok()) return s;
      const Token t = Peek();
      if (IsOp(t, "::")) {
        if (80 < min_bp) break;
        Next();
        auto type = ParseType();
        if (!type.ok()) return type.status();
        auto c = MakeCast(lhs, *type, t.pos);
        if (!c.ok()) return c;
        lhs = *c;
        continue;
      }
      if (IsKeyword(t, "is")) {
        if (35 < min_bp) break;
        Next();
        bool negate = false;
        if (IsKeyword(Peek(), "not")) {
          Next();
          negate = true;
        }
        if (!IsKeyword(Peek(), "null")) return Error(Peek(), "NULL after IS");
        Next();
        auto n = std::make_shared<ExprNode>();
        n->kind = NodeKind::kIsNull;
        n->type = ColumnType::kBoolean;
        n->negate = negate;
        n->args = {lhs};
        lhs = n;
        continue;
      }
      std::optional<BinOp> op;
      int bp = 0;
      if (IsKeyword(t, "or"))
        op = BinOp::kOr, bp = 10;
      else if (IsKeyword(t, "and"))
        op = BinOp::kAnd, bp = 20;
      else if (IsOp(t, "=") || IsOp(t, "=="))
        op = BinOp::kEq, bp = 30;
      else if (IsOp(t, "!=") || IsOp(t, "<>"))
        op = BinOp::kNe, bp = 30;
      else if (IsOp(t, "<"))
        op = BinOp::kLt, bp = 30;
      else if (IsOp(t, "<="))
        op = BinOp::kLe, bp = 30;
      else if (IsOp(t, ">"))
        op = BinOp::kGt, bp = 30;
      else if (IsOp(t, ">="))
        op = BinOp::kGe, bp = 30;
      else if (IsOp(t, "+"))
        op = BinOp::kAdd, bp = 50;
      else if (IsOp(t, "-"))
        op = BinOp::kSub, bp = 50;
      else if (IsOp(t, "||"))
        op = BinOp::kConcat, bp = 50;
      else if (IsOp(t, "*"))
        op = BinOp::kMul, bp = 60;
      else if (IsOp(t, "/"))
        op = BinOp::kDiv, bp = 60;
      else if (IsOp(t, "%"))
        op = BinOp::kMod, bp = 60;
      if (!op || bp < min_bp) break;
      Next();
      // Comparisons do not chain (a < b < c is an error): the right side
      // binds tighter than another comparison.
      auto rhs = ParseExpr(bp == 30 ? 31 : bp + 1);
      if (!rhs.ok()) return rhs;
      if (bp == 30) {
        const Token& after = Peek();
        for (std::string_view c : {"=", "==", "!=", "<>", "<", "<=", ">", ">="}) {
          if (IsOp(after, c)) return Fail(after.pos, "comparisons do not chain; use AND");
        }
      }
      auto b = MakeBinary(*op, lhs, *rhs, t);
      if (!b.ok()) return b;
      lhs = *b;
    }
    if (auto s = CheckDepth(*lhs, start); !s.ok()) return s;
    return lhs;
  }

  absl::StatusOr<ExprPtr> ParsePrefix() {
    Token t = Next();
    if (t.kind == Tok::kEnd) return Error(t, "an expression");
    if (t.kind == Tok::kNumber) {
      auto n = std::make_shared<ExprNode>();
      n->literal.null = false;
      if (t.text.find_first_of(".eE") == std::string::npos) {
        auto [p, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), n->literal.i);
        if (ec != std::errc()) return Fail(t.pos, StrCat("integer ", t.text, " is out of range"));
        n->type = ColumnType::kInteger;
      } else {
        auto [p, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), n->literal.d);
        if (ec != std::errc()) return Fail(t.pos, StrCat("bad number ", t.text));
        n->type = ColumnType::kDouble;
      }
      return ExprPtr(n);
    }
    if (t.kind == Tok::kString) {
      auto n = std::make_shared<ExprNode>();
      n->type = ColumnType::kString;
      n->literal.null = false;
      n->literal.s = t.text;
      return ExprPtr(n);
    }
    if (t.kind == Tok::kQuotedIdent) return Column(t);
    if (IsOp(t, "(")) {
      auto e = ParseExpr(0);
      if (!e.ok()) return e;
      if (auto s = Expect(")"); !s.ok()) return s;
      return e;
    }
    if (IsOp(t, "-")) {
      auto e = ParseExpr(70);
      if (!e.ok()) return e;
      const ExprNode& x = **e;
      if (x.untyped_null) return e;
      if (!Numeric(x.type))
        return Fail(t.pos, StrCat("unary minus needs a number, not ", ColumnTypeName(x.type)));
      if (x.kind == NodeKind::kLiteral) {  // fold, so -9223372036854775808 is not needed
        auto n = std::make_shared<ExprNode>(x);
        if (x.type == ColumnType::kInteger)
          n->literal.i = -x.literal.i;
        else
          n->literal.d = -x.literal.d;
        return ExprPtr(n);
      }
      auto n = std::make_shared<ExprNode>();
      n->kind = NodeKind::kNeg;
      n->type = x.type;
      n->args = {*e};
      return ExprPtr(n);
    }
    if (t.kind != Tok::kIdent) return Error(t, "an expression");
    const std::string kw = Lower(t.text);
    if (IsOp(Peek(), "(")) {
      Next();
      if (kw == "cast") {
        auto e = ParseExpr(0);
        if (!e.ok()) return e;
        if (!IsKeyword(Peek(), "as")) return Error(Peek(), "AS in CAST(x AS type)");
        Next();
        auto type = ParseType();
        if (!type.ok()) return type.status();
        if (auto s = Expect(")"); !s.ok()) return s;
        return MakeCast(*e, *type, t.pos);
      }
      std::vector<ExprPtr> args;
      if (!IsOp(Peek(), ")")) {
        for (;;) {
          auto a = ParseExpr(0);
          if (!a.ok()) return a;
          args.push_back(*a);
          if (IsOp(Peek(), ",")) {
            Next();
            continue;
          }
          break;
        }
      }
      if (auto s = Expect(")"); !s.ok()) return s;
      return MakeFunc(kw, std::move(args), t.pos);
    }
    if (kw == "true" || kw == "false") {
      auto n = std::make_shared<ExprNode>();
      n->type = ColumnType::kBoolean;
      n->literal.null = false;
      n->literal.i = kw == "true";
      return ExprPtr(n);
    }
    if (kw == "null") {
      auto n = std::make_shared<ExprNode>();
      n->untyped_null = true;
      return ExprPtr(n);
    }
    if (kw == "not") {
      auto e = ParseExpr(25);
      if (!e.ok()) return e;
      if (!(*e)->untyped_null && (*e)->type != ColumnType::kBoolean)
        return Fail(t.pos, StrCat("NOT needs a boolean, not ", ColumnTypeName((*e)->type)));
      auto n = std::make_shared<ExprNode>();
      n->kind = NodeKind::kNot;
      n->type = ColumnType::kBoolean;
      n->args = {*e};
      return ExprPtr(n);
    }
    return Column(t);
  }

  absl::StatusOr<ExprPtr> Column(const Token& t) {
    for (const auto& c : cols_) {
      if (c.name == t.text) return c.expr;
    }
    std::string names;
    for (const auto& c : cols_) StrAppend(&names, names.empty() ? "" : ", ", c.name);
    return Fail(t.pos,
                StrCat("unknown column \"", t.text, "\" (columns at this step: ", names, ")"));
  }

  // A NULL literal takes the type its context needs.
  static ExprPtr Typed(const ExprPtr& e, ColumnType type) {
    if (!e->untyped_null) return e;
    auto n = std::make_shared<ExprNode>(*e);
    n->untyped_null = false;
    n->type = type;
    return n;
  }

  absl::StatusOr<ExprPtr> MakeCast(ExprPtr e, ColumnType to, size_t pos) {
    if (e->untyped_null) return Typed(e, to);
    if (!CastExists(e->type, to))
      return Fail(pos,
                  StrCat("no cast from ", ColumnTypeName(e->type), " to ", ColumnTypeName(to)));
    if (e->type == to) return e;
    auto n = std::make_shared<ExprNode>();
    n->kind = NodeKind::kCast;
    n->type = to;
    n->args = {std::move(e)};
    return ExprPtr(n);
  }

 public:
  static bool CastExists(ColumnType from, ColumnType to) {
    using T = ColumnType;
    if (from == to || to == T::kString) return true;
    // json, uuid and arrays: only from a string (parsed, per row), and to a
    // string (their canonical text). No other transform reads into them.
    if (IsStringLike(to) || IsStringLike(from)) return from == T::kString;
    switch (to) {
      case T::kInteger:
        return true;
      case T::kDouble:
        return from != T::kTimestamp;
      case T::kBoolean:
        return from == T::kInteger || from == T::kString;
      case T::kTimestamp:
        return from == T::kInteger || from == T::kString;
      default:
        return false;
    }
  }

 private:
  absl::StatusOr<ExprPtr> MakeBinary(BinOp op, ExprPtr a, ExprPtr b, const Token& t) {
    using T = ColumnType;
    if (a->untyped_null && b->untyped_null) {
      a = Typed(a, op == BinOp::kAnd || op == BinOp::kOr ? T::kBoolean : T::kInteger);
    }
    if (a->untyped_null) a = Typed(a, op == BinOp::kConcat ? T::kString : b->type);
    if (b->untyped_null) b = Typed(b, op == BinOp::kConcat ? T::kString : a->type);
    auto n = std::make_shared<ExprNode>();
    n->kind = NodeKind::kBinary;
    n->op = op;
    const T x = a->type, y = b->type;
    auto bad = [&](std::string_view hint = {}) {
      return Fail(t.pos, StrCat("\"", t.text, "\" cannot take ", ColumnTypeName(x), " and ",
                                ColumnTypeName(y), hint));
    };
    switch (op) {
      case BinOp::kAnd:
      case BinOp::kOr:
        if (x != T::kBoolean || y != T::kBoolean) return bad();
        n->type = T::kBoolean;
        break;
      case BinOp::kConcat:
        n->type = T::kString;
        if (x != T::kString) a = *MakeCast(a, T::kString, t.pos);
        if (y != T::kString) b = *MakeCast(b, T::kString, t.pos);
        break;
      case BinOp::kEq:
      case BinOp::kNe:
      case BinOp::kLt:
      case BinOp::kLe:
      case BinOp::kGt:
      case BinOp::kGe:
        if (!(x == y || (Numeric(x) && Numeric(y)))) return bad();
        n->type = T::kBoolean;
        break;
      case BinOp::kAdd:
      case BinOp::kSub:
        if (x == T::kTimestamp && y == T::kInteger) {
          n->type = T::kTimestamp;
          break;
        }
        if (op == BinOp::kAdd && x == T::kInteger && y == T::kTimestamp) {
          n->type = T::kTimestamp;
          break;
        }
        if (op == BinOp::kSub && x == T::kTimestamp && y == T::kTimestamp) {
          n->type = T::kInteger;
          break;
        }
        [[fallthrough]];
      case BinOp::kMul:
      case BinOp::kDiv:
      case BinOp::kMod:
        if (!Numeric(x) || !Numeric(y))
          return bad(x == T::kString || y == T::kString ? " (join strings with || or concat())"
                                                        : "");
        n->type = x == T::kDouble || y == T::kDouble ? T::kDouble : T::kInteger;
        break;
    }
    n->args = {std::move(a), std::move(b)};
    return ExprPtr(n);
  }

  absl::StatusOr<ExprPtr> MakeFunc(const std::string& name, std::vector<ExprPtr> args, size_t pos) {
    using T = ColumnType;
    auto n = std::make_shared<ExprNode>();
    n->kind = NodeKind::kFunc;
    n->func = name;
    auto arity = [&](size_t lo, size_t hi) -> absl::Status {
      if (args.size() >= lo && args.size() <= hi) return absl::OkStatus();
      return Fail(pos, StrCat(name, "() takes ", lo == hi ? StrCat(lo) : StrCat(lo, " to ", hi),
                              " arguments, not ", args.size()));
    };
    auto need = [&](size_t i, bool ok, std::string_view what) -> absl::Status {
      if (ok) return absl::OkStatus();
      return Fail(pos, StrCat(name, "() argument ", i + 1, " must be ", what, ", not ",
                              ColumnTypeName(args[i]->type)));
    };
    if (name == "lower" || name == "upper" || name == "trim" || name == "length") {
      if (auto s = arity(1, 1); !s.ok()) return s;
      args[0] = Typed(args[0], T::kString);
      if (auto s = need(0, args[0]->type == T::kString, "a string"); !s.ok()) return s;
      n->type = name == "length" ? T::kInteger : T::kString;
    } else if (name == "substr" || name == "substring") {
      n->func = "substr";
      if (auto s = arity(2, 3); !s.ok()) return s;
      args[0] = Typed(args[0], T::kString);
      if (auto s = need(0, args[0]->type == T::kString, "a string"); !s.ok()) return s;
      for (size_t i = 1; i < args.size(); ++i) {
        args[i] = Typed(args[i], T::kInteger);
        if (auto s = need(i, args[i]->type == T::kInteger, "an integer"); !s.ok()) return s;
      }
      n->type = T::kString;
    } else if (name == "concat") {
      if (args.empty()) return Fail(pos, "concat() needs at least one argument");
      for (auto& a : args) {
        a = Typed(a, T::kString);
        if (a->type != T::kString) a = *MakeCast(a, T::kString, pos);
      }
      n->type = T::kString;
    } else if (name == "coalesce") {
      if (args.empty()) return Fail(pos, "coalesce() needs at least one argument");
      std::optional<T> common;
      for (const auto& a : args) {
        if (a->untyped_null) continue;
        if (!common)
          common = a->type;
        else if (*common != a->type) {
          if (Numeric(*common) && Numeric(a->type))
            common = T::kDouble;
          else
            return Fail(pos, StrCat("coalesce() arguments must share a type: ",
                                    ColumnTypeName(*common), " and ", ColumnTypeName(a->type)));
        }
      }
      n->type = common.value_or(T::kInteger);
      for (auto& a : args) {
        a = Typed(a, n->type);
        if (a->type != n->type) a = *MakeCast(a, n->type, pos);
      }
    } else if (name == "abs" || name == "floor" || name == "ceil" || name == "ceiling" ||
               name == "round") {
      if (name == "ceiling") n->func = "ceil";
      if (auto s = arity(1, name == "round" ? 2 : 1); !s.ok()) return s;
      args[0] = Typed(args[0], T::kDouble);
      if (auto s = need(0, Numeric(args[0]->type), "a number"); !s.ok()) return s;
      n->type = args[0]->type;
      if (args.size() == 2) {
        args[1] = Typed(args[1], T::kInteger);
        if (auto s = need(1, args[1]->type == T::kInteger, "an integer"); !s.ok()) return s;
        if (args[0]->type == T::kInteger) args[0] = *MakeCast(args[0], T::kDouble, pos);
        n->type = T::kDouble;
      }
    } else {
      return Fail(pos, StrCat("unknown function ", name,
                              "() (lower, upper, trim, substr, concat, length, coalesce, abs, "
                              "round, floor, ceil)"));
    }
    n->args = std::move(args);
    return ExprPtr(n);
  }

  std::string_view text_;
  const std::vector<Expression::Binding>& cols_;
  int nesting_ = 0;  // ParseExpr calls under way
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

}  // namespace

Expression Expression::Input(int index, ColumnType type) {
  auto n = std::make_shared<ExprNode>();
  n->kind = NodeKind::kInput;
  n->type = type;
  n->input = index;
  return Expression(n, "");
}

absl::StatusOr<Expression> Expression::Compile(std::string_view text,
                                               const std::vector<Binding>& columns) {
  Parser p(text, columns);
  auto node = p.Parse();
  if (!node.ok()) return node.status();
  ExprPtr e = *node;
  if (e->untyped_null) {
    return absl::InvalidArgumentError(
        StrCat("expression \"", text, "\" is NULL without a type; write e.g. NULL::double"));
  }
  return Expression(e, std::string(text));
}

absl::StatusOr<Expression> Expression::CastTo(const Expression& e, ColumnType type) {
  if (e.type() == type) return e;
  if (!Parser::CastExists(e.type(), type)) {
    return absl::InvalidArgumentError(StrCat("expression \"", e.text_, "\" is ",
                                             ColumnTypeName(e.type()), " and has no cast to ",
                                             ColumnTypeName(type)));
  }
  auto n = std::make_shared<ExprNode>();
  n->kind = NodeKind::kCast;
  n->type = type;
  n->args = {e.node_};
  return Expression(n, e.text_);
}

ColumnType Expression::type() const { return node_->type; }

int Expression::input_index() const { return node_->kind == NodeKind::kInput ? node_->input : -1; }

}  // namespace timestore::migrate
