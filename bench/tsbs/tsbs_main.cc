// timestore-tsbs: the TSBS cpu-only harness (bench/README.md, "timestore-tsbs").
//
//   generate   the data set as NDJSON, JSON batches, InfluxDB line protocol or CSV
//   queries    the query instances as JSON lines, for every system's runner
//   reference  the expected answers' checksums, computed in memory without a database
//   run        loads Timestore over HTTP, runs the queries, prints latencies and checksums
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench/tsbs/checksum.h"
#include "bench/tsbs/cpu_generator.h"
#include "bench/tsbs/formats.h"
#include "bench/tsbs/queries.h"
#include "bench/tsbs/reference.h"
#include "bench/tsbs/timestore_client.h"
#include "simdjson.h"

namespace timestore::bench::tsbs {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The data-set flags shared by the subcommands.
struct DataFlags {
  int64_t hosts = 100;
  std::string duration = "1d";
  uint64_t seed = 123;
  bool float_values = false;

  void Add(CLI::App* app, bool with_float) {
    app->add_option("--hosts", hosts, "Number of hosts (TSBS scale)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app->add_option("--duration", duration, "Time span of the data: 1d, 6h, 30m, 90s ...")
        ->capture_default_str();
    app->add_option("--seed", seed, "Seed of the data and of the queries")->capture_default_str();
    if (with_float) {
      app->add_flag("--float", float_values,
                    "Full-precision double values instead of TSBS's truncated integers");
    }
  }

  // Fills the generator options and the query spec; false (after printing why) when bad.
  bool Resolve(Options* options, QueryDataSpec* spec) const {
    const std::optional<int64_t> d = ParseDurationNs(duration);
    if (!d) {
      std::fprintf(stderr, "error: bad --duration (e.g. 1d, 6h, 30m, 90s)\n");
      return false;
    }
    options->hosts = hosts;
    options->duration_ns = *d;
    options->seed = seed;
    options->integer_values = !float_values;
    if (std::string err = ValidateOptions(*options); !err.empty()) {
      std::fprintf(stderr, "error: %s\n", err.c_str());
      return false;
    }
    spec->hosts = hosts;
    spec->start_ns = options->start_ns;
    spec->duration_ns = *d;
    if (std::string err = ValidateQueryDataSpec(*spec); !err.empty()) {
      std::fprintf(stderr, "error: %s\n", err.c_str());
      return false;
    }
    return true;
  }
};

void AddTypesOption(CLI::App* app, std::vector<std::string>* types) {
  app->add_option("--types", *types, "Query types, comma-separated (default: all)")
      ->delimiter(',')
      ->check(CLI::IsMember(AllQueryTypes()));
}

// Writes `data` to `f`; false on a write error.
bool WriteAll(std::FILE* f, const std::string& data) {
  return std::fwrite(data.data(), 1, data.size(), f) == data.size();
}

// ---- generate ----

struct GenerateFlags {
  DataFlags data;
  std::string format = "ndjson";
  std::string out;
  int64_t batch_rows = 10000;
};

int Generate(const GenerateFlags& flags) {
  Options options;
  QueryDataSpec spec;
  if (!flags.data.Resolve(&options, &spec)) return 2;
  std::FILE* f = std::fopen(flags.out.c_str(), "wb");
  if (!f) {
    std::perror(flags.out.c_str());
    return 1;
  }
  const bool tty = isatty(STDERR_FILENO) != 0;
  const auto t0 = Clock::now();
  auto last_progress = t0;
  CpuGenerator gen(options);
  std::string buf;
  std::string json_prefix;
  if (flags.format == "csv") AppendCsvHeader(&buf);
  if (flags.format == "json") {
    json_prefix = "{\"schema\":";
    AppendSchemaJson(&json_prefix);
    json_prefix += ",\"timestampColumn\":\"timestamp\",\"records\":[";
  }
  uint64_t bytes = 0;
  bool ok = true;
  Row row;
  int64_t in_batch = 0;
  while (ok && gen.Next(&row)) {
    if (flags.format == "ndjson") {
      AppendNdjsonLine(row, &buf);
    } else if (flags.format == "influx") {
      AppendInfluxLine(row, &buf);
    } else if (flags.format == "csv") {
      AppendCsvRow(row, &buf);
    } else {  // json: one request body per line
      buf += in_batch == 0 ? json_prefix : ",";
      AppendJsonRecord(row, &buf);
      if (++in_batch == flags.batch_rows) {
        buf += "]}\n";
        in_batch = 0;
      }
    }
    if (buf.size() >= (1 << 20)) {
      ok = WriteAll(f, buf);
      bytes += buf.size();
      buf.clear();
      if (tty && Clock::now() - last_progress >= std::chrono::milliseconds(500)) {
        last_progress = Clock::now();
        std::fprintf(stderr, "\r\033[Kgenerate: %lld/%lld rows, %.1f MB",
                     static_cast<long long>(gen.rows_emitted()),
                     static_cast<long long>(gen.total_rows()), static_cast<double>(bytes) / 1e6);
      }
    }
  }
  if (in_batch > 0) buf += "]}\n";
  ok = ok && WriteAll(f, buf);
  bytes += buf.size();
  ok = std::fclose(f) == 0 && ok;
  if (tty) std::fprintf(stderr, "\r\033[K");
  if (!ok) {
    std::fprintf(stderr, "error: writing %s failed\n", flags.out.c_str());
    return 1;
  }
  std::fprintf(stderr, "generate: %lld rows, %llu bytes (%s) to %s in %.2f s\n",
               static_cast<long long>(gen.rows_emitted()), static_cast<unsigned long long>(bytes),
               flags.format.c_str(), flags.out.c_str(), SecondsSince(t0));
  return 0;
}

// ---- queries ----

struct QueriesFlags {
  DataFlags data;
  int64_t count = 100;
  std::vector<std::string> types;
  std::string out;
};

const std::vector<std::string>& TypesOrAll(const std::vector<std::string>& types) {
  return types.empty() ? AllQueryTypes() : types;
}

int Queries(const QueriesFlags& flags) {
  Options options;
  QueryDataSpec spec;
  if (!flags.data.Resolve(&options, &spec)) return 2;
  std::FILE* f = stdout;
  if (!flags.out.empty() && !(f = std::fopen(flags.out.c_str(), "wb"))) {
    std::perror(flags.out.c_str());
    return 1;
  }
  std::string buf;
  for (const std::string& type : TypesOrAll(flags.types)) {
    for (const Query& q : GenerateQueries(spec, type, flags.count, flags.data.seed)) {
      buf += QueryToJsonLine(q);
      buf.push_back('\n');
    }
  }
  bool ok = WriteAll(f, buf);
  if (f != stdout) ok = std::fclose(f) == 0 && ok;
  return ok ? 0 : 1;
}

// ---- reference and run: per-type results ----

struct TypeResult {
  std::string type;
  std::vector<double> latencies_ms;
  std::vector<std::string> digests;
  int64_t rows = 0;
  int64_t errors = 0;
  std::string first_error;
  std::optional<bool> verified;  // run --verify: the checksum equals the reference's
};

// Nearest-rank percentile of sorted `v`; 0 when empty.
double Percentile(const std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

std::string Fmt(const char* format, auto... args) {
  char buf[512];
  const int n = std::snprintf(buf, sizeof(buf), format, args...);
  return std::string(buf, static_cast<size_t>(std::clamp(n, 0, 511)));
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += Fmt("\\u%04x", c);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string TypeLine(std::string_view system, const TypeResult& r, bool timed) {
  std::vector<double> sorted = r.latencies_ms;
  std::sort(sorted.begin(), sorted.end());
  std::string line = Fmt("{\"system\":\"%s\",\"type\":\"%s\",\"queries\":%zu", system.data(),
                         r.type.c_str(), r.digests.size());
  if (timed) {
    line += Fmt(",\"p50_ms\":%.3f,\"p95_ms\":%.3f,\"max_ms\":%.3f", Percentile(sorted, 0.5),
                Percentile(sorted, 0.95), sorted.empty() ? 0.0 : sorted.back());
  }
  line += Fmt(",\"rows\":%lld,\"checksum\":\"%s\"", static_cast<long long>(r.rows),
              r.errors ? "error" : TypeChecksum(r.digests).c_str());
  if (r.errors) {
    line += Fmt(",\"errors\":%lld,\"error\":\"", static_cast<long long>(r.errors)) +
            JsonEscape(r.first_error) + "\"";
  }
  if (r.verified) line += *r.verified ? ",\"verified\":true" : ",\"verified\":false";
  line += "}";
  return line;
}

struct ReferenceFlags {
  DataFlags data;
  int64_t count = 100;
  std::vector<std::string> types;
};

std::vector<TypeResult> ReferenceResults(const Options& options, const QueryDataSpec& spec,
                                         const std::vector<std::string>& types, int64_t count,
                                         uint64_t seed) {
  ReferenceData data(options);
  std::vector<TypeResult> out;
  for (const std::string& type : types) {
    TypeResult& r = out.emplace_back();
    r.type = type;
    for (const Query& q : GenerateQueries(spec, type, count, seed)) {
      std::vector<ResultRow> rows = data.Evaluate(q);
      r.rows += static_cast<int64_t>(rows.size());
      r.digests.push_back(InstanceDigest(rows));
    }
  }
  return out;
}

int Reference(const ReferenceFlags& flags) {
  Options options;
  QueryDataSpec spec;
  if (!flags.data.Resolve(&options, &spec)) return 2;
  for (const TypeResult& r :
       ReferenceResults(options, spec, TypesOrAll(flags.types), flags.count, flags.data.seed)) {
    std::printf("%s\n", TypeLine("reference", r, false).c_str());
  }
  return 0;
}

// ---- run ----

struct RunFlags {
  DataFlags data;
  std::string host = "127.0.0.1";
  int port = 4100;
  std::string dataset = "cpu";
  std::string scopes;
  int connections = 2;
  int64_t batch_rows = 10000;
  bool skip_load = false;
  bool no_settings = false;
  std::string format = "ndjson";  // the load's body format: ndjson or influx (line protocol)
  bool load_only = false;         // stop after the load line: no queries
  int64_t queries_per_type = 100;
  std::vector<std::string> types;
  std::string json_out;
  bool smoke = false;
  bool verify = false;
  bool seed_given = false;
};

// Smoke mode's seed when --seed is not given: with it, every type returns rows at 4 hosts
// x 1h (high-cpu-1 finds no usage_user > 90 for several seeds, 123 among them).
constexpr uint64_t kSmokeSeed = 1;

struct Storage {
  uint64_t bytes = 0;
  int64_t rows = 0;
  int64_t segments = 0;
  int64_t hot_rows = 0;
};

// Sums the segments of GET /admin/datasets/{dataset}/manifest.
bool ReadStorage(HttpConnection& conn, const std::string& dataset, Storage* s, std::string* error) {
  HttpResponse res = conn.Request("GET", "/admin/datasets/" + dataset + "/manifest");
  if (res.status != 200) {
    *error = Fmt("GET manifest answered %d: ", res.status) + res.body.substr(0, 300);
    return false;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::array parts;
  if (parser.parse(res.body).get(root) || root["partitions"].get(parts)) {
    *error = "the manifest has no partitions array";
    return false;
  }
  *s = Storage{};
  int64_t hot = 0;
  if (!root["hotRows"].get(hot)) s->hot_rows = hot;
  for (simdjson::dom::element p : parts) {
    simdjson::dom::array segs;
    if (p["segments"].get(segs)) continue;
    for (simdjson::dom::element seg : segs) {
      uint64_t bytes = 0;
      int64_t rows = 0;
      if (!seg["bytes"].get(bytes)) s->bytes += bytes;
      if (!seg["rows"].get(rows)) s->rows += rows;
      ++s->segments;
    }
  }
  return true;
}

bool Admin(HttpConnection& conn, const char* method, const std::string& target,
           const std::string& body, double* seconds = nullptr) {
  const auto t0 = Clock::now();
  HttpResponse res = conn.Request(method, target, body);
  if (seconds) *seconds = SecondsSince(t0);
  if (res.status != 200) {
    std::fprintf(stderr, "error: %s %s answered %d: %s\n", method, target.c_str(), res.status,
                 res.body.substr(0, 500).c_str());
    return false;
  }
  return true;
}

int Run(RunFlags flags) {
  if (flags.smoke) {
    flags.data.hosts = 4;
    flags.data.duration = "1h";
    flags.queries_per_type = 1;
    flags.verify = true;
    if (!flags.seed_given) flags.data.seed = kSmokeSeed;
  }
  Options options;
  QueryDataSpec spec;
  if (!flags.data.Resolve(&options, &spec)) return 2;
  const bool tty = isatty(STDERR_FILENO) != 0;
  std::FILE* json_out = nullptr;
  if (!flags.json_out.empty() && !(json_out = std::fopen(flags.json_out.c_str(), "wb"))) {
    std::perror(flags.json_out.c_str());
    return 1;
  }
  auto emit = [&](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
    if (json_out) std::fprintf(json_out, "%s\n", line.c_str());
  };
  HttpConnection conn(flags.host, flags.port, flags.scopes);
  const std::string ds = flags.dataset;
  if (flags.format == "influx" && (ds.size() <= 4 || ds.compare(ds.size() - 4, 4, "_cpu") != 0)) {
    std::fprintf(stderr,
                 "error: --format influx writes measurement cpu of database <db> into dataset "
                 "<db>_cpu; name the dataset so (e.g. --dataset tsbs_cpu), not %s\n",
                 ds.c_str());
    return 1;
  }
  int status = 0;

  // Load.
  LoadResult load;
  Storage flushed, compacted;
  double flush_s = 0, compact_s = 0;
  std::string error;
  if (!flags.skip_load) {
    HttpResponse existing = conn.Request("GET", "/admin/datasets/" + ds);
    if (existing.status == 0) {
      std::fprintf(stderr, "error: %s\n", existing.body.c_str());
      return 1;
    }
    if (existing.status == 200) {
      std::fprintf(stderr,
                   "error: dataset %s exists already; start the server on a fresh storage root, "
                   "delete it (DELETE /admin/datasets/%s) or pass --skip-load\n",
                   ds.c_str(), ds.c_str());
      return 1;
    }
    // --no-settings loads as a new user would: no schema, no segmentBy (types
    // and the series key are inferred from the data).
    std::string create = "{\"schema\":";
    AppendSchemaJson(&create);
    create += ",\"timestampColumn\":\"timestamp\",\"records\":[]}";
    if (!flags.no_settings && (!Admin(conn, "POST", "/datasets/" + ds + "/ingest", create) ||
                               !Admin(conn, "PUT", "/admin/datasets/" + ds + "/settings",
                                      "{\"segmentBy\":[\"hostname\"]}"))) {
      return 1;
    }
    LoadOptions lo;
    lo.host = flags.host;
    lo.port = flags.port;
    lo.dataset = ds;
    lo.scopes = flags.scopes;
    lo.connections = flags.connections;
    lo.batch_rows = flags.batch_rows;
    lo.progress = tty;
    lo.format = flags.format;
    if (tty)
      std::fprintf(stderr, "loading %lld rows...\n", static_cast<long long>(RowsFor(options)));
    load = LoadTimestore(options, lo);
    if (load.failures) {
      std::fprintf(stderr, "error: %lld of %lld load requests failed; first: %s\n",
                   static_cast<long long>(load.failures), static_cast<long long>(load.requests),
                   load.first_error.c_str());
      return 1;
    }
    if (!Admin(conn, "POST", "/admin/datasets/" + ds + "/flush", "", &flush_s) ||
        !ReadStorage(conn, ds, &flushed, &error) ||
        !Admin(conn, "POST", "/admin/datasets/" + ds + "/compact", "", &compact_s)) {
      if (!error.empty()) std::fprintf(stderr, "error: %s\n", error.c_str());
      return 1;
    }
  }
  if (!ReadStorage(conn, ds, &compacted, &error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 1;
  }
  const int64_t rows = flags.skip_load ? compacted.rows + compacted.hot_rows : load.rows;
  const double values = static_cast<double>(rows) * kNumFields;
  const double bpv = values > 0 ? static_cast<double>(compacted.bytes) / values : 0;
  if (flags.skip_load) {
    emit(
        Fmt("{\"system\":\"timestore\",\"phase\":\"load\",\"skipped\":true,\"rows\":%lld,"
            "\"rows_per_sec\":null,\"bytes_per_value\":%.4f,\"segment_bytes\":%llu,"
            "\"segments\":%lld}",
            static_cast<long long>(rows), bpv, static_cast<unsigned long long>(compacted.bytes),
            static_cast<long long>(compacted.segments)));
  } else {
    const double bpv_flushed = values > 0 ? static_cast<double>(flushed.bytes) / values : 0;
    emit(
        Fmt("{\"system\":\"timestore\",\"phase\":\"load\",\"rows\":%lld,\"rows_per_sec\":%.0f,"
            "\"bytes_per_value\":%.4f,\"bytes_per_value_before_compact\":%.4f,"
            "\"segment_bytes\":%llu,\"segments\":%lld,\"seconds\":%.3f,\"flush_seconds\":%.3f,"
            "\"compact_seconds\":%.3f,\"gen_seconds\":%.3f,\"connections\":%d,"
            "\"batch_rows\":%lld,\"request_bytes\":%llu,\"hosts\":%lld,\"duration\":\"%s\","
            "\"float\":%s,\"settings\":\"%s\",\"retries_503\":%lld,\"format\":\"%s\"}",
            static_cast<long long>(rows), static_cast<double>(rows) / load.seconds, bpv,
            bpv_flushed, static_cast<unsigned long long>(compacted.bytes),
            static_cast<long long>(compacted.segments), load.seconds, flush_s, compact_s,
            load.gen_seconds, flags.connections, static_cast<long long>(flags.batch_rows),
            static_cast<unsigned long long>(load.bytes), static_cast<long long>(flags.data.hosts),
            flags.data.duration.c_str(), flags.data.float_values ? "true" : "false",
            flags.no_settings ? "none" : "segmentBy hostname", static_cast<long long>(load.retries),
            flags.format.c_str()));
  }
  if (rows != compacted.rows + compacted.hot_rows) {
    std::fprintf(stderr, "warning: the manifest holds %lld rows (+%lld in memory), loaded %lld\n",
                 static_cast<long long>(compacted.rows), static_cast<long long>(compacted.hot_rows),
                 static_cast<long long>(rows));
  }

  if (flags.load_only) return 0;

  // Queries.
  const std::vector<std::string>& types = TypesOrAll(flags.types);
  const std::string target = "/datasets/" + ds + "/query?precision=ns";
  std::vector<TypeResult> results;
  for (const std::string& type : types) {
    TypeResult& r = results.emplace_back();
    r.type = type;
    const std::vector<Query> qs =
        GenerateQueries(spec, type, flags.queries_per_type, flags.data.seed);
    for (size_t i = 0; i < qs.size(); ++i) {
      if (tty) {
        std::fprintf(stderr, "\r\033[Kquery %s %zu/%zu", type.c_str(), i + 1, qs.size());
      }
      const std::string body = TimestoreQueryBody(qs[i]);
      const auto t0 = Clock::now();
      HttpResponse res = conn.Request("POST", target, body);
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      std::vector<ResultRow> answer;
      std::string err;
      if (res.status != 200) {
        err = Fmt("HTTP %d: ", res.status) + res.body.substr(0, 300);
      } else if (!ParseTimestoreRows(qs[i], res.body, &answer, &err)) {
        err = "bad answer: " + err;
      }
      if (!err.empty()) {
        if (r.errors++ == 0) r.first_error = err + " (query " + body + ")";
        r.digests.push_back("error");
        continue;
      }
      r.latencies_ms.push_back(ms);
      r.rows += static_cast<int64_t>(answer.size());
      r.digests.push_back(InstanceDigest(answer));
    }
    if (r.errors) status = 1;
  }
  if (tty) std::fprintf(stderr, "\r\033[K");

  if (flags.verify) {
    if (tty) std::fprintf(stderr, "computing the reference answers...\n");
    std::vector<TypeResult> ref =
        ReferenceResults(options, spec, types, flags.queries_per_type, flags.data.seed);
    for (size_t i = 0; i < results.size(); ++i) {
      results[i].verified = results[i].errors == 0 && results[i].digests == ref[i].digests;
      if (!*results[i].verified) status = 1;
    }
  }

  for (const TypeResult& r : results) emit(TypeLine("timestore", r, true));

  // The human table.
  std::fprintf(stderr, "\ntimestore-tsbs run: %lld hosts x %s (seed %llu, %s values), %s:%d/%s\n",
               static_cast<long long>(flags.data.hosts), flags.data.duration.c_str(),
               static_cast<unsigned long long>(flags.data.seed),
               flags.data.float_values ? "float" : "integer", flags.host.c_str(), flags.port,
               ds.c_str());
  if (!flags.skip_load) {
    std::fprintf(stderr,
                 "  load: %lld rows in %.2f s = %.0f rows/s over %d connections; %.4f bytes/value "
                 "(%.4f before compaction), %lld segments\n",
                 static_cast<long long>(rows), load.seconds,
                 static_cast<double>(rows) / load.seconds, flags.connections, bpv,
                 values > 0 ? static_cast<double>(flushed.bytes) / values : 0,
                 static_cast<long long>(compacted.segments));
  } else {
    std::fprintf(stderr, "  load skipped: %lld rows stored, %.4f bytes/value\n",
                 static_cast<long long>(rows), bpv);
  }
  std::fprintf(stderr, "  %-22s %5s %9s %9s %9s %9s  %-16s%s\n", "query", "n", "p50 ms", "p95 ms",
               "max ms", "rows", "checksum", flags.verify ? "  reference" : "");
  for (const TypeResult& r : results) {
    std::vector<double> sorted = r.latencies_ms;
    std::sort(sorted.begin(), sorted.end());
    std::fprintf(stderr, "  %-22s %5zu %9.3f %9.3f %9.3f %9lld  %-16s%s\n", r.type.c_str(),
                 r.digests.size(), Percentile(sorted, 0.5), Percentile(sorted, 0.95),
                 sorted.empty() ? 0.0 : sorted.back(), static_cast<long long>(r.rows),
                 r.errors ? "error" : TypeChecksum(r.digests).c_str(),
                 !r.verified   ? ""
                 : *r.verified ? "  match"
                               : "  MISMATCH");
    if (r.errors)
      std::fprintf(stderr, "    %lld errors; first: %s\n", static_cast<long long>(r.errors),
                   r.first_error.c_str());
  }
  if (json_out && std::fclose(json_out) != 0) {
    std::fprintf(stderr, "error: writing %s failed\n", flags.json_out.c_str());
    status = 1;
  }
  return status;
}

int Main(int argc, char** argv) {
  CLI::App app{
      "TSBS cpu-only harness: data, queries, reference answers and the Timestore "
      "runner (bench/README.md)",
      "timestore-tsbs"};
  app.require_subcommand(1);

  GenerateFlags gen;
  CLI::App* generate = app.add_subcommand("generate", "Write the data set to a file");
  gen.data.Add(generate, true);
  generate->add_option("--format", gen.format, "ndjson, json (request bodies), influx or csv")
      ->capture_default_str()
      ->check(CLI::IsMember({"ndjson", "json", "influx", "csv"}));
  generate->add_option("--out", gen.out, "Output file")->required();
  generate->add_option("--batch-rows", gen.batch_rows, "Rows per JSON body (--format json)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);

  QueriesFlags qf;
  CLI::App* queries = app.add_subcommand("queries", "Print the query instances as JSON lines");
  qf.data.Add(queries, false);
  queries->add_option("--count", qf.count, "Instances per type")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  AddTypesOption(queries, &qf.types);
  queries->add_option("--out", qf.out, "Output file (default: stdout)");

  ReferenceFlags rf;
  CLI::App* reference =
      app.add_subcommand("reference", "Print the expected checksums, computed in memory");
  rf.data.Add(reference, true);
  reference->add_option("--count", rf.count, "Instances per type")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  AddTypesOption(reference, &rf.types);

  RunFlags run;
  CLI::App* runc = app.add_subcommand("run", "Load Timestore, run the queries, print the results");
  run.data.Add(runc, true);
  runc->add_option("--host", run.host, "Server address")->capture_default_str();
  runc->add_option("--port", run.port, "Server port")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  runc->add_option("--dataset", run.dataset, "Dataset slug")->capture_default_str();
  runc->add_option("--scopes", run.scopes, "x-iam-scopes header value");
  runc->add_option("--connections", run.connections, "Load connections (one thread each)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  runc->add_option("--batch-rows", run.batch_rows, "Rows per ingest request")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  runc->add_flag("--skip-load", run.skip_load, "Query the data already loaded");
  runc->add_option("--format", run.format,
                   "Load body format: ndjson, or influx (line protocol to /write?db=<db>; the "
                   "dataset must be named <db>_cpu)")
      ->check(CLI::IsMember({"ndjson", "influx"}));
  runc->add_flag("--load-only", run.load_only,
                 "Load, flush and compact, print the load line, stop");
  runc->add_flag("--no-settings", run.no_settings,
                 "Load without declaring the schema or segmentBy (all inferred from the data)");
  runc->add_option("--queries-per-type", run.queries_per_type, "Instances per query type")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  AddTypesOption(runc, &run.types);
  runc->add_option("--json-out", run.json_out, "Also write the JSON lines to this file");
  runc->add_flag(
      "--smoke", run.smoke,
      "4 hosts x 1h, 1 query per type, --verify, seed 1 unless --seed (overrides the others)");
  runc->add_flag("--verify", run.verify,
                 "Check every checksum against the reference answers (memory: ~100 B/row)");

  CLI11_PARSE(app, argc, argv);
  if (generate->parsed()) return Generate(gen);
  if (queries->parsed()) return Queries(qf);
  if (reference->parsed()) return Reference(rf);
  run.seed_given = runc->get_option("--seed")->count() > 0;
  return Run(run);
}

}  // namespace
}  // namespace timestore::bench::tsbs

int main(int argc, char** argv) { return timestore::bench::tsbs::Main(argc, argv); }
