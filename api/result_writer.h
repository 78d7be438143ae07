// Renders query results as JSON (API.md), NDJSON or CSV, written directly into
// a string: no document tree, shortest round-trip doubles.
#pragma once

#include <string>

#include "engine/query.h"

namespace timestore::api {

enum class ResultFormat { kJson, kNdjson, kCsv };

// Picks the format from an Accept header.
ResultFormat FormatFromAccept(std::string_view accept);
std::string_view ContentType(ResultFormat f);

void WriteResult(const QueryResult& result, std::string_view dataset, bool epoch_ns,
                 ResultFormat format, std::string* out);

}  // namespace timestore::api
