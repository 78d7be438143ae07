// Helpers of the ingest parser tests (JSON, NDJSON, line protocol): parse a
// body, read the error a client would get, and look at a batch's columns.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

#include "api/ingest_parser.h"
#include "tests/api/error_response.h"

namespace timestore::api::testing {

struct Opts {
  BodyFormat format = BodyFormat::kJson;
  Precision precision = Precision::kMilliseconds;
  const Schema* current = nullptr;
};

inline absl::StatusOr<IngestRequest> Parse(std::string body, Opts o = {}) {
  IngestParseOptions options;
  options.slug = "cpu";
  options.format = o.format;
  options.precision = o.precision;
  options.current = o.current;
  return ParseIngestBody(&body, options);
}

inline absl::StatusOr<IngestRequest> ParseNdjson(std::string body, Opts o = {}) {
  o.format = BodyFormat::kNdjson;
  return Parse(std::move(body), o);
}

// The error a client would receive for a request that must fail.
inline ErrorResponse Rejected(const absl::StatusOr<IngestRequest>& r) {
  EXPECT_FALSE(r.ok()) << "expected the body to be rejected";
  if (r.ok()) return ErrorResponse{};
  ErrorResponse e = ToErrorResponse(r.status());
  EXPECT_TRUE(e.body_is_json) << r.status();
  return e;
}

inline int FieldIndex(const IngestRequest& req, std::string_view name) {
  for (size_t i = 0; i < req.fields.size(); ++i)
    if (req.fields[i].name == name) return static_cast<int>(i);
  return -1;
}

inline std::optional<ColumnType> TypeOf(const IngestRequest& req, std::string_view name) {
  int i = FieldIndex(req, name);
  if (i < 0) return std::nullopt;
  return req.fields[i].type;
}

inline const ColumnVector& Col(const IngestRequest& req, std::string_view name) {
  static const ColumnVector kMissing;
  int i = FieldIndex(req, name);
  if (i < 0) {
    ADD_FAILURE() << "no column \"" << name << "\"";
    return kMissing;
  }
  EXPECT_EQ(req.columns.size(), req.fields.size());
  EXPECT_EQ(req.columns[i].size(), req.rows) << name;
  return req.columns[i];
}

// The string at row i, or "<null>".
inline std::string Str(const ColumnVector& c, size_t i) {
  return c.IsNull(i) ? "<null>" : c.dict.at(c.ids.at(i));
}

}  // namespace timestore::api::testing
