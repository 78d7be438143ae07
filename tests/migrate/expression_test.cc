// The expression language of migration transforms (migrate/expression.h):
// parsing, typing, SQL null semantics and the errors that name the position
// or the row.
#include "migrate/expression.h"

#include <gtest/gtest.h>

#include "common/time_util.h"

namespace timestore::migrate {
namespace {

class ExpressionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Three rows: i = 7, null, -3; d = 1.5, 2.5, null; s = " Ab ", null, "héllo";
    // b = true, false, null; t = times 0, 1 s, 2 s.
    ColumnBuilder i(ColumnType::kInteger), d(ColumnType::kDouble), s(ColumnType::kString),
        b(ColumnType::kBoolean), t(ColumnType::kTimestamp);
    i.AppendInt(7), i.AppendNull(), i.AppendInt(-3);
    d.AppendDouble(1.5), d.AppendDouble(2.5), d.AppendNull();
    s.AppendString(" Ab "), s.AppendNull(), s.AppendString("héllo");
    b.AppendBool(true), b.AppendBool(false), b.AppendNull();
    t.AppendInt(1'700'000'000'000'000'000), t.AppendInt(1'700'000'001'000'000'000),
        t.AppendInt(1'700'000'002'000'000'000);
    cols_ = {i.Finish(), d.Finish(), s.Finish(), b.Finish(), t.Finish()};
    bindings_ = {
        {"i", ColumnType::kInteger, Expression::Input(0, ColumnType::kInteger).node()},
        {"d", ColumnType::kDouble, Expression::Input(1, ColumnType::kDouble).node()},
        {"s", ColumnType::kString, Expression::Input(2, ColumnType::kString).node()},
        {"b", ColumnType::kBoolean, Expression::Input(3, ColumnType::kBoolean).node()},
        {"t", ColumnType::kTimestamp, Expression::Input(4, ColumnType::kTimestamp).node()},
        {"my col", ColumnType::kInteger, Expression::Input(0, ColumnType::kInteger).node()}};
  }

  // The three values as text ("null" for nulls), or the error.
  std::string Eval(std::string_view text, ColumnType* type = nullptr) {
    auto e = Expression::Compile(text, bindings_);
    if (!e.ok()) return std::string("error: ") + std::string(e.status().message());
    if (type != nullptr) *type = e->type();
    std::vector<const ColumnVector*> in;
    for (const auto& c : cols_) in.push_back(&c);
    auto v = e->Evaluate(in, 3, &cols_[4]);
    if (!v.ok()) return std::string("error: ") + std::string(v.status().message());
    std::string out;
    for (size_t r = 0; r < 3; ++r) {
      if (r) out += ",";
      if (v->IsNull(r)) {
        out += "null";
        continue;
      }
      switch (v->type) {
        case ColumnType::kInteger:
        case ColumnType::kTimestamp:
          out += std::to_string(v->ints[r]);
          break;
        case ColumnType::kDouble: {
          char buf[64];
          snprintf(buf, sizeof buf, "%g", v->doubles[r]);
          out += buf;
          break;
        }
        case ColumnType::kBoolean:
          out += v->bools[r] ? "true" : "false";
          break;
        case ColumnType::kString:
          out += "'" + v->dict[v->ids[r]] + "'";
          break;
      }
    }
    return out;
  }

  std::vector<ColumnVector> cols_;
  std::vector<Expression::Binding> bindings_;
};

TEST_F(ExpressionTest, ArithmeticKeepsIntegersAndPromotesToDouble) {
  ColumnType t;
  EXPECT_EQ(Eval("i * 2 + 1", &t), "15,null,-5");
  EXPECT_EQ(t, ColumnType::kInteger);
  EXPECT_EQ(Eval("i / 2"), "3,null,-1");  // integer division truncates
  EXPECT_EQ(Eval("i % 4"), "3,null,-3");
  EXPECT_EQ(Eval("i / 2.0", &t), "3.5,null,-1.5");
  EXPECT_EQ(t, ColumnType::kDouble);
  EXPECT_EQ(Eval("(d - 0.5) * 10"), "10,20,null");
  EXPECT_EQ(Eval("-i + -(d)"), "-8.5,null,null");
  EXPECT_EQ(Eval("2 + 3 * 4 - 10 / 5"), "12,12,12");  // precedence
  EXPECT_EQ(Eval("1e3 + .5"), "1000.5,1000.5,1000.5");
  EXPECT_EQ(Eval("\"my col\" + 1"), "8,null,-2");
}

TEST_F(ExpressionTest, TimestampArithmetic) {
  ColumnType type;
  EXPECT_EQ(Eval("t + 5", &type), "1700000000000000005,1700000001000000005,1700000002000000005");
  EXPECT_EQ(type, ColumnType::kTimestamp);
  EXPECT_EQ(Eval("t - '2023-11-14T22:13:20Z'::timestamp", &type), "0,1000000000,2000000000");
  EXPECT_EQ(type, ColumnType::kInteger);
}

TEST_F(ExpressionTest, CastsBothSpellings) {
  EXPECT_EQ(Eval("cast(d as integer)"), "2,3,null");  // rounds half away from zero
  EXPECT_EQ(Eval("d::int"), "2,3,null");
  EXPECT_EQ(Eval("i::string"), "'7',null,'-3'");
  EXPECT_EQ(Eval("d::string"), "'1.5','2.5',null");
  EXPECT_EQ(Eval("b::string || '!'"), "'true!','false!',null");
  EXPECT_EQ(Eval("'42'::integer + i"), "49,null,39");
  EXPECT_EQ(Eval("' 2.25 '::double"), "2.25,2.25,2.25");
  EXPECT_EQ(Eval("i::boolean"), "true,null,true");
  EXPECT_EQ(Eval("'f'::boolean"), "false,false,false");
  EXPECT_EQ(Eval("CAST(t AS STRING)"),
            "'2023-11-14T22:13:20Z','2023-11-14T22:13:21Z','2023-11-14T22:13:22Z'");
  EXPECT_EQ(Eval("b::integer"), "1,0,null");
  EXPECT_EQ(Eval("NULL::double"), "null,null,null");
}

TEST_F(ExpressionTest, StringFunctions) {
  EXPECT_EQ(Eval("lower(s)"), "' ab ',null,'héllo'");
  EXPECT_EQ(Eval("UPPER(trim(s))"), "'AB',null,'HéLLO'");
  EXPECT_EQ(Eval("length(s)"), "4,null,5");  // code points, not bytes
  EXPECT_EQ(Eval("substr(s, 2, 3)"), "'Ab ',null,'éll'");
  EXPECT_EQ(Eval("substr(s, 3)"), "'b ',null,'llo'");
  EXPECT_EQ(Eval("substr(s, 0, 2)"), "' ',null,'h'");  // SQL: start 0 counts toward the length
  EXPECT_EQ(Eval("concat(s, '-', i)"), "' Ab -7','-','héllo--3'");  // concat skips nulls
  EXPECT_EQ(Eval("s || '-' || i"), "' Ab -7',null,'héllo--3'");     // || does not
}

TEST_F(ExpressionTest, NumericFunctions) {
  EXPECT_EQ(Eval("abs(i)"), "7,null,3");
  EXPECT_EQ(Eval("round(d)"), "2,3,null");
  EXPECT_EQ(Eval("round(d * 1.234, 2)"), "1.85,3.09,null");
  EXPECT_EQ(Eval("floor(d)"), "1,2,null");
  EXPECT_EQ(Eval("ceil(d)"), "2,3,null");
  EXPECT_EQ(Eval("floor(i)"), "7,null,-3");
}

TEST_F(ExpressionTest, NullsFollowSql) {
  EXPECT_EQ(Eval("coalesce(i, 0)"), "7,0,-3");
  EXPECT_EQ(Eval("coalesce(i, d)"), "7,2.5,-3");  // integer and double: double
  EXPECT_EQ(Eval("coalesce(null, s, 'none')"), "' Ab ','none','héllo'");
  EXPECT_EQ(Eval("i + null"), "null,null,null");
  EXPECT_EQ(Eval("i is null"), "false,true,false");
  EXPECT_EQ(Eval("d IS NOT NULL"), "true,true,false");
  // Three-valued logic: null AND false is false, null OR true is true.
  EXPECT_EQ(Eval("b and false"), "false,false,false");
  EXPECT_EQ(Eval("b or true"), "true,true,true");
  EXPECT_EQ(Eval("b and true"), "true,false,null");
  EXPECT_EQ(Eval("not b"), "false,true,null");
  EXPECT_EQ(Eval("i > 0 and d < 2"), "true,false,false");  // null AND false is false
  EXPECT_EQ(Eval("i = 7 or i <> 7"), "true,null,true");
}

TEST_F(ExpressionTest, ComparisonsAcrossNumericTypes) {
  EXPECT_EQ(Eval("i >= d"), "true,null,null");
  EXPECT_EQ(Eval("s = 'héllo'"), "false,null,true");
  EXPECT_EQ(Eval("s != ' Ab '"), "false,null,true");
}

TEST_F(ExpressionTest, ParseAndTypeErrorsNameThePosition) {
  EXPECT_EQ(Eval("i +"), "error: expression \"i +\" at character 4: expected an expression");
  EXPECT_EQ(Eval("i + nope"),
            "error: expression \"i + nope\" at character 5: unknown column \"nope\" (columns at "
            "this step: i, d, s, b, t, my col)");
  EXPECT_EQ(Eval("s + 1"),
            "error: expression \"s + 1\" at character 3: \"+\" cannot take string and integer "
            "(join strings with || or concat())");
  EXPECT_EQ(Eval("(i"), "error: expression \"(i\" at character 3: expected \")\"");
  EXPECT_EQ(Eval("i < 1 < 2"),
            "error: expression \"i < 1 < 2\" at character 7: comparisons do not chain; use AND");
  EXPECT_EQ(Eval("'abc"), "error: expression \"'abc\" at character 1: unterminated string");
  EXPECT_EQ(Eval("i # 2"), "error: expression \"i # 2\" at character 3: unexpected character '#'");
  EXPECT_EQ(Eval("b::timestamp"),
            "error: expression \"b::timestamp\" at character 2: no cast from boolean to timestamp");
  EXPECT_EQ(Eval("frob(i)"),
            "error: expression \"frob(i)\" at character 1: unknown function frob() (lower, upper, "
            "trim, substr, concat, length, coalesce, abs, round, floor, ceil)");
  EXPECT_EQ(Eval("lower(i)"),
            "error: expression \"lower(i)\" at character 1: lower() argument 1 must be a string, "
            "not integer");
  EXPECT_EQ(
      Eval("substr(s)"),
      "error: expression \"substr(s)\" at character 1: substr() takes 2 to 3 arguments, not 1");
  EXPECT_EQ(Eval("coalesce(s, i)"),
            "error: expression \"coalesce(s, i)\" at character 1: coalesce() arguments must share "
            "a type: string and integer");
  EXPECT_EQ(Eval("null"),
            "error: expression \"null\" is NULL without a type; write e.g. NULL::double");
  EXPECT_EQ(
      Eval("i 2"),
      "error: expression \"i 2\" at character 3: expected an operator or the end, found \"2\"");
}

TEST_F(ExpressionTest, RuntimeErrorsNameTheRow) {
  EXPECT_EQ(Eval("i / (i + 3)"),
            "error: expression \"i / (i + 3)\": division by zero in the row at "
            "2023-11-14T22:13:22Z");
  EXPECT_EQ(Eval("d / 0"),
            "error: expression \"d / 0\": division by zero in the row at 2023-11-14T22:13:20Z");
  EXPECT_EQ(Eval("s::integer"),
            "error: expression \"s::integer\": ' Ab ' is not an integer in the row at "
            "2023-11-14T22:13:20Z");
  EXPECT_EQ(Eval("i * 9223372036854775807"),
            "error: expression \"i * 9223372036854775807\": integer overflow in the row at "
            "2023-11-14T22:13:20Z");
  EXPECT_EQ(Eval("'yesterday'::timestamp"),
            "error: expression \"'yesterday'::timestamp\": 'yesterday' is not an RFC 3339 "
            "timestamp in the row at 2023-11-14T22:13:20Z");
}

// NaN compares as in PostgreSQL and DuckDB: equal to itself, greater than
// every other number (IEEE comparisons made NaN = 0 true).
TEST_F(ExpressionTest, NanComparesLikeSql) {
  EXPECT_EQ(Eval("'nan'::double = 0"), "false,false,false");
  EXPECT_EQ(Eval("'nan'::double <> 0"), "true,true,true");
  EXPECT_EQ(Eval("'nan'::double = 'nan'::double"), "true,true,true");
  EXPECT_EQ(Eval("'nan'::double > 1e308"), "true,true,true");
  EXPECT_EQ(Eval("'nan'::double < 0"), "false,false,false");
  EXPECT_EQ(Eval("d < 'nan'::double"), "true,true,null");
  EXPECT_EQ(Eval("i >= 'nan'::double"), "false,null,false");
  EXPECT_EQ(Eval("'inf'::double < 'nan'::double"), "true,true,true");
}

// Arguments at the ends of the integer range: no signed overflow.
TEST_F(ExpressionTest, ExtremeArgumentsAreDefined) {
  EXPECT_EQ(Eval("substr(s, 2, 9223372036854775807)"), "'Ab ',null,'éllo'");
  EXPECT_EQ(Eval("substr(s, 9223372036854775807, 9223372036854775807)"), "'',null,''");
  EXPECT_EQ(Eval("substr(s, -9223372036854775807 - 1, 0)"), "'',null,''");
  EXPECT_EQ(Eval("substr(s, -9223372036854775807 - 1, 9223372036854775807)"), "'',null,''");
  EXPECT_EQ(Eval("substr(s, -9223372036854775807 - 1)"), "' Ab ',null,'héllo'");
  EXPECT_EQ(Eval("round(d, 400)"), "1.5,2.5,null");
  EXPECT_EQ(Eval("round(d, -400)"), "0,0,null");
  EXPECT_EQ(Eval("round(d * 1e300, 300)"), "1.5e+300,2.5e+300,null");
  EXPECT_EQ(Eval("round(d, -9223372036854775807 - 1)"), "0,0,null");
}

// json, uuid and arrays are their canonical text: they pass through, compare,
// cast to and from string; nothing else takes them.
TEST(TypedExpressionTest, TypedColumnsAreTextOrRefused) {
  ColumnBuilder j(ColumnType::kJson), u(ColumnType::kUuid), a(ColumnType::kStringArray),
      s(ColumnType::kString), t(ColumnType::kTimestamp);
  j.AppendString(R"({"a":1})"), j.AppendNull();
  u.AppendString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), u.AppendNull();
  a.AppendString(R"(["x","y"])"), a.AppendNull();
  s.AppendString(R"({ "b": [1, 2.0], "a": "z" })"), s.AppendString("{oops");
  t.AppendInt(1'700'000'000'000'000'000), t.AppendInt(1'700'000'001'000'000'000);
  std::vector<ColumnVector> cols = {j.Finish(), u.Finish(), a.Finish(), s.Finish(), t.Finish()};
  std::vector<Expression::Binding> bind = {
      {"j", ColumnType::kJson, Expression::Input(0, ColumnType::kJson).node()},
      {"u", ColumnType::kUuid, Expression::Input(1, ColumnType::kUuid).node()},
      {"a", ColumnType::kStringArray, Expression::Input(2, ColumnType::kStringArray).node()},
      {"s", ColumnType::kString, Expression::Input(3, ColumnType::kString).node()},
      {"t", ColumnType::kTimestamp, Expression::Input(4, ColumnType::kTimestamp).node()}};
  std::vector<const ColumnVector*> in;
  for (const auto& c : cols) in.push_back(&c);
  auto eval = [&](std::string_view text, uint32_t rows = 2) -> std::string {
    auto e = Expression::Compile(text, bind);
    if (!e.ok()) return std::string("error: ") + std::string(e.status().message());
    auto v = e->Evaluate(in, rows, &cols[4]);
    if (!v.ok()) return std::string("error: ") + std::string(v.status().message());
    std::string out = std::string(ColumnTypeName(v->type)) + ":";
    for (uint32_t r = 0; r < rows; ++r) {
      if (r) out += ",";
      if (v->IsNull(r)) {
        out += "null";
      } else if (v->type == ColumnType::kBoolean) {
        out += v->bools[r] ? "true" : "false";
      } else {
        out += v->dict[v->ids[r]];
      }
    }
    return out;
  };
  EXPECT_EQ(eval("j"), R"(json:{"a":1},null)");
  EXPECT_EQ(eval("j::string"), R"(string:{"a":1},null)");
  EXPECT_EQ(eval("u || '!'"), "string:a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11!,null");
  EXPECT_EQ(eval("CAST(a AS string)"), R"(string:["x","y"],null)");
  EXPECT_EQ(eval("j = j"), "boolean:true,null");
  EXPECT_EQ(eval("coalesce(u, u)"), "uuid:a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,null");
  // From a string: parsed and made canonical per row; a bad row names its time.
  EXPECT_EQ(eval("s::json", 1), R"(json:{"a":"z","b":[1,2]})");
  EXPECT_EQ(eval("s::json"),
            "error: expression \"s::json\": '{oops' is not json: invalid JSON object in the row at "
            "2023-11-14T22:13:21Z");
  EXPECT_EQ(eval("'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid", 1),
            "uuid:a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  // Nothing else reads or makes them.
  EXPECT_EQ(eval("lower(j)"),
            "error: expression \"lower(j)\" at character 1: lower() argument 1 must be a "
            "string, not json");
  EXPECT_NE(eval("j + 1").find("cannot take json and integer"), std::string::npos) << eval("j + 1");
  EXPECT_NE(eval("j = s").find("cannot take json and string"), std::string::npos);
  EXPECT_NE(eval("u::integer").find("no cast from uuid to integer"), std::string::npos);
  EXPECT_NE(eval("t::json").find("no cast from timestamp to json"), std::string::npos);
}

// Nesting is capped (parsing and evaluating recurse): a clear error, not a
// stack overflow; 200 levels are fine.
TEST_F(ExpressionTest, DeepNestingIsRefused) {
  const std::string parens = std::string(100000, '(') + "1" + std::string(100000, ')');
  std::string err = Eval(parens);
  EXPECT_NE(err.find("nests deeper than 256 levels"), std::string::npos) << err.substr(0, 200);
  std::string chain = "i";
  for (int k = 0; k < 100000; ++k) chain += " + 1";
  err = Eval(chain);
  EXPECT_NE(err.find("nests deeper than 256 levels"), std::string::npos) << err.substr(0, 200);
  std::string minus;
  for (int k = 0; k < 100000; ++k) minus += "-";
  err = Eval(minus + "i");
  EXPECT_NE(err.find("nests deeper than 256 levels"), std::string::npos) << err.substr(0, 200);
  EXPECT_EQ(Eval(std::string(200, '(') + "i" + std::string(200, ')')), "7,null,-3");
  std::string ok = "i";
  for (int k = 0; k < 200; ++k) ok += " + 1";
  EXPECT_EQ(Eval(ok), "207,null,197");
}

}  // namespace
}  // namespace timestore::migrate
