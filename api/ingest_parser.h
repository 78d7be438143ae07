// Turns an ingest body (API.md "Ingest") into columns, with simdjson On-Demand:
// no DOM, no per-value heap allocation for numbers, strings dictionary-encoded
// as they arrive. Every error names the record (or NDJSON line), the column and
// what was expected; an error means nothing is stored.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/time_util.h"
#include "engine/engine.h"
#include "engine/schema.h"

namespace timestore::api {

enum class BodyFormat { kJson, kNdjson };

struct IngestParseOptions {
  std::string slug;
  const Schema* current = nullptr;  // the dataset's schema, or null when it does not exist
  Precision precision = Precision::kMilliseconds;
  BodyFormat format = BodyFormat::kJson;
};

// `body` may be grown (capacity only) to give simdjson its padding.
absl::StatusOr<IngestRequest> ParseIngestBody(std::string* body, const IngestParseOptions& options);

}  // namespace timestore::api
