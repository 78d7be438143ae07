#include "tools/backup_command.h"

#include <iostream>
#include <memory>

#include "common/json_writer.h"
#include "common/strings.h"
#include "tiering/http_client.h"
#include "tools/offline_root.h"
#include "tools/verify.h"
#include "transfer/backup.h"
#include "transfer/destination.h"

namespace timestore::tools {
namespace {

// The storage targets a command without a root of its own resolves
// s3://TARGET with: the environment's, plus those of `root` when given.
absl::StatusOr<std::unique_ptr<tiering::StorageTargets>> TargetsFor(const TieringConfig& tiering,
                                                                    const std::string& root) {
  auto env_target = EnvironmentTarget(tiering);
  if (!env_target.ok()) return env_target.status();
  // Without a root, an empty scratch directory stands in (nothing is written there).
  return tiering::StorageTargets::Open(Env::Default(), root.empty() ? "/nonexistent" : root,
                                       *env_target);
}

}  // namespace

void AddBackupCommands(CLI::App* app, int* exit_code) {
  struct Options {
    TargetFlags where;
    std::string to, from, at, backup_id, targets_from;
    int keep = 0;
  };
  auto o = std::make_shared<Options>();
  auto fail = [exit_code](std::string_view command, std::string_view message) {
    std::cerr << "timestore " << command << ": " << message << "\n";
    *exit_code = 1;
  };

  CLI::App* backup = app->add_subcommand(
      "backup",
      "Back up every dataset to DIR or s3://TARGET/PREFIX: only segments no earlier backup "
      "holds are uploaded, everything is verified after writing");
  AddTargetFlags(backup, &o->where);
  backup->add_option("--to", o->to, "DIR, file:///DIR or s3://TARGET/PREFIX")->required();
  backup->add_option("--keep", o->keep,
                     "Keep the newest N backups and delete the rest (0: keep all)");
  backup->callback([o, fail] {
    if (auto s = CheckTargetFlags(o->where); !s.ok()) return fail("backup", ToStd(s.message()));
    if (!o->where.server.empty()) {
      std::string body;
      JsonWriter(&body).BeginObject().Key("to").String(o->to).Key("keep").Int(o->keep).EndObject();
      auto job = RunServerJob(o->where, "POST", "/admin/backup", body);
      if (!job.ok()) return fail("backup", ToStd(job.status().message()));
      std::cout << *job << "\n";
      return;
    }
    auto root = OpenOfflineRoot(o->where.storage_root, o->where.tiering);
    if (!root.ok()) return fail("backup", ToStd(root.status().message()));
    auto dest = transfer::ResolveDestination(o->to, Env::Default(), (*root)->targets.get());
    if (!dest.ok()) return fail("backup", ToStd(dest.status().message()));
    transfer::BackupOptions options;
    options.keep = o->keep;
    auto report = transfer::Backup((*root)->engine.get(), *dest, options, nullptr);
    if (!report.ok()) return fail("backup", ToStd(report.status().message()));
    std::cout << transfer::BackupReportJson(*report) << "\n";
  });

  CLI::App* list = app->add_subcommand("backups", "List the complete backups at a destination");
  AddTargetFlags(list, &o->where);
  list->add_option("--at", o->at, "DIR, file:///DIR or s3://TARGET/PREFIX")->required();
  list->callback([o, fail] {
    if (!o->where.server.empty()) {
      auto answer = CallServer(o->where, "GET",
                               StrCat("/admin/backups?at=", tiering::UriEncode(o->at, false)));
      if (!answer.ok()) return fail("backups", ToStd(answer.status().message()));
      std::cout << answer->body << "\n";
      if (answer->status != 200) return fail("backups", StrCat("status ", answer->status));
      return;
    }
    auto targets = TargetsFor(o->where.tiering, o->where.storage_root);
    if (!targets.ok()) return fail("backups", ToStd(targets.status().message()));
    auto dest = transfer::ResolveDestination(o->at, Env::Default(), targets->get());
    if (!dest.ok()) return fail("backups", ToStd(dest.status().message()));
    auto backups = transfer::ListBackups(*dest);
    if (!backups.ok()) return fail("backups", ToStd(backups.status().message()));
    std::cout << transfer::BackupListJson(*backups) << "\n";
  });

  CLI::App* restore = app->add_subcommand(
      "restore",
      "Build a new storage root from a backup; every object is checked, then the root is "
      "verified before it is moved into place");
  restore->add_option("--from", o->from, "DIR, file:///DIR or s3://TARGET/PREFIX")->required();
  restore->add_option("--to", o->to, "The new storage root (must not exist or be empty)")
      ->required();
  restore->add_option("--backup", o->backup_id, "The backup id (default: the newest)");
  restore->add_option("--server", o->where.server,
                      "Run on this server (the root is built on its machine)");
  restore->add_option("--token", o->where.token, "An admin token for --server")
      ->envname("TIMESTORE_TOKEN");
  restore->add_option("--targets-from", o->targets_from,
                      "A storage root whose storage targets resolve s3://TARGET (the "
                      "environment's target is always known)");
  AddTieringOptions(restore, &o->where.tiering);
  restore->callback([o, fail] {
    if (!o->where.server.empty()) {
      std::string body;
      JsonWriter w(&body);
      w.BeginObject().Key("from").String(o->from).Key("to").String(o->to);
      if (!o->backup_id.empty()) w.Key("backup").String(o->backup_id);
      w.EndObject();
      auto job = RunServerJob(o->where, "POST", "/admin/restore", body);
      if (!job.ok()) return fail("restore", ToStd(job.status().message()));
      std::cout << *job << "\n";
      return;
    }
    auto targets = TargetsFor(o->where.tiering, o->targets_from);
    if (!targets.ok()) return fail("restore", ToStd(targets.status().message()));
    auto from = transfer::ResolveDestination(o->from, Env::Default(), targets->get());
    if (!from.ok()) return fail("restore", ToStd(from.status().message()));
    transfer::RestoreOptions options;
    options.backup_id = o->backup_id;
    options.check = [](const std::string& staging) -> absl::Status {
      auto report = VerifyRoot(Env::Default(), staging);
      if (!report.ok()) return report.status();
      if (!report->ok()) {
        for (const VerifiedFile& f : report->files) {
          if (!f.status.ok()) return f.status;
        }
      }
      return absl::OkStatus();
    };
    auto report = transfer::Restore(*from, Env::Default(), o->to, options, nullptr);
    if (!report.ok()) return fail("restore", ToStd(report.status().message()));
    std::cout << transfer::RestoreReportJson(*report) << "\n";
  });
}

}  // namespace timestore::tools
