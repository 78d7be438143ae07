#include "tools/export_command.h"

#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include "common/json_writer.h"
#include "common/strings.h"
#include "simdjson.h"
#include "tiering/http_client.h"
#include "tools/offline_root.h"
#include "transfer/destination.h"
#include "transfer/export.h"

namespace timestore::tools {
namespace {

// Starts the export on the server and polls its job on the dataset's own
// route (a token limited to the dataset may not read /admin/jobs) until it
// ends; returns the job's result, the JSON the offline export prints.
absl::StatusOr<std::string> RunExportJob(const TargetFlags& flags, const std::string& dataset,
                                         const std::string& body) {
  const std::string base = StrCat("/admin/datasets/", tiering::UriEncode(dataset, false));
  auto started = CallServer(flags, "POST", base + "/export", body);
  if (!started.ok()) return started.status();
  if (started->status != 202) {
    return absl::FailedPreconditionError(
        StrCat("the server answered ", started->status, ": ", started->body));
  }
  simdjson::dom::parser parser;
  std::string_view id;
  if (parser.parse(started->body).get_object()["id"].get(id)) {
    return absl::InternalError(StrCat("the server's answer names no job: ", started->body));
  }
  const std::string job_path = StrCat(base, "/exports/", id);
  for (;;) {
    auto polled = CallServer(flags, "GET", job_path);
    if (!polled.ok()) return polled.status();
    if (polled->status != 200) {
      return absl::UnavailableError(StrCat("polling ", job_path, ": the server answered ",
                                           polled->status, ": ", polled->body));
    }
    simdjson::dom::object job;
    std::string_view state;
    if (parser.parse(polled->body).get(job) || job["state"].get(state)) {
      return absl::InternalError(StrCat("the job's status has no state: ", polled->body));
    }
    if (state == "failed") return absl::AbortedError(polled->body);
    if (state == "succeeded") {
      simdjson::dom::element result;
      if (job["result"].get(result)) return std::move(polled->body);
      return simdjson::minify(result);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace

void AddExportCommand(CLI::App* app, int* exit_code) {
  struct Options {
    TargetFlags where;
    std::string dataset, from, to, out, compression = "zstd";
  };
  auto o = std::make_shared<Options>();
  auto fail = [exit_code](std::string_view message) {
    std::cerr << "timestore export: " << message << "\n";
    *exit_code = 1;
  };
  CLI::App* cmd = app->add_subcommand(
      "export",
      "Export a dataset's rows in [--from, --to) as Parquet files, one per partition, under "
      "dataset=<slug>/date=YYYY-MM-DD/ in DIR or s3://TARGET/PREFIX, with a manifest "
      "(docs/export.md)");
  AddTargetFlags(cmd, &o->where);
  cmd->add_option("--dataset", o->dataset, "The dataset (slug or id)")->required();
  cmd->add_option("--from", o->from,
                  "Start, inclusive: RFC 3339 or nanoseconds since the epoch (default: the "
                  "first row)");
  cmd->add_option("--to", o->to, "End, exclusive (default: past the last row)");
  cmd->add_option("--out", o->out, "DIR, file:///DIR or s3://TARGET/PREFIX")->required();
  cmd->add_option("--compression", o->compression, "zstd (default), snappy or none");
  cmd->callback([o, fail] {
    if (auto s = CheckTargetFlags(o->where); !s.ok()) return fail(ToStd(s.message()));
    auto compression = parquet::ParseCompression(o->compression);
    if (!compression) {
      return fail(
          StrCat("--compression is \"", o->compression, "\": expected zstd, snappy or none"));
    }
    transfer::ExportOptions options;
    options.compression = *compression;
    if (!o->from.empty()) {
      auto t = transfer::ParseExportTime(o->from, "from");
      if (!t.ok()) return fail(ToStd(t.status().message()));
      options.from = *t;
    }
    if (!o->to.empty()) {
      auto t = transfer::ParseExportTime(o->to, "to");
      if (!t.ok()) return fail(ToStd(t.status().message()));
      options.to = *t;
    }
    if (!o->where.server.empty()) {
      std::string body;
      JsonWriter w(&body);
      w.BeginObject();
      if (!o->from.empty()) w.Key("from").String(o->from);
      if (!o->to.empty()) w.Key("to").String(o->to);
      w.Key("out").String(o->out).Key("compression").String(o->compression);
      w.EndObject();
      auto job = RunExportJob(o->where, o->dataset, body);
      if (!job.ok()) return fail(ToStd(job.status().message()));
      std::cout << *job << "\n";
      return;
    }
    auto root = OpenOfflineRoot(o->where.storage_root, o->where.tiering);
    if (!root.ok()) return fail(ToStd(root.status().message()));
    Engine* engine = (*root)->engine.get();
    auto ds = engine->FindDataset(o->dataset);
    if (ds == nullptr) return fail(StrCat("dataset '", o->dataset, "' not found"));
    auto dest = transfer::ResolveDestination(o->out, Env::Default(), (*root)->targets.get());
    if (!dest.ok()) return fail(ToStd(dest.status().message()));
    auto report = transfer::ExportDataset(engine, ds->slug(), *dest, options, nullptr);
    if (!report.ok()) return fail(ToStd(report.status().message()));
    std::cout << transfer::ExportReportJson(*report) << "\n";
  });
}

}  // namespace timestore::tools
