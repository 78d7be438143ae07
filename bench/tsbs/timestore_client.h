// Timestore's side of the TSBS harness: a small keep-alive HTTP client, the bulk loader
// and the translation of harness queries (queries.h) to Timestore query JSON and of the
// answers back to checksum rows (checksum.h). bench/README.md, "timestore-tsbs".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/tsbs/checksum.h"
#include "bench/tsbs/cpu_generator.h"
#include "bench/tsbs/queries.h"

namespace timestore::bench::tsbs {

struct HttpResponse {
  int status = 0;  // 0: transport error (see body)
  std::string body;
};

// One keep-alive HTTP/1.1 connection; reconnects after a transport error or
// "Connection: close". Not thread-safe: one per thread.
class HttpConnection {
 public:
  HttpConnection(std::string host, int port, std::string scopes = "");
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  HttpResponse Request(std::string_view method, const std::string& target,
                       std::string_view body = {},
                       std::string_view content_type = "application/json");

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The query body for POST /datasets/{dataset}/query?precision=ns. Timestamps are asked
// as epoch_ns; aggregations are aliased by their field name.
//   groupby kinds: downsample {intervalUnit minute|hour, groupBy [hostname] when
//     groupByHost, aggregations max|avg per field}, hosts as an eq / in filter
//   high-cpu: raw rows, columns [hostname, fields...], filter usage_user gt threshold
//   lastpoint: downsample without intervalUnit (one bucket per host over the whole
//     range), groupBy [hostname], max(timestamp) as "last_time" and last(field) per field
//   groupby-orderby-limit: downsample minute, max(usage_user), order desc, limit 5
std::string TimestoreQueryBody(const Query& q);

// Reads a Timestore answer to TimestoreQueryBody(q) into checksum rows. False, with
// `*error`, when the body is not such an answer.
bool ParseTimestoreRows(const Query& q, std::string_view body, std::vector<ResultRow>* rows,
                        std::string* error);

struct LoadOptions {
  std::string host = "127.0.0.1";
  int port = 4100;
  std::string dataset = "cpu";
  std::string scopes;
  int connections = 2;
  int64_t batch_rows = 10000;
  bool progress = false;  // on stderr
  // "ndjson": POST /datasets/<dataset>/ingest. "influx": line protocol to
  // POST /write?db=<db>, where the dataset is "<db>_cpu".
  std::string format = "ndjson";
};

struct LoadResult {
  int64_t rows = 0;  // acknowledged
  int64_t requests = 0;
  int64_t failures = 0;
  int64_t retries = 0;  // 503 answers (back-pressure) the batch was sent again after
  uint64_t bytes = 0;
  double gen_seconds = 0;
  double seconds = 0;  // first request sent → last answer read
  std::string first_error;
};

// Generates every NDJSON batch of `options` in memory (timed as gen_seconds), then sends
// them to POST /datasets/{dataset}/ingest?precision=ms over `connections` keep-alive
// connections, one thread each, each taking the next batch from a shared counter (the
// approach of bench/ingest_load.cc). A 503 (back-pressure: sealing lags the load)
// is retried after a pause, as a well-behaved client does, up to a minute per batch.
LoadResult LoadTimestore(const Options& options, const LoadOptions& load);

}  // namespace timestore::bench::tsbs
