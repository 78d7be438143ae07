#include "engine/typed_filters.h"

#include <charconv>
#include <cmath>
#include <string>

#include "common/json_writer.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "segment/typed_text.h"
#include "simdjson.h"

namespace timestore {
namespace {

bool IsList(FilterOp op) { return op == FilterOp::kIn || op == FilterOp::kNotIn; }
bool IsOrdering(FilterOp op) {
  return op == FilterOp::kLt || op == FilterOp::kLte || op == FilterOp::kGt || op == FilterOp::kGte;
}

absl::Status Mismatch(const Filter& f, ColumnType type, std::string_view expected,
                      std::string_view got) {
  return MakeError(absl::StatusCode::kInvalidArgument, "invalid_query",
                   StrCat("filter on column \"", f.column, "\" (", ColumnTypeName(type), ") needs ",
                          expected, "; got ", got),
                   ErrorDetails(-1, f.column, expected, got));
}

std::string_view KindName(const Literal& l) {
  switch (l.kind) {
    case Literal::Kind::kBool:
      return "a boolean";
    case Literal::Kind::kInt:
    case Literal::Kind::kDouble:
      return "a number";
    case Literal::Kind::kString:
      return "a string";
    default:
      return "null";
  }
}

// in / not_in compare each element as eq / neq.
template <typename T>
bool Ordered(FilterOp op, const T& v, const T& lit) {
  if (op == FilterOp::kIn) op = FilterOp::kEq;
  if (op == FilterOp::kNotIn) op = FilterOp::kNeq;
  return CompareOp(op, v, lit);
}

// One json value against one literal; nullopt when their kinds differ.
std::optional<bool> JsonCompare(FilterOp op, std::string_view text, const Literal& lit) {
  const JsonKind kind = JsonKindOf(text);
  switch (lit.kind) {
    case Literal::Kind::kInt:
    case Literal::Kind::kDouble: {
      if (kind != JsonKind::kNumber) return std::nullopt;
      int64_t i;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
      if (lit.kind == Literal::Kind::kInt && ec == std::errc() && p == text.data() + text.size()) {
        return Ordered(op, i, lit.i);
      }
      double d;
      auto [pd, ecd] = std::from_chars(text.data(), text.data() + text.size(), d);
      if (ecd != std::errc()) return std::nullopt;
      const double l = lit.kind == Literal::Kind::kInt ? static_cast<double>(lit.i) : lit.d;
      return Ordered(op, d, l);
    }
    case Literal::Kind::kString: {
      if (kind != JsonKind::kString) return std::nullopt;
      std::optional<std::string> s = JsonStringContent(text);
      if (!s) return std::nullopt;
      return Ordered(op, std::string_view(*s), std::string_view(lit.s));
    }
    case Literal::Kind::kBool:
      if (kind != JsonKind::kBool) return std::nullopt;
      return Ordered(op, text == "true", lit.b);
    default:
      return std::nullopt;
  }
}

bool MatchJson(const CompiledFilter& f, std::string_view text) {
  if (IsList(f.op)) {
    bool any = false;
    for (const Literal& l : f.literals)
      any = any || JsonCompare(FilterOp::kEq, text, l).value_or(false);
    return any == (f.op == FilterOp::kIn);
  }
  if (f.literals.empty()) return false;
  std::optional<bool> r = JsonCompare(f.op, text, f.literals[0]);
  if (r) return *r;
  return f.op == FilterOp::kNeq;  // another kind equals nothing
}

bool MatchArray(const CompiledFilter& f, std::string_view text) {
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string padded(text);
  simdjson::ondemand::document doc;
  simdjson::ondemand::array arr;
  bool contains = false;
  if (!parser.iterate(padded).get(doc) && !doc.get_array().get(arr)) {
    for (auto item : arr) {
      simdjson::ondemand::value e;
      if (std::move(item).get(e)) break;
      std::string_view tok = e.raw_json_token();
      while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\n')) tok.remove_suffix(1);
      for (const std::string& s : f.strings) contains = contains || tok == s;
      if (contains) break;
    }
  }
  const bool positive = f.op == FilterOp::kEq || f.op == FilterOp::kIn;
  return contains == positive;
}

}  // namespace

absl::Status CompileTypedLiteral(const Filter& f, ColumnType type, const Literal& lit,
                                 CompiledFilter* cf) {
  if (type == ColumnType::kUuid) {
    if (lit.kind != Literal::Kind::kString)
      return Mismatch(f, type, "a uuid string", KindName(lit));
    std::optional<std::string> u = CanonicalUuid(lit.s);
    if (!u)
      return Mismatch(f, type, "a uuid (8-4-4-4-12 hex digits)",
                      StrCat("\"", lit.s.substr(0, 64), "\""));
    cf->strings.push_back(*u);
    return absl::OkStatus();
  }
  if (type == ColumnType::kJson) {
    if (lit.kind == Literal::Kind::kBool && IsOrdering(f.op)) {
      return Mismatch(f, type, "a number or string for an ordering comparison", "a boolean");
    }
    if (lit.kind == Literal::Kind::kDouble && std::isnan(lit.d)) {
      if (!IsList(f.op)) cf->never = f.op != FilterOp::kNeq;
      if (f.op == FilterOp::kNeq) cf->always = true;
      return absl::OkStatus();
    }
    cf->literals.push_back(lit);
    return absl::OkStatus();
  }
  // Arrays: membership.
  if (IsOrdering(f.op)) {
    return Mismatch(f, type, "eq, neq, in or notIn (an array filter tests membership)",
                    "an ordering comparison");
  }
  std::string text;
  switch (ArrayElementType(type)) {
    case ColumnType::kString:
      if (lit.kind != Literal::Kind::kString) return Mismatch(f, type, "a string", KindName(lit));
      AppendJsonString(&text, lit.s);
      break;
    case ColumnType::kBoolean:
      if (lit.kind != Literal::Kind::kBool) return Mismatch(f, type, "a boolean", KindName(lit));
      text = lit.b ? "true" : "false";
      break;
    case ColumnType::kInteger:
      if (lit.kind == Literal::Kind::kInt) {
        AppendJsonInt(&text, lit.i);
      } else if (lit.kind == Literal::Kind::kDouble) {
        if (std::floor(lit.d) != lit.d || !(std::fabs(lit.d) < 9.2e18)) return absl::OkStatus();
        AppendJsonInt(&text, static_cast<int64_t>(lit.d));
      } else {
        return Mismatch(f, type, "a number", KindName(lit));
      }
      break;
    case ColumnType::kDouble:
      if (lit.kind == Literal::Kind::kInt) {
        AppendJsonDouble(&text, static_cast<double>(lit.i));
      } else if (lit.kind == Literal::Kind::kDouble && std::isfinite(lit.d)) {
        AppendJsonDouble(&text, lit.d == 0 ? 0.0 : lit.d);
      } else if (lit.kind == Literal::Kind::kDouble) {
        return absl::OkStatus();  // arrays hold finite doubles only
      } else {
        return Mismatch(f, type, "a number", KindName(lit));
      }
      break;
    default:
      return Mismatch(f, type, "a scalar", KindName(lit));
  }
  cf->strings.push_back(std::move(text));
  return absl::OkStatus();
}

bool MatchTypedText(const CompiledFilter& f, std::string_view text) {
  if (f.type == ColumnType::kJson) return MatchJson(f, text);
  return MatchArray(f, text);
}

}  // namespace timestore
