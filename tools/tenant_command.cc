#include "tools/tenant_command.h"

#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "auth/tenant.h"
#include "auth/tenant_store.h"
#include "common/env.h"
#include "common/json_writer.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "tools/offline_root.h"

namespace timestore::tools {
namespace {

// One quota flag: unset keeps the tenant's value; "default" (or "null")
// returns it to the server default; anything else is the value, checked by
// the same parser as the API's.
struct QuotaFlag {
  std::string text;
  bool given = false;
};

std::string SettingsJson(const auth::TenantConfig& t, bool configured) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  auth::WriteTenantMembers(w, t, configured);
  w.Key("configured").Bool(configured);
  w.EndObject();
  return out;
}

// The request body of `t` with the flags applied, read back through the
// API's parser so the CLI refuses exactly what the server would.
absl::StatusOr<auth::TenantConfig> ApplyFlags(const std::string& id,
                                              const std::optional<auth::TenantConfig>& current,
                                              const std::optional<std::string>& display_name,
                                              const QuotaFlag& datasets, const QuotaFlag& bytes,
                                              const QuotaFlag& rate) {
  auth::TenantConfig base;
  base.id = id;
  if (current) base = *current;
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Key("displayName").String(display_name ? *display_name : base.display_name);
  auto member = [&](std::string_view key, const QuotaFlag& f, bool quoted,
                    const std::optional<std::string>& now) {
    w.Key(key);
    const std::optional<std::string> v = f.given ? std::optional<std::string>(f.text) : now;
    if (!v || *v == "default" || *v == "null") {
      w.Null();
    } else if (quoted) {
      w.String(*v);  // maxBytes takes "50GiB" as well as a number
    } else {
      w.Raw(*v);
    }
  };
  auto str = [](const auto& o) -> std::optional<std::string> {
    if (!o) return std::nullopt;
    return StrCat(*o);
  };
  for (const auto& [flag, name] :
       {std::pair<const QuotaFlag*, std::string_view>{&datasets, "max-datasets"},
        {&rate, "max-ingest-rows-per-second"}}) {
    // Numbers are copied into the JSON as they are: only digits, '.' and 'e'.
    if (flag->given && flag->text != "default" && flag->text != "null" &&
        (flag->text.empty() ||
         flag->text.find_first_not_of("0123456789.eE+-") != std::string::npos)) {
      return absl::InvalidArgumentError(
          StrCat("--", name, " is \"", flag->text, "\": expected a number, or \"default\""));
    }
  }
  member("maxDatasets", datasets, false, str(base.limits.max_datasets));
  member("maxBytes", bytes, true, str(base.limits.max_bytes));
  member("maxIngestRowsPerSecond", rate, false, str(base.limits.max_ingest_rows_per_second));
  w.EndObject();
  auto parsed = auth::ParseTenantRequest(id, body);
  if (!parsed.ok() && ErrorCodeOf(parsed.status()) == "invalid_json") {
    return absl::InvalidArgumentError(
        "--max-datasets and --max-ingest-rows-per-second take a number, or \"default\"");
  }
  return parsed;
}

std::string RequestJson(const auth::TenantConfig& t) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("displayName").String(t.display_name);
  auto opt = [&](std::string_view key, const auto& v) {
    w.Key(key);
    if (v) {
      w.Raw(StrCat(*v));
    } else {
      w.Null();
    }
  };
  opt("maxDatasets", t.limits.max_datasets);
  opt("maxBytes", t.limits.max_bytes);
  opt("maxIngestRowsPerSecond", t.limits.max_ingest_rows_per_second);
  w.EndObject();
  return out;
}

}  // namespace

void AddTenantCommand(CLI::App* app, int* exit_code) {
  struct Options {
    TargetFlags where;
    std::string id;
    std::optional<std::string> display_name;
    QuotaFlag datasets, bytes, rate;
  };
  auto o = std::make_shared<Options>();
  auto fail = [exit_code](std::string_view message) {
    std::cerr << "timestore tenant: " << message << "\n";
    *exit_code = 1;
  };
  CLI::App* cmd = app->add_subcommand(
      "tenant", "Tenants (datasets <tenant>__<name>) and their quotas (docs/api.md Tenants)");
  cmd->require_subcommand(1);
  CLI::App* set = cmd->add_subcommand(
      "set", "Create or change a tenant's settings; flags not given keep their value");
  CLI::App* list = cmd->add_subcommand("list", "List tenants (with usage through --server)");
  CLI::App* show = cmd->add_subcommand("show", "One tenant (with usage through --server)");
  CLI::App* del =
      cmd->add_subcommand("delete", "Remove a tenant's settings (it must hold no datasets)");
  for (CLI::App* sub : {set, list, show, del}) AddTargetFlags(sub, &o->where);
  for (CLI::App* sub : {set, show, del}) sub->add_option("tenant", o->id, "Tenant id")->required();
  set->add_option_function<std::string>(
      "--display-name", [o](const std::string& v) { o->display_name = v; }, "Display name");
  auto quota = [&](const char* flag, QuotaFlag* f, const char* help) {
    set->add_option_function<std::string>(
        flag,
        [f](const std::string& v) {
          f->text = v;
          f->given = true;
        },
        help);
  };
  quota("--max-datasets", &o->datasets, "Datasets at most (0: unlimited; default: the server's)");
  quota("--max-bytes", &o->bytes, "Bytes stored at most, e.g. 50GiB (0: unlimited; default)");
  quota("--max-ingest-rows-per-second", &o->rate, "Ingest rows per second (0: unlimited; default)");

  auto run = [o, fail](std::string_view what) {
    if (auto s = CheckTargetFlags(o->where); !s.ok()) return fail(ToStd(s.message()));
    if (!o->where.server.empty()) {
      auto call = [&](std::string_view method, const std::string& path,
                      const std::string& body = "") -> std::optional<ServerAnswer> {
        auto r = CallServer(o->where, method, path, body);
        if (!r.ok()) {
          fail(ToStd(r.status().message()));
          return std::nullopt;
        }
        return *r;
      };
      const std::string path = StrCat("/admin/tenants", what == "list" ? "" : "/", o->id);
      std::optional<ServerAnswer> answer;
      if (what == "set") {
        auto got = call("GET", path);
        if (!got) return;
        std::optional<auth::TenantConfig> current;
        if (got->status == 200) {
          auto parsed = auth::ParseTenantRequest(o->id, got->body);
          if (!parsed.ok()) return fail(ToStd(parsed.status().message()));
          current = *parsed;
        } else if (got->status != 404) {
          return fail(StrCat("the server answered ", got->status, ": ", got->body));
        }
        auto t = ApplyFlags(o->id, current, o->display_name, o->datasets, o->bytes, o->rate);
        if (!t.ok()) return fail(ToStd(t.status().message()));
        answer = call("PUT", path, RequestJson(*t));
      } else {
        answer = call(what == "delete" ? "DELETE" : "GET", path);
      }
      if (!answer) return;
      if (answer->status >= 300) {
        return fail(StrCat("the server answered ", answer->status, ": ", answer->body));
      }
      std::cout << answer->body << "\n";
      return;
    }
    // Offline: under the root's lock (a server holds it while it runs, and
    // would overwrite the file from memory). A delete opens the engine too,
    // to count the tenant's datasets.
    std::unique_ptr<OfflineRoot> root;
    std::unique_ptr<AuthRootLock> lock;
    if (what == "delete") {
      auto opened = OpenOfflineRoot(o->where.storage_root, o->where.tiering);
      if (!opened.ok()) return fail(ToStd(opened.status().message()));
      root = *std::move(opened);
      uint64_t datasets = 0;
      for (const auto& ds : root->engine->ListDatasets()) {
        datasets += auth::TenantOfSlug(ds->slug()) == o->id;
      }
      if (datasets > 0) {
        return fail(
            StrCat("tenant \"", o->id, "\" still has ", datasets, " datasets; delete them first"));
      }
    } else {
      auto acquired = AuthRootLock::Acquire(JoinPath(o->where.storage_root, "auth"));
      if (!acquired.ok()) return fail(ToStd(acquired.status().message()));
      lock = *std::move(acquired);
    }
    auto store = auth::TenantStore::Open(o->where.storage_root);
    if (!store.ok()) return fail(ToStd(store.status().message()));
    if (what == "list") {
      std::string out = "{\"tenants\":[";
      bool first = true;
      for (const auto& t : (*store)->List()) {
        StrAppend(&out, first ? "" : ",", SettingsJson(t, true));
        first = false;
      }
      std::cout << out << "]}\n";
      return;
    }
    std::optional<auth::TenantConfig> current = (*store)->Get(o->id);
    if (what == "show") {
      if (!current) return fail(StrCat("tenant \"", o->id, "\" is not configured"));
      std::cout << SettingsJson(*current, true) << "\n";
      return;
    }
    if (what == "delete") {
      auto removed = (*store)->Remove(o->id);
      if (!removed.ok()) return fail(ToStd(removed.status().message()));
      std::cout << "{\"tenant\":\"" << o->id << "\",\"deleted\":true}\n";
      return;
    }
    auto t = ApplyFlags(o->id, current, o->display_name, o->datasets, o->bytes, o->rate);
    if (!t.ok()) return fail(ToStd(t.status().message()));
    auto stored = (*store)->Put(*std::move(t), NowNanos());
    if (!stored.ok()) return fail(ToStd(stored.status().message()));
    std::cout << SettingsJson(stored->first, true) << "\n";
  };
  set->callback([run] { run("set"); });
  list->callback([run] { run("list"); });
  show->callback([run] { run("show"); });
  del->callback([run] { run("delete"); });
}

}  // namespace timestore::tools
