#include "api/prometheus_codec.h"

#include <re2/re2.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "api/body_decoding.h"
#include "api/route_helpers.h"
#include "common/json_writer.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"

namespace timestore::api {
namespace {

constexpr int64_t kNanosPerMs = 1'000'000;
constexpr size_t kMaxDescription = 256;

// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int k = 1; k <= n; ++k) {
      if ((p[k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[k] & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += n + 1;
  }
  return true;
}

// Appends `s` with `"` and `\` escaped and every byte that is not printable
// ASCII or part of well-formed UTF-8 as \xNN, so that error messages (JSON)
// stay valid UTF-8 whatever the client sent.
void AppendEscaped(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      // The longest well-formed sequence starting here, if any.
      size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      if (i + len <= s.size() && IsValidUtf8(s.substr(i, len))) {
        out->append(s.substr(i, len));
        i += len;
        continue;
      }
    } else if (c >= 0x20 && c < 0x7F) {
      if (c == '"' || c == '\\') out->push_back('\\');
      out->push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    out->append("\\x");
    out->push_back(kHex[c >> 4]);
    out->push_back(kHex[c & 15]);
    ++i;
  }
}

std::string Escaped(std::string_view s) {
  std::string out;
  AppendEscaped(&out, s.substr(0, kMaxDescription));
  if (s.size() > kMaxDescription) out.append("...");
  return out;
}

absl::Status SeriesError(std::string_view api_code, int series_index,
                         const prometheus::TimeSeries& ts, std::string_view problem,
                         std::string_view expected, std::optional<std::string_view> label = {},
                         std::optional<int> sample_index = {}) {
  std::string desc = DescribeSeries(ts.labels());
  std::string details;
  JsonWriter w(&details);
  w.BeginObject();
  w.Key("seriesIndex").Int(series_index);
  w.Key("series").String(desc);
  if (label) w.Key("label").String(Escaped(*label));
  if (sample_index) w.Key("sampleIndex").Int(*sample_index);
  w.Key("expected").String(expected);
  w.EndObject();
  return MakeError(absl::StatusCode::kInvalidArgument, api_code,
                   StrCat("series ", series_index, " ", desc, ": ", problem, "; expected ",
                          expected, " (nothing of this request was stored)"),
                   details);
}

// Checks one series' labels: names non-empty, UTF-8, usable as column names,
// unique; a non-empty __name__.
absl::Status ValidateLabels(const prometheus::TimeSeries& ts, int s, std::string_view time_column) {
  bool has_name = false;
  std::vector<std::string_view> names;
  names.reserve(ts.labels_size());
  for (const auto& l : ts.labels()) {
    if (l.name().empty()) {
      return SeriesError("invalid_labels", s, ts, "a label has an empty name",
                         "non-empty label names");
    }
    if (!IsValidUtf8(l.name()) || !IsValidUtf8(l.value())) {
      return SeriesError("invalid_labels", s, ts,
                         StrCat("label \"", Escaped(l.name()), "\" is not valid UTF-8"),
                         "UTF-8 label names and values", l.name());
    }
    if (!ValidateColumnName(LabelColumnName(l.name(), time_column)).ok()) {
      return SeriesError("invalid_labels", s, ts,
                         StrCat("label name \"", Escaped(l.name()), "\" cannot name a column"),
                         "label names of 1 to 128 bytes (122 for those stored with the "
                         "label_ prefix) without control characters",
                         l.name());
    }
    if (l.name() == kPromNameLabel && !l.value().empty()) has_name = true;
    names.push_back(l.name());
  }
  std::sort(names.begin(), names.end());
  for (size_t i = 1; i < names.size(); ++i) {
    if (names[i] == names[i - 1]) {
      return SeriesError("invalid_labels", s, ts,
                         StrCat("label \"", Escaped(names[i]), "\" appears more than once"),
                         "each label name once per series", names[i]);
    }
  }
  if (!has_name) {
    return SeriesError("invalid_labels", s, ts, "the series has samples but no __name__ label",
                       "a non-empty __name__ label (the metric name)", kPromNameLabel);
  }
  return absl::OkStatus();
}

absl::Status CheckColumnType(const Schema* current, const std::string& column, ColumnType want,
                             int s, const prometheus::TimeSeries& ts, std::string_view slug) {
  if (current == nullptr) return absl::OkStatus();
  int idx = current->IndexOf(column);
  if (idx < 0 || current->fields[idx].type == want) return absl::OkStatus();
  ColumnType got = current->fields[idx].type;
  return SeriesError(
      "type_conflict", s, ts,
      StrCat("column \"", Escaped(column), "\" of dataset \"", slug, "\" is ", ColumnTypeName(got),
             (idx == current->time_index() ? " (the time column)" : ""),
             "; write Prometheus samples to another dataset with ?dataset="),
      StrCat("column \"", Escaped(column), "\" of type ", ColumnTypeName(want)));
}

bool MulOverflows(int64_t a, int64_t b, int64_t* out) { return __builtin_mul_overflow(a, b, out); }

// a * kNanosPerMs, clamped to the int64 range.
int64_t SaturatingMsToNs(int64_t ms) {
  int64_t out;
  if (MulOverflows(ms, kNanosPerMs, &out)) {
    return ms < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  }
  return out;
}

std::string LabelDetails(std::string_view label) {
  std::string out;
  JsonWriter(&out).BeginObject().Key("label").String(Escaped(label)).EndObject();
  return out;
}

absl::Status InvalidBody(std::string_view message) {
  return MakeError(absl::StatusCode::kInvalidArgument, "invalid_body", message);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string LabelColumnName(std::string_view label, std::string_view time_column) {
  if (label == time_column || label == kPromValueColumn || label.starts_with(kLabelColumnPrefix)) {
    return StrCat(kLabelColumnPrefix, label);
  }
  return std::string(label);
}

std::string ColumnLabelName(std::string_view column) {
  if (column.starts_with(kLabelColumnPrefix)) column.remove_prefix(kLabelColumnPrefix.size());
  return std::string(column);
}

std::string DescribeSeries(const google::protobuf::RepeatedPtrField<prometheus::Label>& labels) {
  std::string out = "{";
  for (int i = 0; i < labels.size(); ++i) {
    if (i > 0) out.append(", ");
    AppendEscaped(&out, labels[i].name());
    out.append("=\"");
    AppendEscaped(&out, labels[i].value());
    out.push_back('"');
    if (out.size() > kMaxDescription) {
      out.resize(kMaxDescription);
      // Do not leave half a UTF-8 sequence.
      while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80)
        out.pop_back();
      if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
      out.append("...");
      break;
    }
  }
  out.push_back('}');
  return out;
}

std::string EscapeForMessage(std::string_view s) { return Escaped(s); }

absl::Status CheckRemoteEncoding(std::string_view content_encoding, std::string_view content_type) {
  std::string encoding = Lower(StripWhitespace(content_encoding));
  if (!encoding.empty() && encoding != "identity" && encoding != "snappy") {
    return MakeError(absl::StatusCode::kInvalidArgument, "unsupported_encoding",
                     StrCat("Content-Encoding \"", Escaped(content_encoding.substr(0, 64)),
                            "\" is not supported here; Prometheus remote write and read "
                            "bodies are snappy block-compressed protobuf"));
  }
  if (Lower(content_type).find("io.prometheus.write.v2") != std::string::npos) {
    return MakeError(absl::StatusCode::kInvalidArgument, "unsupported_encoding",
                     "remote write 2.0 (io.prometheus.write.v2.Request) is not supported; "
                     "send remote write 1.0 (prometheus.WriteRequest)");
  }
  return absl::OkStatus();
}

absl::StatusOr<IngestRequest> DecodeRemoteWrite(std::string_view body,
                                                const RemoteWriteOptions& options) {
  std::string decoded;
  RETURN_IF_ERROR(SnappyDecode(body, options.max_decoded_bytes, &decoded));
  google::protobuf::Arena arena;
  auto* request = google::protobuf::Arena::CreateMessage<prometheus::WriteRequest>(&arena);
  if (!request->ParseFromString(decoded)) {
    return InvalidBody(
        "the body is not a remote write request (snappy-compressed protobuf "
        "prometheus.WriteRequest)");
  }
  return RemoteWriteToIngest(*request, options);
}

absl::StatusOr<IngestRequest> RemoteWriteToIngest(const prometheus::WriteRequest& request,
                                                  const RemoteWriteOptions& options) {
  const std::string time_column =
      options.current ? options.current->time_column : std::string(kPromTimeColumn);
  const std::string value_column(kPromValueColumn);

  // Pass 1: check everything and collect the label columns, so that an
  // error leaves nothing half-built and the size is known before building.
  StringMap<size_t> label_index;  // column name -> position in `label_columns`
  std::vector<std::string> label_columns;
  uint64_t rows = 0;
  bool value_checked = false;
  for (int s = 0; s < request.timeseries_size(); ++s) {
    const prometheus::TimeSeries& ts = request.timeseries(s);
    if (ts.samples_size() == 0) continue;
    RETURN_IF_ERROR(ValidateLabels(ts, s, time_column));
    if (!value_checked) {
      RETURN_IF_ERROR(
          CheckColumnType(options.current, value_column, ColumnType::kDouble, s, ts, options.slug));
      value_checked = true;
    }
    for (const auto& l : ts.labels()) {
      if (l.value().empty()) continue;
      std::string column = LabelColumnName(l.name(), time_column);
      if (label_index.contains(column)) continue;
      RETURN_IF_ERROR(
          CheckColumnType(options.current, column, ColumnType::kString, s, ts, options.slug));
      label_index.emplace(column, label_columns.size());
      label_columns.push_back(std::move(column));
    }
    for (int i = 0; i < ts.samples_size(); ++i) {
      int64_t ns;
      if (MulOverflows(ts.samples(i).timestamp(), kNanosPerMs, &ns)) {
        return SeriesError("invalid_timestamp", s, ts,
                           StrCat("sample ", i, " has timestamp ", ts.samples(i).timestamp(),
                                  " ms, outside the range of int64 nanoseconds"),
                           "milliseconds between -9223372036854 and 9223372036854 "
                           "(1677-09-21 to 2262-04-11)",
                           std::nullopt, i);
      }
    }
    rows += static_cast<uint64_t>(ts.samples_size());
  }
  const uint64_t columns = 2 + label_columns.size();
  RETURN_IF_ERROR(CheckCells(
      rows, columns, options.max_cells,
      [&] { return StrCat(rows, " samples and ", label_columns.size(), " distinct labels"); },
      "send fewer series per request (queue_config.max_samples_per_send)"));

  IngestRequest out;
  out.slug = options.slug;
  out.time_column = time_column;
  out.rows = static_cast<uint32_t>(rows);
  if (rows == 0) return out;

  // Pass 2: build the columns, series after series.
  ColumnBuilder time(ColumnType::kTimestamp), value(ColumnType::kDouble);
  std::vector<ColumnBuilder> labels(label_columns.size(), ColumnBuilder(ColumnType::kString));
  uint32_t row = 0;
  for (const prometheus::TimeSeries& ts : request.timeseries()) {
    const int n = ts.samples_size();
    if (n == 0) continue;
    for (const prometheus::Sample& sample : ts.samples()) {
      time.AppendInt(sample.timestamp() * kNanosPerMs);  // checked in pass 1
      value.AppendDouble(sample.value());                // bit for bit
    }
    for (const auto& l : ts.labels()) {
      if (l.value().empty()) continue;
      ColumnBuilder& b = labels[label_index.find(LabelColumnName(l.name(), time_column))->second];
      b.PadNullsTo(row);
      for (int k = 0; k < n; ++k) b.AppendString(l.value());
    }
    row += static_cast<uint32_t>(n);
  }
  out.fields.push_back({time_column, ColumnType::kTimestamp});
  out.columns.push_back(time.Finish());
  out.fields.push_back({value_column, ColumnType::kDouble});
  out.columns.push_back(value.Finish());
  for (size_t k = 0; k < labels.size(); ++k) {
    labels[k].PadNullsTo(row);
    out.fields.push_back({label_columns[k], ColumnType::kString});
    out.columns.push_back(labels[k].Finish());
  }
  return out;
}

absl::StatusOr<prometheus::ReadRequest*> DecodeRemoteRead(std::string_view body,
                                                          uint64_t max_decoded_bytes,
                                                          google::protobuf::Arena* arena) {
  std::string decoded;
  RETURN_IF_ERROR(SnappyDecode(body, max_decoded_bytes, &decoded));
  auto* request = google::protobuf::Arena::CreateMessage<prometheus::ReadRequest>(arena);
  if (!request->ParseFromString(decoded)) {
    return InvalidBody(
        "the body is not a remote read request (snappy-compressed protobuf "
        "prometheus.ReadRequest)");
  }
  if (request->accepted_response_types_size() > 0) {
    bool samples = false;
    for (int t : request->accepted_response_types())
      samples |= t == prometheus::ReadRequest::SAMPLES;
    if (!samples) {
      return MakeError(absl::StatusCode::kInvalidArgument, "unsupported_response_type",
                       "only the SAMPLES remote read response type is supported, and the request "
                       "does not accept it (STREAMED_XOR_CHUNKS is not served)");
    }
  }
  return request;
}

absl::StatusOr<LabelMatch> LabelMatch::Compile(const prometheus::LabelMatcher& m) {
  LabelMatch out;
  out.type_ = m.type();
  out.name_ = m.name();
  out.value_ = m.value();
  switch (m.type()) {
    case prometheus::LabelMatcher::EQ:
    case prometheus::LabelMatcher::NEQ:
      return out;
    case prometheus::LabelMatcher::RE:
    case prometheus::LabelMatcher::NRE: {
      RE2::Options opts;
      opts.set_log_errors(false);
      auto re = std::make_shared<RE2>(StrCat("^(?:", m.value(), ")$"), opts);
      if (!re->ok()) {
        return MakeError(absl::StatusCode::kInvalidArgument, "invalid_matcher",
                         StrCat("the regex of the matcher on label \"", Escaped(m.name()),
                                "\" does not compile (RE2 syntax): ", re->error()),
                         LabelDetails(m.name()));
      }
      out.re_ = std::move(re);
      return out;
    }
    default:
      return MakeError(absl::StatusCode::kInvalidArgument, "invalid_matcher",
                       StrCat("matcher type ", static_cast<int>(m.type()), " on label \"",
                              Escaped(m.name()), "\" is not one of EQ, NEQ, RE, NRE"),
                       LabelDetails(m.name()));
  }
}

bool LabelMatch::Matches(std::string_view v) const {
  switch (type_) {
    case prometheus::LabelMatcher::EQ:
      return v == value_;
    case prometheus::LabelMatcher::NEQ:
      return v != value_;
    case prometheus::LabelMatcher::RE:
      return RE2::FullMatch(re2::StringPiece(v.data(), v.size()), *re_);
    case prometheus::LabelMatcher::NRE:
      return !RE2::FullMatch(re2::StringPiece(v.data(), v.size()), *re_);
    default:
      return false;
  }
}

std::optional<std::vector<std::string>> LabelMatch::LiteralAlternatives() const {
  if (type_ != prometheus::LabelMatcher::RE) return std::nullopt;
  for (char c : value_) {
    if (c == '\0' || std::strchr("\\.+*?()[]{}^$", c) != nullptr) return std::nullopt;
  }
  std::vector<std::string> out;
  std::string_view rest = value_;
  for (;;) {
    size_t bar = rest.find('|');
    std::string_view part = rest.substr(0, bar);
    if (part.empty()) return std::nullopt;  // an empty alternative matches a missing label
    out.emplace_back(part);
    if (bar == std::string_view::npos) break;
    rest.remove_prefix(bar + 1);
  }
  return out;
}

absl::StatusOr<RemoteReadPlan> PlanRemoteRead(const prometheus::Query& query, const Schema& schema,
                                              uint64_t limit) {
  RemoteReadPlan plan;
  std::vector<LabelMatch> matchers;
  for (const auto& m : query.matchers()) {
    ASSIGN_OR_RETURN(LabelMatch lm, LabelMatch::Compile(m));
    matchers.push_back(std::move(lm));
  }
  int value_index = schema.IndexOf(kPromValueColumn);
  if (value_index >= 0 && schema.fields[value_index].type != ColumnType::kDouble &&
      schema.fields[value_index].type != ColumnType::kInteger) {
    return MakeError(absl::StatusCode::kInvalidArgument, "type_conflict",
                     StrCat("column \"value\" is ", ColumnTypeName(schema.fields[value_index].type),
                            "; remote read needs a double (or integer) column \"value\""),
                     ErrorDetails(-1, kPromValueColumn, "double",
                                  ColumnTypeName(schema.fields[value_index].type)));
  }
  if (value_index < 0 || query.start_timestamp_ms() > query.end_timestamp_ms()) {
    plan.match_nothing = true;
    return plan;
  }
  plan.spec.start = SaturatingMsToNs(query.start_timestamp_ms());
  plan.spec.end = SaturatingMsToNs(SaturatingAdd(query.end_timestamp_ms(), 1));
  if (plan.spec.end <= plan.spec.start) {
    plan.match_nothing = true;
    return plan;
  }
  plan.spec.limit = limit;
  plan.spec.descending = false;

  // The label columns: every string column. Where two columns name the same
  // label (a column `label_x` made by another ingest route beside `x`), the
  // one remote write would use wins.
  std::vector<std::string> columns;
  StringMap<size_t> by_label;  // label name -> position in plan.labels
  for (const Field& f : schema.fields) {
    if (f.type != ColumnType::kString) continue;
    std::string label = ColumnLabelName(f.name);
    bool canonical = LabelColumnName(label, schema.time_column) == f.name;
    auto it = by_label.find(label);
    if (it != by_label.end()) {
      if (canonical) columns[it->second] = f.name;
      continue;
    }
    by_label.emplace(label, plan.labels.size());
    plan.labels.push_back(std::move(label));
    columns.push_back(f.name);
  }

  auto filter = [&](size_t label, FilterOp op, std::vector<std::string> values) {
    Filter f;
    f.column = columns[label];
    f.op = op;
    for (auto& v : values) {
      Literal lit;
      lit.kind = Literal::Kind::kString;
      lit.s = std::move(v);
      f.values.push_back(std::move(lit));
    }
    plan.spec.filters.push_back(std::move(f));
  };
  for (LabelMatch& m : matchers) {
    auto it = by_label.find(m.name());
    if (it == by_label.end()) {
      // No column: every row has the empty value.
      if (!m.Matches("")) {
        plan.match_nothing = true;
        return plan;
      }
      continue;
    }
    const size_t label = it->second;
    // Stored empty strings (only other ingest routes make them) read as no
    // label; filters never see them as null, so whatever "" matches is left
    // to the residual check.
    const bool matches_empty = m.Matches("");
    switch (m.type()) {
      case prometheus::LabelMatcher::EQ:
        if (!matches_empty) {
          filter(label, FilterOp::kEq, {m.value()});
          continue;
        }
        break;
      case prometheus::LabelMatcher::RE:
        if (auto alts = m.LiteralAlternatives()) {
          filter(label, FilterOp::kIn, std::move(*alts));
          continue;
        }
        if (!matches_empty) filter(label, FilterOp::kIsNotNull, {});
        break;
      case prometheus::LabelMatcher::NEQ:
      case prometheus::LabelMatcher::NRE:
        if (!matches_empty) filter(label, FilterOp::kIsNotNull, {});
        break;
      default:
        break;
    }
    plan.residual.push_back({label, std::move(m)});
  }
  std::vector<std::string> output = {std::string(kPromValueColumn)};
  output.insert(output.end(), columns.begin(), columns.end());
  plan.spec.columns = std::move(output);
  return plan;
}

void GroupSeries(const QueryResult& result, const RemoteReadPlan& plan,
                 prometheus::QueryResult* out) {
  if (result.rows == 0 || result.columns.size() < 2 + plan.labels.size()) return;
  const ResultColumn& time = result.columns[0];
  const ResultColumn& value = result.columns[1];
  // Defensive about the shape of the columns: a value array shorter than
  // the rows reads as nulls rather than out of bounds.
  auto valid = [](const ResultColumn& c, size_t r) {
    return r < c.valid.size() ? c.valid[r] != 0 : c.valid.empty();
  };
  auto label_at = [&](size_t label, size_t r) -> std::string_view {
    const ResultColumn& c = result.columns[2 + label];
    return valid(c, r) && r < c.strings.size() ? c.strings[r] : std::string_view();
  };
  const bool double_values = value.type == ColumnType::kDouble;

  struct Series {
    std::vector<std::pair<std::string_view, std::string_view>> labels;
    std::vector<std::pair<int64_t, double>> samples;
  };
  std::vector<Series> series;
  absl::flat_hash_map<std::string, size_t> index;
  std::vector<absl::flat_hash_map<std::string_view, bool>> cache(plan.residual.size());
  std::string key;
  for (size_t r = 0; r < result.rows; ++r) {
    if (!valid(time, r) || r >= time.ints.size() || !valid(value, r) ||
        r >= (double_values ? value.doubles.size() : value.ints.size())) {
      continue;
    }
    bool keep = true;
    for (size_t k = 0; k < plan.residual.size() && keep; ++k) {
      std::string_view v = label_at(plan.residual[k].label, r);
      auto [it, fresh] = cache[k].try_emplace(v, false);
      if (fresh) it->second = plan.residual[k].match.Matches(v);
      keep = it->second;
    }
    if (!keep) continue;
    key.clear();
    for (size_t j = 0; j < plan.labels.size(); ++j) {
      std::string_view v = label_at(j, r);
      if (v.empty()) continue;
      const uint32_t head[2] = {static_cast<uint32_t>(j), static_cast<uint32_t>(v.size())};
      key.append(reinterpret_cast<const char*>(head), sizeof(head));
      key.append(v);
    }
    auto [it, fresh] = index.try_emplace(key, series.size());
    if (fresh) {
      Series s;
      for (size_t j = 0; j < plan.labels.size(); ++j) {
        std::string_view v = label_at(j, r);
        if (!v.empty()) s.labels.emplace_back(plan.labels[j], v);
      }
      std::sort(s.labels.begin(), s.labels.end());
      series.push_back(std::move(s));
    }
    Series& s = series[it->second];
    const int64_t ms = FloorDiv(time.ints[r], kNanosPerMs);
    const double v = double_values ? value.doubles[r] : static_cast<double>(value.ints[r]);
    if (!s.samples.empty() && s.samples.back().first == ms) {
      s.samples.back().second = v;  // rows come in time order, ties in write order
    } else {
      s.samples.emplace_back(ms, v);
    }
  }
  // Prometheus's label set order (labels.Compare): pairwise by name, then
  // value; a prefix first.
  std::vector<size_t> order(series.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const auto& x = series[a].labels;
    const auto& y = series[b].labels;
    for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
      if (x[i].first != y[i].first) return x[i].first < y[i].first;
      if (x[i].second != y[i].second) return x[i].second < y[i].second;
    }
    return x.size() < y.size();
  });
  for (size_t i : order) {
    prometheus::TimeSeries* ts = out->add_timeseries();
    for (const auto& [name, v] : series[i].labels) {
      prometheus::Label* l = ts->add_labels();
      l->set_name(std::string(name));
      l->set_value(std::string(v));
    }
    for (const auto& [ms, v] : series[i].samples) {
      prometheus::Sample* sample = ts->add_samples();
      sample->set_timestamp(ms);
      sample->set_value(v);
    }
  }
}

}  // namespace timestore::api
