#include "tools/export_command.h"

#include <iostream>
#include <memory>

#include "common/json_writer.h"
#include "common/strings.h"
#include "simdjson.h"
#include "tiering/http_client.h"
#include "tools/offline_root.h"
#include "transfer/destination.h"
#include "transfer/export.h"

namespace timestore::tools {

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
      auto job = RunServerJob(
          o->where, "POST",
          StrCat("/admin/datasets/", tiering::UriEncode(o->dataset, false), "/export"), body);
      if (!job.ok()) return fail(ToStd(job.status().message()));
      // The job's answer: the same JSON the offline export prints.
      simdjson::dom::parser parser;
      simdjson::dom::element result;
      if (parser.parse(*job).get_object()["result"].get(result) == simdjson::SUCCESS) {
        std::cout << simdjson::minify(result) << "\n";
      } else {
        std::cout << *job << "\n";
      }
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
