// Prometheus remote write 1.0 and remote read (SAMPLES response type) as rows
// and queries: a write body becomes an IngestRequest, a read query becomes a
// QuerySpec plus the matchers the engine cannot evaluate, and query rows are
// grouped back into series. No engine and no HTTP here: api/prometheus_routes.cc
// is the thin route over these, and tests and fuzz/prom_write_fuzz.cc drive the
// byte-level paths directly.
//
// The mapping (docs/api.md, "Prometheus remote write and read"):
//   - one sample is one row: the dataset's time column (`timestamp` for a new
//     dataset) holds the sample time (ms scaled to ns), column `value` (double)
//     the value, bit for bit: NaN payloads such as the staleness marker
//     0x7ff0000000000002 survive the WAL, memory and sealed segments;
//   - every label is a string column of its name, `__name__` included; a label
//     the series lacks is null. A label with an empty value is no label, as in
//     Prometheus, and is stored as null;
//   - label names that would collide with the dataset's own columns (the time
//     column, `value`) or that start with `label_` are stored as
//     `label_<name>`; reading strips one `label_` prefix from every column
//     name. The mapping is one-to-one, so any label set survives the trip.
//
// All functions are thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "api/prometheus.pb.h"
#include "engine/engine.h"
#include "engine/query.h"
#include "engine/schema.h"

namespace re2 {
class RE2;
}

namespace timestore::api {

inline constexpr std::string_view kPromDefaultDataset = "prometheus";
inline constexpr std::string_view kPromTimeColumn = "timestamp";  // of datasets it creates
inline constexpr std::string_view kPromValueColumn = "value";
inline constexpr std::string_view kPromNameLabel = "__name__";
inline constexpr std::string_view kLabelColumnPrefix = "label_";

// The column that stores label `label` in a dataset whose time column is
// `time_column`, and the label a column stores (its name less one `label_`).
std::string LabelColumnName(std::string_view label, std::string_view time_column);
std::string ColumnLabelName(std::string_view column);

// `s` for an error message: `"` and `\` escaped, bytes that are not
// printable UTF-8 as \xNN, at most 256 bytes (then "..."), so that the JSON
// error stays valid whatever the client sent.
std::string EscapeForMessage(std::string_view s);

// Both routes take a snappy block body whatever Content-Encoding says, as
// Prometheus sends it: "" , "identity" and "snappy" are accepted, anything
// else is 415 unsupported_encoding. A Content-Type naming the remote write 2.0
// message (proto=io.prometheus.write.v2.Request) is 415 too, which tells a
// 2.0 sender to fall back to 1.0.
absl::Status CheckRemoteEncoding(std::string_view content_encoding, std::string_view content_type);

// ---- remote write ----

struct RemoteWriteOptions {
  std::string slug;
  // The dataset's current schema, or null when the dataset does not exist:
  // gives the time column and the column types the batch must agree with.
  const Schema* current = nullptr;
  // Largest decoded (snappy) body: 413 payload_too_large beyond it.
  uint64_t max_decoded_bytes = 64ull << 20;
  // Largest rows × columns of one batch, which bounds the memory of the
  // columns built (about 5 bytes a cell): 413 payload_too_large beyond it.
  uint64_t max_cells = 32ull << 20;
};

// Snappy-decodes `body` (exactly once), parses a WriteRequest and builds its
// rows. Series without samples (exemplars or native histograms only) are
// skipped; metadata, exemplars and histograms are ignored. Every problem is
// an error naming the series (its labels, escaped) and what was expected, and
// nothing of the request is kept:
//   invalid_body      not snappy, or not a WriteRequest (400);
//   payload_too_large past max_decoded_bytes or max_cells (413);
//   invalid_labels    an empty or duplicate label name, invalid UTF-8, a
//                     name that is no column name, no `__name__` (400);
//   invalid_timestamp a sample time outside the engine's int64 ns range (400);
//   type_conflict     a column of `current` whose type is not what samples
//                     need (`value` double, labels string) (400).
absl::StatusOr<IngestRequest> DecodeRemoteWrite(std::string_view body,
                                                const RemoteWriteOptions& options);
// The same from a parsed request (the part after snappy and protobuf).
absl::StatusOr<IngestRequest> RemoteWriteToIngest(const prometheus::WriteRequest& request,
                                                  const RemoteWriteOptions& options);

// ---- remote read ----

// Snappy-decodes and parses a ReadRequest into `arena` (which owns the
// result). Errors: invalid_body (400), payload_too_large (413), and
// unsupported_response_type (400) when the request accepts response types
// but not SAMPLES, the only one served.
absl::StatusOr<prometheus::ReadRequest*> DecodeRemoteRead(std::string_view body,
                                                          uint64_t max_decoded_bytes,
                                                          google::protobuf::Arena* arena);

// One label matcher of a read query, compiled. Regexes are RE2, fully
// anchored as Prometheus anchors them (^(?:re)$).
class LabelMatch {
 public:
  // 400 invalid_matcher on a bad regex or an unknown matcher type.
  static absl::StatusOr<LabelMatch> Compile(const prometheus::LabelMatcher& m);
  bool Matches(std::string_view value) const;
  prometheus::LabelMatcher::Type type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }
  // For RE: the alternatives when the regex is a plain `a|b|c` of non-empty
  // literals (then it can be an `in` filter); nullopt otherwise.
  std::optional<std::vector<std::string>> LiteralAlternatives() const;

 private:
  prometheus::LabelMatcher::Type type_ = prometheus::LabelMatcher::EQ;
  std::string name_, value_;
  std::shared_ptr<const re2::RE2> re_;
};

// How one read query runs against a dataset.
struct RemoteReadPlan {
  // No row can match (empty time range, or a matcher that the empty string
  // fails on a label the dataset lacks): skip the engine.
  bool match_nothing = false;
  // Raw rows in time order: the time column, `value`, then the label columns.
  QuerySpec spec;
  std::vector<std::string> labels;  // label name of each label column, in output order
  // Matchers left to check per row: the label column they look at (index
  // into `labels`) and the matcher, which sees "" for a null.
  struct Residual {
    size_t label = 0;
    LabelMatch match;
  };
  std::vector<Residual> residual;
};

// Plans `query` over a dataset with `schema`: the time range (ms,
// inclusive at both ends), equality and null tests pushed into filters, the
// rest left as residual matchers; `limit` rows at most. A dataset without a
// `value` column matches nothing; one whose `value` is neither double nor
// integer is 400 type_conflict.
absl::StatusOr<RemoteReadPlan> PlanRemoteRead(const prometheus::Query& query, const Schema& schema,
                                              uint64_t limit);

// Groups the rows of `result` (the answer to plan.spec) that pass the
// residual matchers into series of their full label set (labels sorted by
// name), series sorted by labels, samples by time. Samples of one series with
// the same millisecond keep the last one written.
void GroupSeries(const QueryResult& result, const RemoteReadPlan& plan,
                 prometheus::QueryResult* out);

// Prometheus's text form of a label set, `{__name__="up", job="node"}`, with
// bytes that are not printable UTF-8 escaped (\xNN) and at most ~256 bytes:
// for error messages.
std::string DescribeSeries(const google::protobuf::RepeatedPtrField<prometheus::Label>& labels);

}  // namespace timestore::api
