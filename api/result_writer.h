// Renders query results as JSON (API.md), NDJSON or CSV, written directly into
// a string: no document tree, shortest round-trip doubles.
#pragma once

#include <string>
#include <vector>

#include "engine/query.h"

namespace timestore::api {

enum class ResultFormat { kJson, kNdjson, kCsv };

// Picks the format from an Accept header.
ResultFormat FormatFromAccept(std::string_view accept);
std::string_view ContentType(ResultFormat f);

void WriteResult(const QueryResult& result, std::string_view dataset, bool epoch_ns,
                 ResultFormat format, std::string* out);

// A SQL answer (POST /sql): JSON {"columns":[{"name","type"}],"rows":[[...]],
// "rowCount","command"} with each row an array (SQL allows repeated column
// names), NDJSON with one array per line, or CSV with a header row.
// `types` are the PostgreSQL type names of the columns.
void WriteSqlResult(const QueryResult& r, const std::vector<std::string>& types,
                    std::string_view command, ResultFormat format, std::string* out);

}  // namespace timestore::api
