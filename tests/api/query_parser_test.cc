#include "api/query_parser.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/query_executor.h"
#include "engine/schema.h"
#include "tests/api/error_response.h"

namespace timestore::api {
namespace {

using ::timestore::api::testing::ErrorResponse;
using ::timestore::api::testing::ToErrorResponse;

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kMinute = 60 * kSec;
// 2024-05-01T00:00:00Z and 2024-05-02T00:00:00Z
constexpr int64_t kMay1 = 1714521600 * kSec;
constexpr int64_t kMay2 = 1714608000 * kSec;
constexpr uint64_t kMaxLimit = 1'000'000;

constexpr std::string_view kRange =
    R"("timeRange": {"start": "2024-05-01T00:00:00Z", "end": "2024-05-02T00:00:00Z"})";

absl::StatusOr<QuerySpec> Parse(std::string_view body,
                                Precision precision = Precision::kMilliseconds,
                                uint64_t max_limit = kMaxLimit) {
  return ParseQueryBody(body, precision, max_limit);
}

// A query with the standard time range plus `rest` (a list of members or "").
absl::StatusOr<QuerySpec> ParseWith(std::string_view rest, uint64_t max_limit = kMaxLimit) {
  std::string body = StrCat("{", kRange, rest.empty() ? "" : ", ", rest, "}");
  return Parse(body, Precision::kMilliseconds, max_limit);
}

// A downsample query with one aggregation `agg` (an object).
absl::StatusOr<QuerySpec> ParseAgg(std::string_view agg) {
  return ParseWith(StrCat(R"("downsample": {"aggregations": [)", agg, "]}"));
}

ErrorResponse Rejected(const absl::StatusOr<QuerySpec>& r) {
  EXPECT_FALSE(r.ok()) << "expected the query to be rejected";
  if (r.ok()) return ErrorResponse{};
  ErrorResponse e = ToErrorResponse(r.status());
  EXPECT_TRUE(e.body_is_json) << r.status();
  return e;
}

ErrorResponse Rejected(const absl::Status& s) {
  EXPECT_FALSE(s.ok()) << "expected the query to be rejected";
  return ToErrorResponse(s);
}

bool Mentions(const ErrorResponse& e, std::string_view what) {
  return e.message.find(what) != std::string::npos;
}

// ---------------------------------------------------------------------------
// ParseQueryBody

TEST(QueryParserTest, FullExampleFromApiMd) {
  auto spec = Parse(R"({
    "timeRange": {"start": "2024-05-01T00:00:00Z", "end": "2024-05-02T00:00:00Z"},
    "columns": ["hostname", "usage_user"],
    "filters": [{"column": "hostname", "op": "eq", "value": "host_3"}],
    "downsample": {
      "intervalUnit": "minute", "intervalSize": 5,
      "groupBy": ["hostname"],
      "aggregations": [
        {"fn": "avg", "column": "usage_user", "alias": "avg_user"},
        {"fn": "percentile", "column": "usage_user", "percentile": 0.99, "alias": "p99_user"},
        {"fn": "count", "alias": "n"}
      ]
    },
    "order": "asc",
    "limit": 10000,
    "timestampFormat": "rfc3339"
  })");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->start, kMay1);
  EXPECT_EQ(spec->end, kMay2);
  ASSERT_TRUE(spec->columns.has_value());
  EXPECT_EQ(*spec->columns, (std::vector<std::string>{"hostname", "usage_user"}));
  ASSERT_EQ(spec->filters.size(), 1u);
  EXPECT_EQ(spec->filters[0].column, "hostname");
  EXPECT_EQ(spec->filters[0].op, FilterOp::kEq);
  ASSERT_EQ(spec->filters[0].values.size(), 1u);
  EXPECT_EQ(spec->filters[0].values[0].kind, Literal::Kind::kString);
  EXPECT_EQ(spec->filters[0].values[0].s, "host_3");
  ASSERT_TRUE(spec->downsample.has_value());
  const Downsample& ds = *spec->downsample;
  EXPECT_TRUE(ds.has_interval);
  EXPECT_EQ(ds.interval_ns, 5 * kMinute);
  EXPECT_EQ(ds.group_by, (std::vector<std::string>{"hostname"}));
  ASSERT_EQ(ds.aggregations.size(), 3u);
  EXPECT_EQ(ds.aggregations[0].fn, AggFn::kAvg);
  EXPECT_EQ(ds.aggregations[0].column, "usage_user");
  EXPECT_EQ(ds.aggregations[0].alias, "avg_user");
  EXPECT_EQ(ds.aggregations[1].fn, AggFn::kPercentile);
  EXPECT_EQ(ds.aggregations[1].column, "usage_user");
  EXPECT_DOUBLE_EQ(ds.aggregations[1].percentile, 0.99);
  EXPECT_EQ(ds.aggregations[1].alias, "p99_user");
  EXPECT_EQ(ds.aggregations[2].fn, AggFn::kCount);
  EXPECT_EQ(ds.aggregations[2].column, "");
  EXPECT_EQ(ds.aggregations[2].alias, "n");
  EXPECT_FALSE(spec->descending);
  EXPECT_EQ(spec->limit, 10000u);
  EXPECT_FALSE(spec->epoch_ns);
  EXPECT_EQ(spec->precision, Precision::kMilliseconds);
}

TEST(QueryParserTest, DefaultsWithOnlyATimeRange) {
  auto spec = ParseWith("");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_FALSE(spec->columns.has_value());
  EXPECT_TRUE(spec->filters.empty());
  EXPECT_FALSE(spec->downsample.has_value());
  EXPECT_FALSE(spec->descending);
  EXPECT_EQ(spec->limit, 10000u);
  EXPECT_FALSE(spec->epoch_ns);
}

TEST(QueryParserTest, NullMembersMeanAbsent) {
  auto spec = ParseWith(R"("columns": null, "filters": null, "downsample": null, "order": null,
                           "limit": null, "timestampFormat": null)");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_FALSE(spec->columns.has_value());
  EXPECT_FALSE(spec->downsample.has_value());
  EXPECT_EQ(spec->limit, 10000u);
}

TEST(QueryParserTest, DefaultLimitNeverExceedsTheMaximum) {
  auto spec = ParseWith("", /*max_limit=*/100);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->limit, 100u);
}

TEST(QueryParserTest, MalformedJsonOrNotAnObject) {
  ErrorResponse e = Rejected(Parse("{\"timeRange\": "));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_json");
  for (std::string_view body : {"[]", "42", "null"}) {
    SCOPED_TRACE(body);
    e = Rejected(Parse(body));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_query");
  }
}

TEST(QueryParserTest, TimeRangeIsRequired) {
  for (std::string_view body :
       {R"({})", R"({"columns": ["a"]})", R"({"timeRange": null})", R"({"timeRange": "today"})",
        R"({"timeRange": {"start": "2024-05-01T00:00:00Z"}})", R"({"timeRange": {"end": 5}})"}) {
    SCOPED_TRACE(body);
    ErrorResponse e = Rejected(Parse(body));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_query");
    EXPECT_TRUE(Mentions(e, "timeRange")) << e.message;
  }
}

TEST(QueryParserTest, TimeRangeAsRfc3339) {
  auto spec = Parse(R"({"timeRange": {"start": "2024-05-01T02:00:00.5+02:00",
                                      "end": "2024-05-02t00:00:00z"}})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->start, kMay1 + kSec / 2);
  EXPECT_EQ(spec->end, kMay2);
}

TEST(QueryParserTest, TimeRangeAsIntegersInThePrecision) {
  struct Case {
    Precision precision;
    int64_t start, end;
  };
  const Case cases[] = {
      {Precision::kNanoseconds, kMay1, kMay2},
      {Precision::kMicroseconds, kMay1 / 1000, kMay2 / 1000},
      {Precision::kMilliseconds, kMay1 / 1'000'000, kMay2 / 1'000'000},
      {Precision::kSeconds, kMay1 / kSec, kMay2 / kSec},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.start);
    auto spec = Parse(StrCat(R"({"timeRange": {"start": )", c.start, R"(, "end": )", c.end, "}}"),
                      c.precision);
    ASSERT_TRUE(spec.ok()) << spec.status();
    EXPECT_EQ(spec->start, kMay1);
    EXPECT_EQ(spec->end, kMay2);
    EXPECT_EQ(spec->precision, c.precision);
  }
  // Mixed forms.
  auto spec = Parse(R"({"timeRange": {"start": 0, "end": "1970-01-01T00:00:01Z"}})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->start, 0);
  EXPECT_EQ(spec->end, kSec);
}

TEST(QueryParserTest, BadTimeRangeValues) {
  for (std::string_view range :
       {R"({"start": "2024-13-01T00:00:00Z", "end": 1})", R"({"start": 0, "end": 1.5})",
        R"({"start": true, "end": 1})", R"({"start": 0, "end": 9300000000000})"}) {
    SCOPED_TRACE(range);
    ErrorResponse e = Rejected(Parse(StrCat(R"({"timeRange": )", range, "}")));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_query");
    EXPECT_TRUE(Mentions(e, "timeRange")) << e.message;
  }
}

TEST(QueryParserTest, UnknownTopLevelKeyIsNamed) {
  ErrorResponse e = Rejected(ParseWith(R"("colums": ["a"])"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_query");
  EXPECT_TRUE(Mentions(e, "\"colums\"")) << e.message;
  EXPECT_EQ(e.Detail("field"), "colums");
}

TEST(QueryParserTest, UnknownKeysInsideObjectsAreNamed) {
  struct Case {
    std::string_view rest;
    std::string_view key;
  };
  const Case cases[] = {
      {R"("downsample": {"interval": "minute", "aggregations": [{"fn": "count"}]})", "interval"},
      {R"("downsample": {"aggregations": [{"fn": "avg", "columns": "x"}]})", "columns"},
      {R"("filters": [{"column": "a", "op": "eq", "val": 1}])", "val"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.rest);
    ErrorResponse e = Rejected(ParseWith(c.rest));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_query");
    EXPECT_TRUE(Mentions(e, StrCat("\"", c.key, "\""))) << e.message;
    EXPECT_EQ(e.Detail("field"), c.key);
  }
  ErrorResponse e = Rejected(Parse(R"({"timeRange": {"start": 0, "end": 1, "step": 1}})"));
  EXPECT_EQ(e.http, 400);
  EXPECT_TRUE(Mentions(e, "\"step\"")) << e.message;
}

TEST(QueryParserTest, EveryFilterOp) {
  struct Case {
    std::string_view op;
    FilterOp want;
  };
  const Case cases[] = {{"eq", FilterOp::kEq},   {"neq", FilterOp::kNeq}, {"lt", FilterOp::kLt},
                        {"lte", FilterOp::kLte}, {"gt", FilterOp::kGt},   {"gte", FilterOp::kGte}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op);
    auto spec =
        ParseWith(StrCat(R"("filters": [{"column": "v", "op": ")", c.op, R"(", "value": 2}])"));
    ASSERT_TRUE(spec.ok()) << spec.status();
    ASSERT_EQ(spec->filters.size(), 1u);
    EXPECT_EQ(spec->filters[0].column, "v");
    EXPECT_EQ(spec->filters[0].op, c.want);
    ASSERT_EQ(spec->filters[0].values.size(), 1u);
    EXPECT_EQ(spec->filters[0].values[0].kind, Literal::Kind::kInt);
    EXPECT_EQ(spec->filters[0].values[0].i, 2);
  }
}

TEST(QueryParserTest, FilterLiteralKinds) {
  auto spec = ParseWith(R"("filters": [
    {"column": "a", "op": "eq", "value": 1.5},
    {"column": "a", "op": "eq", "value": true},
    {"column": "a", "op": "eq", "value": "s"},
    {"column": "a", "op": "eq", "value": null},
    {"column": "a", "op": "eq", "value": -3}])");
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(spec->filters.size(), 5u);
  EXPECT_EQ(spec->filters[0].values[0].kind, Literal::Kind::kDouble);
  EXPECT_EQ(spec->filters[0].values[0].d, 1.5);
  EXPECT_EQ(spec->filters[1].values[0].kind, Literal::Kind::kBool);
  EXPECT_TRUE(spec->filters[1].values[0].b);
  EXPECT_EQ(spec->filters[2].values[0].kind, Literal::Kind::kString);
  EXPECT_EQ(spec->filters[3].values[0].kind, Literal::Kind::kNull);
  EXPECT_EQ(spec->filters[4].values[0].kind, Literal::Kind::kInt);
  EXPECT_EQ(spec->filters[4].values[0].i, -3);
  ErrorResponse e = Rejected(ParseWith(R"("filters": [{"column": "a", "op": "eq", "value": {}}])"));
  EXPECT_EQ(e.http, 400);
}

TEST(QueryParserTest, InFilterTakesAnArray) {
  auto spec = ParseWith(R"("filters": [{"column": "h", "op": "in", "value": ["a", 2, null]},
                                       {"column": "h", "op": "in", "value": []}])");
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(spec->filters.size(), 2u);
  EXPECT_EQ(spec->filters[0].op, FilterOp::kIn);
  ASSERT_EQ(spec->filters[0].values.size(), 3u);
  EXPECT_EQ(spec->filters[0].values[0].s, "a");
  EXPECT_EQ(spec->filters[0].values[1].i, 2);
  EXPECT_EQ(spec->filters[0].values[2].kind, Literal::Kind::kNull);
  EXPECT_TRUE(spec->filters[1].values.empty());

  for (std::string_view value : {R"("a")", "5", R"({"a": 1})"}) {
    SCOPED_TRACE(value);
    ErrorResponse e = Rejected(
        ParseWith(StrCat(R"("filters": [{"column": "h", "op": "in", "value": )", value, "}]")));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_query");
    EXPECT_TRUE(Mentions(e, "array")) << e.message;
  }
  ErrorResponse e = Rejected(ParseWith(R"("filters": [{"column": "h", "op": "in"}])"));
  EXPECT_EQ(e.http, 400);
}

TEST(QueryParserTest, NullTestsNeedNoValue) {
  auto spec = ParseWith(R"("filters": [{"column": "a", "op": "is_null"},
                                       {"column": "b", "op": "is_not_null"}])");
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(spec->filters.size(), 2u);
  EXPECT_EQ(spec->filters[0].op, FilterOp::kIsNull);
  EXPECT_TRUE(spec->filters[0].values.empty());
  EXPECT_EQ(spec->filters[1].op, FilterOp::kIsNotNull);
  EXPECT_TRUE(spec->filters[1].values.empty());
}

TEST(QueryParserTest, ComparisonWithoutValue) {
  ErrorResponse e = Rejected(ParseWith(R"("filters": [{"column": "a", "op": "gt"}])"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_query");
  EXPECT_TRUE(Mentions(e, "value")) << e.message;
}

TEST(QueryParserTest, FilterShapeErrors) {
  for (std::string_view filters :
       {R"({})", R"([5])", R"([{"op": "eq", "value": 1}])", R"([{"column": "a", "value": 1}])",
        R"([{"column": 5, "op": "eq", "value": 1}])"}) {
    SCOPED_TRACE(filters);
    ErrorResponse e = Rejected(ParseWith(StrCat(R"("filters": )", filters)));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_query");
  }
}

TEST(QueryParserTest, UnknownOpIsNamed) {
  ErrorResponse e =
      Rejected(ParseWith(R"("filters": [{"column": "a", "op": "like", "value": "x"}])"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_query");
  EXPECT_TRUE(Mentions(e, "\"like\"")) << e.message;
}

TEST(QueryParserTest, NotInTakesAnArray) {
  auto spec = ParseWith(R"("filters": [{"column": "h", "op": "not_in", "value": ["a", null]}])");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->filters[0].op, FilterOp::kNotIn);
  EXPECT_EQ(spec->filters[0].values.size(), 2u);
  ErrorResponse e =
      Rejected(ParseWith(R"("filters": [{"column": "h", "op": "not_in", "value": 1}])"));
  EXPECT_EQ(e.code, "invalid_query");
  EXPECT_TRUE(Mentions(e, "\"not_in\" needs an array")) << e.message;
}

// {"or"} items become trees; {"and"} items and NOT pushed down become plain filters.
TEST(QueryParserTest, OrAndNotItems) {
  auto spec = ParseWith(R"("filters": [
    {"or": [{"column": "a", "op": "eq", "value": 1}, {"column": "b", "op": "is_null"}]},
    {"and": [{"column": "c", "op": "lt", "value": 2}, {"and": [{"column": "d", "op": "gte", "value": 3}]}]},
    {"not": {"or": [{"column": "e", "op": "in", "value": [4]}, {"column": "f", "op": "lte", "value": 5}]}},
    {"not": {"not": {"column": "g", "op": "neq", "value": 6}}},
    {"not": {"and": [{"column": "h", "op": "gt", "value": 7}, {"column": "i", "op": "not_in", "value": []}]}}])");
  ASSERT_TRUE(spec.ok()) << spec.status();
  std::vector<std::pair<std::string, FilterOp>> flat;
  for (const Filter& f : spec->filters) flat.emplace_back(f.column, f.op);
  EXPECT_EQ(flat, (std::vector<std::pair<std::string, FilterOp>>{{"c", FilterOp::kLt},
                                                                 {"d", FilterOp::kGte},
                                                                 {"e", FilterOp::kNotIn},
                                                                 {"f", FilterOp::kGt},
                                                                 {"g", FilterOp::kNeq}}));
  ASSERT_EQ(spec->filter_trees.size(), 2u);
  const FilterTree& a = spec->filter_trees[0];
  ASSERT_EQ(a.kind, FilterTree::Kind::kOr);
  ASSERT_EQ(a.children.size(), 2u);
  EXPECT_EQ(a.children[0].leaf.column, "a");
  EXPECT_EQ(a.children[1].leaf.op, FilterOp::kIsNull);
  const FilterTree& h = spec->filter_trees[1];  // NOT (h > 7 AND i not_in []) is h <= 7 OR i in []
  ASSERT_EQ(h.kind, FilterTree::Kind::kOr);
  EXPECT_EQ(h.children[0].leaf.op, FilterOp::kLte);
  EXPECT_EQ(h.children[0].leaf.values[0].i, 7);
  EXPECT_EQ(h.children[1].leaf.op, FilterOp::kIn);
}

TEST(QueryParserTest, NotComplementsEveryOp) {
  const std::pair<std::string_view, FilterOp> cases[] = {
      {R"("eq", "value": 1)", FilterOp::kNeq},     {R"("neq", "value": 1)", FilterOp::kEq},
      {R"("lt", "value": 1)", FilterOp::kGte},     {R"("lte", "value": 1)", FilterOp::kGt},
      {R"("gt", "value": 1)", FilterOp::kLte},     {R"("gte", "value": 1)", FilterOp::kLt},
      {R"("in", "value": [1])", FilterOp::kNotIn}, {R"("not_in", "value": [1])", FilterOp::kIn},
      {R"("is_null")", FilterOp::kIsNotNull},      {R"("is_not_null")", FilterOp::kIsNull}};
  for (const auto& [op, want] : cases) {
    SCOPED_TRACE(op);
    auto spec = ParseWith(StrCat(R"("filters": [{"not": {"column": "a", "op": )", op, "}}]"));
    ASSERT_TRUE(spec.ok()) << spec.status();
    ASSERT_EQ(spec->filters.size(), 1u);
    EXPECT_EQ(spec->filters[0].op, want);
  }
}

TEST(QueryParserTest, FilterItemErrorsNameThePath) {
  const std::string leaf = R"({"column": "a", "op": "eq", "value": 1})";
  const std::pair<std::string, std::string_view> cases[] = {
      {R"({"or": []})", "filters[0].or must be a non-empty array"},
      {R"({"and": {}})", "filters[0].and must be a non-empty array"},
      {StrCat(R"({"or": [)", leaf, R"(, {"and": []}]})"), "filters[0].or[1].and must be"},
      {R"({"not": 5})", "filters[0].not must be an object"},
      {StrCat(R"({"not": {"or": [)", leaf, ", 7]}}"), "filters[0].not.or[1] must be an object"},
      {StrCat(R"({"or": [)", leaf, R"(], "column": "a"})"), "an \"or\" item has no other keys"},
      {R"({"not": {"column": "a", "op": "nope"}})", "unknown filter op \"nope\""},
      {R"({"column": "a", "op": "eq", "value": 1, "OR": 2})", "\"OR\" in filters[0]"},
  };
  for (const auto& [item, message] : cases) {
    SCOPED_TRACE(item);
    ErrorResponse e = Rejected(ParseWith(StrCat(R"("filters": [)", item, "]")));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_query");
    EXPECT_TRUE(Mentions(e, message)) << e.message;
  }
}

TEST(QueryParserTest, FilterItemsNestAtMost32Deep) {
  auto nested = [](int levels) {  // `levels` "not" items around a leaf
    std::string s = R"({"column": "a", "op": "eq", "value": 1})";
    for (int k = 0; k < levels; ++k) s = StrCat(R"({"not": )", s, "}");
    return StrCat(R"("filters": [)", s, "]");
  };
  auto spec = ParseWith(nested(kMaxFilterNesting));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->filters[0].op, FilterOp::kEq);  // an even number of NOTs
  ErrorResponse e = Rejected(ParseWith(nested(kMaxFilterNesting + 1)));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_query");
  EXPECT_TRUE(Mentions(e, "deeper than 32 levels")) << e.message;
}

TEST(QueryParserTest, Offset) {
  EXPECT_EQ(ParseWith("")->offset, 0u);
  EXPECT_EQ(ParseWith(R"("offset": null)")->offset, 0u);
  auto spec = ParseWith(R"("offset": 1000000000, "limit": 5)");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->offset, kMaxQueryOffset);
  EXPECT_EQ(spec->limit, 5u);
  for (std::string_view offset : {"1000000001", "18446744073709551615"}) {
    SCOPED_TRACE(offset);
    ErrorResponse e = Rejected(ParseWith(StrCat(R"("offset": )", offset)));
    EXPECT_EQ(e.http, 400);
    EXPECT_TRUE(Mentions(e, "maximum 1000000000")) << e.message;
    EXPECT_EQ(e.Detail("field"), "offset");
    EXPECT_EQ(e.Detail("maximum"), "1000000000");
  }
  for (std::string_view offset : {"-1", "1.5", R"("10")", "[]"}) {
    SCOPED_TRACE(offset);
    ErrorResponse e = Rejected(ParseWith(StrCat(R"("offset": )", offset)));
    EXPECT_EQ(e.http, 400);
    EXPECT_TRUE(Mentions(e, "offset must be a non-negative integer")) << e.message;
    EXPECT_EQ(e.Detail("field"), "offset");
  }
}

TEST(QueryParserTest, EveryAggregationFn) {
  struct Case {
    std::string_view fn;
    AggFn want;
  };
  const Case cases[] = {{"avg", AggFn::kAvg},       {"min", AggFn::kMin},
                        {"max", AggFn::kMax},       {"sum", AggFn::kSum},
                        {"count", AggFn::kCount},   {"count_distinct", AggFn::kCountDistinct},
                        {"median", AggFn::kMedian}, {"first", AggFn::kFirst},
                        {"last", AggFn::kLast}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.fn);
    auto spec = ParseAgg(StrCat(R"({"fn": ")", c.fn, R"(", "column": "v"})"));
    ASSERT_TRUE(spec.ok()) << spec.status();
    ASSERT_EQ(spec->downsample->aggregations.size(), 1u);
    EXPECT_EQ(spec->downsample->aggregations[0].fn, c.want);
    EXPECT_EQ(spec->downsample->aggregations[0].column, "v");
    // The default alias is filled in by ValidateQuery, which knows the schema.
    EXPECT_EQ(spec->downsample->aggregations[0].alias, "");
  }
}

TEST(QueryParserTest, UnknownFnIsNamed) {
  ErrorResponse e = Rejected(ParseAgg(R"({"fn": "mode", "column": "v"})"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_query");
  EXPECT_TRUE(Mentions(e, "\"mode\"")) << e.message;

  e = Rejected(ParseAgg(R"({"column": "v"})"));
  EXPECT_EQ(e.http, 400);
  EXPECT_TRUE(Mentions(e, "fn")) << e.message;
}

TEST(QueryParserTest, PercentileInTheClosedUnitInterval) {
  for (std::string_view p : {"0", "1", "0.5", "0.0", "1.0"}) {
    SCOPED_TRACE(p);
    auto spec = ParseAgg(StrCat(R"({"fn": "percentile", "column": "v", "percentile": )", p, "}"));
    ASSERT_TRUE(spec.ok()) << spec.status();
    EXPECT_DOUBLE_EQ(spec->downsample->aggregations[0].percentile, std::stod(std::string(p)));
  }
  for (std::string_view p : {"-0.01", "1.01", "2", "-1", "\"0.5\"", "null"}) {
    SCOPED_TRACE(p);
    ErrorResponse e =
        Rejected(ParseAgg(StrCat(R"({"fn": "percentile", "column": "v", "percentile": )", p, "}")));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_query");
    EXPECT_TRUE(Mentions(e, "percentile")) << e.message;
  }
}

TEST(QueryParserTest, PercentileMissingOrMisplaced) {
  ErrorResponse e = Rejected(ParseAgg(R"({"fn": "percentile", "column": "v"})"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_query");
  EXPECT_TRUE(Mentions(e, "percentile")) << e.message;

  e = Rejected(ParseAgg(R"({"fn": "avg", "column": "v", "percentile": 0.5})"));
  EXPECT_EQ(e.http, 400);
  EXPECT_TRUE(Mentions(e, "percentile")) << e.message;
}

TEST(QueryParserTest, EveryIntervalUnitWithIntervalSize) {
  struct Case {
    std::string_view unit;
    int64_t ns;
  };
  const Case cases[] = {{"millisecond", 1'000'000}, {"second", kSec},
                        {"minute", kMinute},        {"hour", 60 * kMinute},
                        {"day", 24 * 60 * kMinute}, {"week", 7 * 24 * 60 * kMinute}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.unit);
    auto spec = ParseWith(StrCat(R"("downsample": {"intervalUnit": ")", c.unit,
                                 R"(", "intervalSize": 3, "aggregations": [{"fn": "count"}]})"));
    ASSERT_TRUE(spec.ok()) << spec.status();
    EXPECT_TRUE(spec->downsample->has_interval);
    EXPECT_EQ(spec->downsample->interval_ns, 3 * c.ns);
    // intervalSize defaults to 1.
    spec = ParseWith(StrCat(R"("downsample": {"intervalUnit": ")", c.unit,
                            R"(", "aggregations": [{"fn": "count"}]})"));
    ASSERT_TRUE(spec.ok()) << spec.status();
    EXPECT_EQ(spec->downsample->interval_ns, c.ns);
  }
}

TEST(QueryParserTest, WithoutIntervalUnitTheRangeIsOneBucket) {
  auto spec = ParseAgg(R"({"fn": "count"})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_FALSE(spec->downsample->has_interval);
  EXPECT_TRUE(spec->downsample->group_by.empty());
}

TEST(QueryParserTest, BadIntervals) {
  for (std::string_view ds :
       {R"("intervalUnit": "minute", "intervalSize": 0)",
        R"("intervalUnit": "minute", "intervalSize": -5)",
        R"("intervalUnit": "minute", "intervalSize": 1.5)",
        R"("intervalUnit": "minute", "intervalSize": "5")",
        R"("intervalUnit": "week", "intervalSize": 9223372036854775807)", R"("intervalSize": 5)"}) {
    SCOPED_TRACE(ds);
    ErrorResponse e = Rejected(
        ParseWith(StrCat(R"("downsample": {)", ds, R"(, "aggregations": [{"fn": "count"}]})")));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_query");
    EXPECT_TRUE(Mentions(e, "intervalSize") || Mentions(e, "interval")) << e.message;
  }
  ErrorResponse e = Rejected(ParseWith(
      R"("downsample": {"intervalUnit": "fortnight", "aggregations": [{"fn": "count"}]})"));
  EXPECT_EQ(e.http, 400);
  EXPECT_TRUE(Mentions(e, "\"fortnight\"")) << e.message;
  // month and year are calendar units; a timezone makes day and week ones too.
  auto spec = ParseWith(
      R"("downsample": {"intervalUnit": "month", "intervalSize": 3, "aggregations": [{"fn": "count"}]})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->downsample->calendar, CalendarUnit::kMonth);
  EXPECT_EQ(spec->downsample->calendar_size, 3);
  spec = ParseWith(
      R"("downsample": {"intervalUnit": "day", "timezone": "Asia/Tokyo", "aggregations": [{"fn": "count"}]})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->downsample->calendar, CalendarUnit::kDay);
  EXPECT_EQ(spec->downsample->timezone, "Asia/Tokyo");
  for (std::string_view ds :
       {R"("timezone": "Nowhere/City", "intervalUnit": "day")", R"("timezone": "UTC")",
        R"("timezone": "UTC", "intervalUnit": "minute")",
        R"("timezone": 5, "intervalUnit": "day")"}) {
    SCOPED_TRACE(ds);
    e = Rejected(
        ParseWith(StrCat(R"("downsample": {)", ds, R"(, "aggregations": [{"fn": "count"}]})")));
    EXPECT_EQ(e.http, 400);
    EXPECT_TRUE(Mentions(e, "timezone")) << e.message;
  }
}

TEST(QueryParserTest, Order) {
  auto spec = ParseWith(R"("order": "asc")");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_FALSE(spec->descending);
  spec = ParseWith(R"("order": "desc")");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(spec->descending);
  for (std::string_view order : {R"("ascending")", R"("DESC")", "1"}) {
    SCOPED_TRACE(order);
    ErrorResponse e = Rejected(ParseWith(StrCat(R"("order": )", order)));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_query");
    EXPECT_TRUE(Mentions(e, "order")) << e.message;
  }
}

TEST(QueryParserTest, Limit) {
  auto spec = ParseWith(R"("limit": 100)", /*max_limit=*/100);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->limit, 100u);
  spec = ParseWith(R"("limit": 0)");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->limit, 0u);

  for (std::string_view limit : {"101", "9223372036854775807", "18446744073709551615"}) {
    SCOPED_TRACE(limit);
    ErrorResponse e = Rejected(ParseWith(StrCat(R"("limit": )", limit), /*max_limit=*/100));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_query");
    EXPECT_TRUE(Mentions(e, "maximum 100")) << e.message;
    EXPECT_EQ(e.Detail("maximum"), "100");
  }
  for (std::string_view limit : {"-1", "1.5", R"("10")"}) {
    SCOPED_TRACE(limit);
    ErrorResponse e = Rejected(ParseWith(StrCat(R"("limit": )", limit)));
    EXPECT_EQ(e.http, 400);
    EXPECT_TRUE(Mentions(e, "limit")) << e.message;
  }
}

TEST(QueryParserTest, TimestampFormat) {
  auto spec = ParseWith(R"("timestampFormat": "rfc3339")");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_FALSE(spec->epoch_ns);
  spec = ParseWith(R"("timestampFormat": "epoch_ns")");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(spec->epoch_ns);
  for (std::string_view tf : {R"("epoch_ms")", R"("unix")", "true"}) {
    SCOPED_TRACE(tf);
    ErrorResponse e = Rejected(ParseWith(StrCat(R"("timestampFormat": )", tf)));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_query");
    EXPECT_TRUE(Mentions(e, "timestampFormat")) << e.message;
  }
}

// ---------------------------------------------------------------------------
// ValidateQuery against a schema

Schema CpuSchema() {
  Schema s;
  s.version = 1;
  s.time_column = "timestamp";
  s.fields = {{"timestamp", ColumnType::kTimestamp},
              {"hostname", ColumnType::kString},
              {"usage_user", ColumnType::kDouble},
              {"requests", ColumnType::kInteger},
              {"up", ColumnType::kBoolean}};
  return s;
}

// Parses (which must succeed) and validates.
absl::Status ParseAndValidate(std::string_view rest, QuerySpec* out = nullptr) {
  auto spec = ParseWith(rest);
  EXPECT_TRUE(spec.ok()) << spec.status();
  if (!spec.ok()) return spec.status();
  absl::Status s = ValidateQuery(&*spec, CpuSchema());
  if (out != nullptr) *out = std::move(*spec);
  return s;
}

TEST(ValidateQueryTest, ExampleFromApiMdIsValid) {
  QuerySpec spec;
  absl::Status s = ParseAndValidate(R"(
    "columns": ["hostname", "usage_user"],
    "filters": [{"column": "hostname", "op": "eq", "value": "host_3"}],
    "downsample": {"intervalUnit": "minute", "intervalSize": 5, "groupBy": ["hostname"],
      "aggregations": [{"fn": "avg", "column": "usage_user", "alias": "avg_user"},
                       {"fn": "percentile", "column": "usage_user", "percentile": 0.99},
                       {"fn": "count", "alias": "n"}]})",
                                    &spec);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(spec.filters[0].index, 1);
  EXPECT_EQ(spec.downsample->aggregations[0].alias, "avg_user");
  EXPECT_EQ(spec.downsample->aggregations[1].alias, "percentile_usage_user");
  EXPECT_EQ(spec.downsample->aggregations[2].alias, "n");
}

TEST(ValidateQueryTest, UnknownColumnIsNamed) {
  struct Case {
    std::string_view rest;
    std::string_view column;
  };
  const Case cases[] = {
      {R"("columns": ["hostname", "usage_sys"])", "usage_sys"},
      {R"("filters": [{"column": "region", "op": "eq", "value": "eu"}])", "region"},
      {R"("filters": [{"column": "zone", "op": "is_null"}])", "zone"},
      {R"("filters": [{"or": [{"column": "up", "op": "is_null"},
                              {"not": {"column": "rack", "op": "in", "value": []}}]}])",
       "rack"},
      {R"("downsample": {"groupBy": ["rack"], "aggregations": [{"fn": "count"}]})", "rack"},
      {R"("downsample": {"aggregations": [{"fn": "max", "column": "temp"}]})", "temp"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.rest);
    ErrorResponse e = Rejected(ParseAndValidate(c.rest));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "unknown_column");
    EXPECT_TRUE(Mentions(e, StrCat("\"", c.column, "\""))) << e.message;
    EXPECT_EQ(e.Detail("column"), c.column);
  }
}

TEST(ValidateQueryTest, NumericOnlyAggregationsOnNonNumericColumns) {
  for (std::string_view fn : {"avg", "sum", "median"}) {
    for (std::string_view column : {"hostname", "up"}) {
      SCOPED_TRACE(StrCat(fn, " ", column));
      ErrorResponse e =
          Rejected(ParseAndValidate(StrCat(R"("downsample": {"aggregations": [{"fn": ")", fn,
                                           R"(", "column": ")", column, R"("}]})")));
      EXPECT_EQ(e.http, 400);
      EXPECT_EQ(e.code, "invalid_query");
      EXPECT_EQ(e.Detail("column"), column);
      EXPECT_TRUE(Mentions(e, StrCat("\"", column, "\""))) << e.message;
    }
  }
  ErrorResponse e = Rejected(ParseAndValidate(
      R"("downsample": {"aggregations": [{"fn": "percentile", "column": "hostname", "percentile": 0.5}]})"));
  EXPECT_EQ(e.http, 400);
  // Order-based and counting aggregations take any column.
  for (std::string_view fn : {"min", "max", "first", "last", "count", "count_distinct"}) {
    SCOPED_TRACE(fn);
    absl::Status s = ParseAndValidate(
        StrCat(R"("downsample": {"aggregations": [{"fn": ")", fn, R"(", "column": "hostname"}]})"));
    EXPECT_TRUE(s.ok()) << s;
  }
}

TEST(ValidateQueryTest, EndMustBeAfterStart) {
  for (std::string_view range : {R"({"start": 5, "end": 5})", R"({"start": 6, "end": 5})"}) {
    SCOPED_TRACE(range);
    auto spec = Parse(StrCat(R"({"timeRange": )", range, "}"));
    ASSERT_TRUE(spec.ok()) << spec.status();
    ErrorResponse e = Rejected(ValidateQuery(&*spec, CpuSchema()));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_query");
    EXPECT_TRUE(Mentions(e, "timeRange")) << e.message;
  }
  auto spec = Parse(R"({"timeRange": {"start": 5, "end": 6}})");
  ASSERT_TRUE(spec.ok());
  EXPECT_TRUE(ValidateQuery(&*spec, CpuSchema()).ok());
}

TEST(ValidateQueryTest, DefaultAliases) {
  QuerySpec spec;
  absl::Status s = ParseAndValidate(R"("downsample": {"aggregations": [
    {"fn": "avg", "column": "usage_user"}, {"fn": "count"},
    {"fn": "count", "column": "hostname"}, {"fn": "max", "column": "requests", "alias": null}]})",
                                    &spec);
  ASSERT_TRUE(s.ok()) << s;
  const auto& aggs = spec.downsample->aggregations;
  ASSERT_EQ(aggs.size(), 4u);
  EXPECT_EQ(aggs[0].alias, "avg_usage_user");
  EXPECT_EQ(aggs[1].alias, "count");
  EXPECT_EQ(aggs[2].alias, "count_hostname");
  EXPECT_EQ(aggs[3].alias, "max_requests");
}

TEST(ValidateQueryTest, DuplicateOutputNames) {
  for (std::string_view ds : {
           R"({"aggregations": [{"fn": "avg", "column": "usage_user"},
                                {"fn": "max", "column": "usage_user", "alias": "avg_usage_user"}]})",
           R"({"aggregations": [{"fn": "count"}, {"fn": "count"}]})",
           R"({"groupBy": ["hostname"], "aggregations": [{"fn": "count", "alias": "hostname"}]})",
           R"({"aggregations": [{"fn": "count", "alias": "timestamp"}]})",
           R"({"groupBy": ["hostname", "hostname"], "aggregations": [{"fn": "count"}]})",
       }) {
    SCOPED_TRACE(ds);
    ErrorResponse e = Rejected(ParseAndValidate(StrCat(R"("downsample": )", ds)));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_query");
    EXPECT_TRUE(Mentions(e, "twice")) << e.message;
  }
}

TEST(ValidateQueryTest, AggregationWithoutColumnIsOnlyCount) {
  ErrorResponse e =
      Rejected(ParseAndValidate(R"("downsample": {"aggregations": [{"fn": "avg"}]})"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_query");
  EXPECT_TRUE(Mentions(e, "avg")) << e.message;
}

}  // namespace
}  // namespace timestore::api
