// The streaming connector's record: one NDJSON line per envelope, as the
// original service wrote them (docs/connectors.md "Envelope format"):
//
//   {"offset": "42", "idempotencyKey": "orders-42",
//    "ingestion": {"datasetSlug": "orders", "schema": {"fields": [...]},
//                  "timestampColumn": "timestamp", "partition": {"key": {...}},
//                  "rows": [{...}, ...]}}
//
// The envelope becomes an ingest body of docs/api.md ("JSON body"), which the
// API's own parser turns into columns, so a record is checked exactly as a
// POST /datasets/{slug}/ingest would be.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace timestore::connectors {

struct Envelope {
  std::string offset;           // the producer's offset, as text; "" when absent
  std::string idempotency_key;  // the envelope's (or its ingestion's); "" when absent
  std::string dataset;          // ingestion.datasetSlug, else the connector's dataset
  std::string body;   // {"schema":..,"timestampColumn":..,"partitionKey":..,"records":[..]}
  uint64_t hash = 0;  // of the ingestion member: a replay must carry the same
};

// Errors (InvalidArgument) say what is wrong with the envelope: not JSON,
// a missing or mistyped member, a member that is not part of the format.
absl::StatusOr<Envelope> ParseEnvelope(std::string_view line, std::string_view default_dataset);

}  // namespace timestore::connectors
