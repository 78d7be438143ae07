#include "tools/migrate_command.h"

#include <iostream>
#include <memory>

#include "common/env.h"
#include "common/strings.h"
#include "migrate/migration_manifest.h"
#include "migrate/migrator.h"
#include "simdjson.h"
#include "tools/offline_root.h"

namespace timestore::tools {
namespace {

struct Options {
  TargetFlags target;
  std::string manifest, archive_dir, dataset;
  bool dry_run = false, execute = false, resume = false, rollback = false;
};

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// The one-line summary of a report (or an error body) for stderr.
void Summarize(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root)) return;
  std::string_view mode, outcome, migration, dataset;
  uint64_t partitions = 0, rows = 0;
  if (root["mode"].get(mode) || root["outcome"].get(outcome)) return;
  (void)root["migration"].get(migration);
  (void)root["dataset"].get(dataset);
  (void)root["partitions"].get(partitions);
  (void)root["rows"].get(rows);
  std::cerr << "migration " << migration << " of dataset " << dataset << " (" << mode
            << "): " << outcome << ", " << partitions << " partitions, " << rows << " rows\n";
  simdjson::dom::array notes;
  if (!root["notes"].get(notes)) {
    for (simdjson::dom::element n : notes) {
      std::string_view text;
      if (!n.get(text)) std::cerr << "  " << text << "\n";
    }
  }
}

int Fail(std::string_view message) {
  std::cerr << "timestore migrate: " << message << "\n";
  return 1;
}

int Run(const Options& o) {
  if (auto s = CheckTargetFlags(o.target); !s.ok()) return Fail(ToStd(s.message()));
  if (o.dry_run + o.execute + o.resume + o.rollback > 1) {
    return Fail("give at most one of --dry-run, --execute, --resume and --rollback");
  }
  const bool dry = !o.execute && !o.resume && !o.rollback;  // the default is the safe one
  std::string text;
  std::optional<migrate::MigrationSpec> spec;
  if (!o.manifest.empty()) {
    auto read = Env::Default()->ReadFile(o.manifest);
    if (!read.ok()) return Fail(ToStd(read.status().message()));
    text = *std::move(read);
    auto parsed = migrate::ParseMigrationManifest(text, o.manifest);
    if (!parsed.ok()) return Fail(ToStd(parsed.status().message()));
    spec = *std::move(parsed);
  } else if (!o.resume && !o.rollback) {
    return Fail("--manifest FILE is required (except with --resume or --rollback and --dataset)");
  }
  const std::string dataset = !o.dataset.empty() ? o.dataset : spec ? spec->dataset : "";
  if (dataset.empty()) return Fail("--resume and --rollback need --dataset or --manifest");

  if (!o.target.server.empty()) {
    std::string path = StrCat("/admin/datasets/", PercentEncode(dataset), "/migrations");
    std::string query;
    if (o.resume) query = "resume=true";
    if (o.rollback) query = "rollback=true";
    if (dry) query = "dryRun=true";
    if (!o.archive_dir.empty()) {
      StrAppend(&query, query.empty() ? "" : "&", "archiveDir=", PercentEncode(o.archive_dir));
    }
    if (!query.empty()) StrAppend(&path, "?", query);
    auto answer = CallServer(o.target, "POST", path, text);
    if (!answer.ok()) return Fail(ToStd(answer.status().message()));
    if (answer->status != 200) {
      return Fail(StrCat("the server answered ", answer->status, ": ", answer->body));
    }
    std::cout << answer->body << "\n";
    Summarize(answer->body);
    return 0;
  }

  auto root = OpenOfflineRoot(o.target.storage_root, o.target.tiering);
  if (!root.ok()) return Fail(ToStd(root.status().message()));
  Engine* engine = (*root)->engine.get();
  migrate::MigrateOptions mo;
  mo.archive_dir = o.archive_dir;  // empty: as the migration began, else the root's
  mo.actor = "cli";
  absl::StatusOr<migrate::MigrationReport> r;
  if (o.resume) {
    r = migrate::Resume(engine, dataset, mo);
  } else if (o.rollback) {
    r = migrate::Rollback(engine, dataset, mo);
  } else if (dry) {
    r = migrate::DryRun(engine, *spec, mo);
  } else {
    r = migrate::Execute(engine, *spec, mo);
  }
  if (!r.ok()) return Fail(ToStd(r.status().message()));
  const std::string json = r->ToJson();
  std::cout << json << "\n";
  Summarize(json);
  return 0;
}

}  // namespace

void AddMigrateCommand(CLI::App* app, int* exit_code) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app->add_subcommand(
      "migrate",
      "Rename, transform and drop columns of a dataset (docs/migrate.md); a dry run unless "
      "--execute");
  cmd->add_option("--manifest", o->manifest, "The migration manifest (YAML or JSON)");
  cmd->add_flag("--dry-run", o->dry_run,
                "Validate and report partitions, rows and bytes affected; change nothing "
                "(the default)");
  cmd->add_flag("--execute", o->execute, "Run the migration (resumes it when under way)");
  cmd->add_flag("--resume", o->resume, "Finish the migration under way on --dataset");
  cmd->add_flag("--rollback", o->rollback,
                "Undo the migration under way on --dataset (only before any partition was "
                "rewritten)");
  cmd->add_option("--dataset", o->dataset, "The dataset, for --resume and --rollback");
  cmd->add_option("--archive-dir", o->archive_dir,
                  "Where dropped values go as NDJSON, in a subdirectory named by the migration "
                  "id (default <storage root>/migration-archive; with --server, an absolute "
                  "directory on the server; a resume always uses the directory the migration "
                  "began with)");
  AddTargetFlags(cmd, &o->target);
  cmd->callback([o, exit_code] { *exit_code = Run(*o); });
}

}  // namespace timestore::tools
