#include "tools/offline_root.h"

#include <chrono>
#include <thread>

#include "common/strings.h"
#include "simdjson.h"
#include "spdlog/spdlog.h"
#include "tiering/http_client.h"

namespace timestore::tools {

absl::StatusOr<std::unique_ptr<OfflineRoot>> OpenOfflineRoot(const std::string& root,
                                                             const TieringConfig& tiering) {
  Env* env = Env::Default();
  if (!env->FileExists(JoinPath(root, "CURRENT"))) {
    return absl::NotFoundError(StrCat("no storage root at ", root, " (it has no CURRENT file)"));
  }
  // The command's answer goes to stdout; the engine's routine logs would mix
  // with it.
  if (spdlog::get_level() < spdlog::level::warn) spdlog::set_level(spdlog::level::warn);
  auto out = std::make_unique<OfflineRoot>();
  auto lock = AuthRootLock::Acquire(JoinPath(root, "auth"));
  if (!lock.ok()) {
    return absl::FailedPreconditionError(
        StrCat(ToStd(lock.status().message()),
               "; while a server runs, use --server URL with an admin --token"));
  }
  out->lock = *std::move(lock);

  EngineOptions eo;
  eo.root = root;
  eo.background_sealing = false;
  compaction::TieringOptions mover;  // unused: no mover runs offline
  if (auto s = ApplyTieringConfig(tiering, &eo, &mover); !s.ok()) return s;
  auto env_target = EnvironmentTarget(tiering);
  if (!env_target.ok()) return env_target.status();
  auto targets = tiering::StorageTargets::Open(env, root, *env_target);
  if (!targets.ok()) return targets.status();
  out->targets = *std::move(targets);
  eo.targets = out->targets.get();
  auto engine = Engine::Open(env, eo);
  if (!engine.ok()) return engine.status();
  out->engine = *std::move(engine);
  return out;
}

void AddTargetFlags(CLI::App* cmd, TargetFlags* flags) {
  cmd->add_option("--server", flags->server, "A running server, e.g. http://127.0.0.1:4100");
  cmd->add_option("--token", flags->token, "An admin token for --server")
      ->envname("TIMESTORE_TOKEN");
  cmd->add_option("--storage-root", flags->storage_root,
                  "A storage root no server is running on (instead of --server)")
      ->envname("TIMESTORE_STORAGE_ROOT");
  AddTieringOptions(cmd, &flags->tiering);
}

absl::Status CheckTargetFlags(const TargetFlags& flags) {
  if (flags.server.empty() == flags.storage_root.empty()) {
    return absl::InvalidArgumentError(
        "give exactly one of --server (a running server) or --storage-root (a storage root no "
        "server is running on)");
  }
  return absl::OkStatus();
}

absl::StatusOr<ServerAnswer> CallServer(const TargetFlags& flags, std::string_view method,
                                        std::string_view path, std::string_view body) {
  tiering::HttpClient client;
  tiering::HttpRequest req;
  req.method = std::string(method);
  req.url = StrCat(flags.server, path);
  req.body = std::string(body);
  if (!flags.token.empty()) req.headers.emplace_back("Authorization", "Bearer " + flags.token);
  req.headers.emplace_back("Content-Type", "application/json");
  auto resp = client.Perform(req, tiering::HttpClient::Clock::now() + std::chrono::minutes(10));
  if (resp.status == 0) {
    return absl::UnavailableError(StrCat("cannot reach ", flags.server, ": ", resp.error));
  }
  return ServerAnswer{resp.status, std::move(resp.body)};
}

absl::StatusOr<std::string> RunServerJob(const TargetFlags& flags, std::string_view method,
                                         std::string_view path, std::string_view body) {
  auto started = CallServer(flags, method, path, body);
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
  const std::string job_path = StrCat("/admin/jobs/", id);
  for (;;) {
    auto polled = CallServer(flags, "GET", job_path);
    if (!polled.ok()) return polled.status();
    if (polled->status != 200) {
      return absl::UnavailableError(StrCat("polling ", job_path, ": the server answered ",
                                           polled->status, ": ", polled->body));
    }
    std::string_view state;
    if (parser.parse(polled->body).get_object()["state"].get(state)) {
      return absl::InternalError(StrCat("the job's status has no state: ", polled->body));
    }
    if (state == "succeeded") return std::move(polled->body);
    if (state == "failed") return absl::AbortedError(polled->body);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace timestore::tools
