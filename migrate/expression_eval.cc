#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "common/strings.h"
#include "common/time_util.h"
#include "migrate/expression.h"
#include "migrate/expression_internal.h"
#include "segment/typed_text.h"

namespace timestore::migrate {

namespace {

using expression_internal::Lower;

// ---- Evaluation ----

std::string DoubleString(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  return std::string(buf, p);
}

// Unicode code points of UTF-8 text (continuation bytes do not count).
int64_t CodePoints(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// The byte offset of code point `cp` (0-based) in `s`, or s.size().
size_t ByteOfCodePoint(std::string_view s, int64_t cp) {
  int64_t seen = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && ++seen == cp) return i;
  }
  return s.size();
}

class Evaluator {
 public:
  Evaluator(std::span<const ColumnVector* const> inputs, const ColumnVector* time,
            const std::string& text)
      : inputs_(inputs), time_(time), text_(text) {}

  absl::Status status() const { return status_; }

  Value Eval(const ExprNode& n, size_t row) {
    using T = ColumnType;
    switch (n.kind) {
      case NodeKind::kLiteral:
        return n.untyped_null ? Value{} : n.literal;
      case NodeKind::kInput: {
        Value v;
        const ColumnVector* c = n.input >= 0 && static_cast<size_t>(n.input) < inputs_.size()
                                    ? inputs_[n.input]
                                    : nullptr;
        if (c == nullptr || c->IsNull(row)) return v;
        v.null = false;
        switch (c->type) {
          case T::kTimestamp:
          case T::kInteger:
            v.i = c->ints[row];
            break;
          case T::kDouble:
            v.d = c->doubles[row];
            break;
          case T::kBoolean:
            v.i = c->bools[row];
            break;
          default:  // string, json, uuid, arrays: the (canonical) text
            v.s = c->dict[c->ids[row]];
            break;
        }
        return v;
      }
      case NodeKind::kNeg: {
        Value v = Eval(*n.args[0], row);
        if (v.null) return v;
        if (n.type == T::kDouble) {
          v.d = -v.d;
        } else if (v.i == std::numeric_limits<int64_t>::min()) {
          return Fail(row, "integer overflow in unary minus");
        } else {
          v.i = -v.i;
        }
        return v;
      }
      case NodeKind::kNot: {
        Value v = Eval(*n.args[0], row);
        if (!v.null) v.i = !v.i;
        return v;
      }
      case NodeKind::kIsNull: {
        Value v = Eval(*n.args[0], row);
        Value out;
        out.null = false;
        out.i = v.null != n.negate;
        return out;
      }
      case NodeKind::kCast:
        return Cast(Eval(*n.args[0], row), n.args[0]->type, n.type, row);
      case NodeKind::kBinary:
        return Binary(n, row);
      case NodeKind::kFunc:
        return Func(n, row);
    }
    return Value{};
  }

 private:
  Value Fail(size_t row, std::string_view what) {
    if (status_.ok()) {
      std::string at;
      if (time_ != nullptr && row < time_->size() && !time_->IsNull(row)) {
        at = StrCat(" in the row at ", FormatRfc3339(time_->ints[row]));
      }
      status_ = absl::InvalidArgumentError(StrCat("expression \"", text_, "\": ", what, at));
    }
    return Value{};
  }

  Value Cast(Value v, ColumnType from, ColumnType to, size_t row) {
    using T = ColumnType;
    if (v.null || from == to) return v;
    Value out;
    out.null = false;
    if (IsStringLike(to) && to != T::kString) {
      // From a string (the only cast the parser allows): its canonical text.
      absl::StatusOr<std::string> text = CanonicalTypedText(to, v.s);
      if (!text.ok()) {
        return Fail(row, StrCat("'", v.s.substr(0, 60), v.s.size() > 60 ? "..." : "", "' is not ",
                                ColumnTypeName(to), ": ", ToStd(text.status().message())));
      }
      out.s = std::move(*text);
      return out;
    }
    switch (to) {
      case T::kString:
        if (IsStringLike(from)) {
          out.s = v.s;  // json, uuid and arrays as their canonical text
          return out;
        }
        switch (from) {
          case T::kInteger:
            out.s = StrCat(v.i);
            break;
          case T::kDouble:
            out.s = DoubleString(v.d);
            break;
          case T::kBoolean:
            out.s = v.i ? "true" : "false";
            break;
          case T::kTimestamp:
            out.s = FormatRfc3339(v.i);
            break;
          default:
            break;
        }
        return out;
      case T::kInteger:
        switch (from) {
          case T::kDouble: {
            if (!std::isfinite(v.d) || std::fabs(v.d) >= 9.2233720368547758e18)
              return Fail(row, StrCat("double ", DoubleString(v.d), " is out of integer range"));
            out.i = std::llround(v.d);
            return out;
          }
          case T::kString: {
            std::string_view s = v.s;
            while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
              s.remove_prefix(1);
            while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
              s.remove_suffix(1);
            if (!s.empty() && s.front() == '+') s.remove_prefix(1);
            auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out.i);
            if (ec != std::errc() || p != s.data() + s.size() || s.empty())
              return Fail(row, StrCat("'", v.s, "' is not an integer"));
            return out;
          }
          default:
            out.i = v.i;  // timestamp (ns), boolean (0/1)
            return out;
        }
      case T::kDouble:
        switch (from) {
          case T::kString: {
            std::string_view s = v.s;
            while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
              s.remove_prefix(1);
            while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
              s.remove_suffix(1);
            if (!s.empty() && s.front() == '+') s.remove_prefix(1);
            auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out.d);
            if (ec != std::errc() || p != s.data() + s.size() || s.empty())
              return Fail(row, StrCat("'", v.s, "' is not a number"));
            return out;
          }
          default:
            out.d = static_cast<double>(v.i);
            return out;
        }
      case T::kBoolean:
        if (from == T::kInteger) {
          out.i = v.i != 0;
          return out;
        } else {
          const std::string l = Lower(v.s);
          if (l == "true" || l == "t" || l == "1" || l == "yes")
            out.i = 1;
          else if (l == "false" || l == "f" || l == "0" || l == "no")
            out.i = 0;
          else
            return Fail(row, StrCat("'", v.s, "' is not a boolean"));
          return out;
        }
      case T::kTimestamp:
        if (from == T::kInteger) {
          out.i = v.i;
          return out;
        } else {
          auto ts = ParseRfc3339(v.s);
          if (!ts.ok()) return Fail(row, StrCat("'", v.s, "' is not an RFC 3339 timestamp"));
          out.i = *ts;
          return out;
        }
    }
    return out;
  }

  static int Compare(const Value& a, const Value& b, ColumnType ta, ColumnType tb) {
    // Strings, and json, uuid and arrays by their canonical text.
    if (IsStringLike(ta)) return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
    if (ta == ColumnType::kDouble || tb == ColumnType::kDouble) {
      double x = ta == ColumnType::kDouble ? a.d : static_cast<double>(a.i);
      double y = tb == ColumnType::kDouble ? b.d : static_cast<double>(b.i);
      // As in PostgreSQL and DuckDB: NaN equals NaN and is greater than
      // every other number (IEEE comparisons would make NaN = x true here).
      const bool xn = std::isnan(x), yn = std::isnan(y);
      if (xn || yn) return xn && yn ? 0 : xn ? 1 : -1;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
  }

  Value Binary(const ExprNode& n, size_t row) {
    using T = ColumnType;
    const ExprNode& an = *n.args[0];
    const ExprNode& bn = *n.args[1];
    Value a = Eval(an, row);
    if (n.op == BinOp::kAnd && !a.null && a.i == 0) return a;  // false AND x
    if (n.op == BinOp::kOr && !a.null && a.i == 1) return a;   // true OR x
    Value b = Eval(bn, row);
    Value out;
    if (n.op == BinOp::kAnd || n.op == BinOp::kOr) {
      // a is null or neutral here.
      if (!b.null && b.i == (n.op == BinOp::kOr ? 1 : 0)) return b;
      if (a.null || b.null) return out;
      out.null = false;
      out.i = b.i;
      return out;
    }
    if (a.null || b.null) return out;
    out.null = false;
    switch (n.op) {
      case BinOp::kConcat:
        out.s = a.s + b.s;
        return out;
      case BinOp::kEq:
        out.i = Compare(a, b, an.type, bn.type) == 0;
        return out;
      case BinOp::kNe:
        out.i = Compare(a, b, an.type, bn.type) != 0;
        return out;
      case BinOp::kLt:
        out.i = Compare(a, b, an.type, bn.type) < 0;
        return out;
      case BinOp::kLe:
        out.i = Compare(a, b, an.type, bn.type) <= 0;
        return out;
      case BinOp::kGt:
        out.i = Compare(a, b, an.type, bn.type) > 0;
        return out;
      case BinOp::kGe:
        out.i = Compare(a, b, an.type, bn.type) >= 0;
        return out;
      default:
        break;
    }
    if (n.type == T::kDouble) {
      double x = an.type == T::kDouble ? a.d : static_cast<double>(a.i);
      double y = bn.type == T::kDouble ? b.d : static_cast<double>(b.i);
      switch (n.op) {
        case BinOp::kAdd:
          out.d = x + y;
          break;
        case BinOp::kSub:
          out.d = x - y;
          break;
        case BinOp::kMul:
          out.d = x * y;
          break;
        case BinOp::kDiv:
          if (y == 0) return Fail(row, "division by zero");
          out.d = x / y;
          break;
        case BinOp::kMod:
          if (y == 0) return Fail(row, "modulo by zero");
          out.d = std::fmod(x, y);
          break;
        default:
          break;
      }
      return out;
    }
    // Integer (or timestamp) arithmetic, overflow-checked.
    bool overflow = false;
    switch (n.op) {
      case BinOp::kAdd:
        overflow = __builtin_add_overflow(a.i, b.i, &out.i);
        break;
      case BinOp::kSub:
        overflow = __builtin_sub_overflow(a.i, b.i, &out.i);
        break;
      case BinOp::kMul:
        overflow = __builtin_mul_overflow(a.i, b.i, &out.i);
        break;
      case BinOp::kDiv:
        if (b.i == 0) return Fail(row, "division by zero");
        if (a.i == std::numeric_limits<int64_t>::min() && b.i == -1)
          overflow = true;
        else
          out.i = a.i / b.i;
        break;
      case BinOp::kMod:
        if (b.i == 0) return Fail(row, "modulo by zero");
        out.i = b.i == -1 ? 0 : a.i % b.i;
        break;
      default:
        break;
    }
    if (overflow) return Fail(row, "integer overflow");
    return out;
  }

  Value Func(const ExprNode& n, size_t row) {
    using T = ColumnType;
    const std::string& f = n.func;
    if (f == "coalesce") {
      for (const auto& a : n.args) {
        Value v = Eval(*a, row);
        if (!v.null) return v;
      }
      return Value{};
    }
    if (f == "concat") {
      Value out;
      out.null = false;
      for (const auto& a : n.args) {
        Value v = Eval(*a, row);
        if (!v.null) out.s += v.s;
      }
      return out;
    }
    std::vector<Value> v;
    v.reserve(n.args.size());
    for (const auto& a : n.args) {
      v.push_back(Eval(*a, row));
      if (v.back().null) return Value{};
    }
    Value out;
    out.null = false;
    if (f == "lower" || f == "upper") {
      out.s = v[0].s;
      for (char& c : out.s) {
        unsigned char u = static_cast<unsigned char>(c);
        c = static_cast<char>(f == "lower" ? std::tolower(u) : std::toupper(u));
      }
    } else if (f == "trim") {
      std::string_view s = v[0].s;
      while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
      while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
      out.s = std::string(s);
    } else if (f == "length") {
      out.i = CodePoints(v[0].s);
    } else if (f == "substr") {
      // SQL: 1-based start; positions before 1 count toward the length.
      const std::string& s = v[0].s;
      int64_t start = v[1].i;
      int64_t end = std::numeric_limits<int64_t>::max();
      if (v.size() == 3) {
        if (v[2].i < 0) return Fail(row, "substr() length must not be negative");
        if (__builtin_add_overflow(start, v[2].i, &end)) end = std::numeric_limits<int64_t>::max();
      }
      int64_t from = std::max<int64_t>(start, 1) - 1;
      int64_t to = end == std::numeric_limits<int64_t>::max() ? CodePoints(s)
                                                              : std::max<int64_t>(end, 1) - 1;
      if (to > from) {
        size_t b0 = ByteOfCodePoint(s, from), b1 = ByteOfCodePoint(s, to);
        out.s = s.substr(b0, b1 - b0);
      }
    } else if (f == "abs") {
      if (n.type == T::kDouble) {
        out.d = std::fabs(v[0].d);
      } else {
        if (v[0].i == std::numeric_limits<int64_t>::min())
          return Fail(row, "integer overflow in abs()");
        out.i = v[0].i < 0 ? -v[0].i : v[0].i;
      }
    } else if (f == "round" || f == "floor" || f == "ceil") {
      if (n.args[0]->type == T::kInteger) {
        out.i = v[0].i;
      } else {
        double x = v[0].d;
        double scale = 1;
        // Digits beyond a double's range are clamped (10^±308 is finite).
        if (v.size() == 2)
          scale = std::pow(10.0, static_cast<double>(std::clamp<int64_t>(v[1].i, -308, 308)));
        double y = x * scale;
        if (!std::isfinite(y)) {
          out.d = x;  // x has no digit that fine (or is not finite): unchanged
        } else {
          y = f == "round" ? std::round(y) : f == "floor" ? std::floor(y) : std::ceil(y);
          out.d = y / scale;
        }
      }
    }
    return out;
  }

  std::span<const ColumnVector* const> inputs_;
  const ColumnVector* time_;
  const std::string& text_;
  absl::Status status_;
};

}  // namespace

absl::StatusOr<ColumnVector> Expression::Evaluate(std::span<const ColumnVector* const> inputs,
                                                  uint32_t rows, const ColumnVector* time) const {
  const ExprNode& n = *node_;
  if (n.kind == NodeKind::kInput) {
    const ColumnVector* c =
        n.input >= 0 && static_cast<size_t>(n.input) < inputs.size() ? inputs[n.input] : nullptr;
    if (c == nullptr) return ColumnVector::AllNull(n.type, rows);
    return *c;
  }
  Evaluator ev(inputs, time, text_);
  ColumnBuilder b(n.type);
  b.Reserve(rows);
  for (uint32_t r = 0; r < rows; ++r) {
    Value v = ev.Eval(n, r);
    if (!ev.status().ok()) return ev.status();
    if (v.null) {
      b.AppendNull();
      continue;
    }
    switch (n.type) {
      case ColumnType::kTimestamp:
      case ColumnType::kInteger:
        b.AppendInt(v.i);
        break;
      case ColumnType::kDouble:
        b.AppendDouble(v.d);
        break;
      case ColumnType::kBoolean:
        b.AppendBool(v.i != 0);
        break;
      default:  // string, json, uuid, arrays
        b.AppendString(v.s);
        break;
    }
  }
  return b.Finish();
}

}  // namespace timestore::migrate
