#include "tiering/storage_targets.h"

#include <simdjson.h>
#include <sys/stat.h>

#include <cstdlib>

#include "common/json_writer.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "spdlog/spdlog.h"
#include "tiering/azure_blob_store.h"

namespace timestore::tiering {
namespace {

constexpr std::string_view kFileName = "storage-targets.json";

absl::Status Invalid(std::string_view field, std::string message) {
  std::string details;
  JsonWriter(&details).BeginObject().Key("field").String(field).EndObject();
  return MakeError(absl::StatusCode::kInvalidArgument, "invalid_storage_target", std::move(message),
                   details);
}

bool ValidId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '_' || c == '-'));
    if (!ok) return false;
  }
  return true;
}

std::string GetEnv(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

void WriteConfig(JsonWriter& w, const StorageTargetConfig& c, bool secrets) {
  w.BeginObject();
  w.Key("id").String(c.id);
  w.Key("driver").String(c.driver);
  if (c.driver == "azure_blob") {
    if (!c.endpoint.empty()) w.Key("endpoint").String(c.endpoint);
    w.Key("accountName").String(c.account_name);
    w.Key("container").String(c.container);
  } else {
    if (!c.endpoint.empty()) w.Key("endpoint").String(c.endpoint);
    w.Key("region").String(c.region);
    w.Key("bucket").String(c.bucket);
    w.Key("forcePathStyle").Bool(c.force_path_style);
    if (!c.access_key_id.empty()) w.Key("accessKeyId").String(c.access_key_id);
  }
  w.Key("prefix").String(c.prefix);
  if (c.price_per_gb_month > 0) w.Key("pricePerGbMonth").Double(c.price_per_gb_month);
  if (c.multipart_threshold > 0) w.Key("multipartThreshold").Uint(c.multipart_threshold);
  if (c.part_size > 0) w.Key("partSize").Uint(c.part_size);
  if (secrets) {
    if (!c.secret_access_key.empty()) w.Key("secretAccessKey").String(c.secret_access_key);
    if (!c.session_token.empty()) w.Key("sessionToken").String(c.session_token);
    if (!c.account_key.empty()) w.Key("accountKey").String(c.account_key);
    if (!c.sas_token.empty()) w.Key("sasToken").String(c.sas_token);
  }
  w.EndObject();
}

}  // namespace

std::string StorageTargetConfig::Location() const {
  if (driver == "azure_blob") {
    return JoinKey(StrCat("azure://", account_name, "/", container), prefix);
  }
  if (driver == "gcs") return JoinKey(StrCat("gs://", bucket), prefix);
  if (driver == "memory") return JoinKey(StrCat("memory://", bucket), prefix);
  return JoinKey(StrCat("s3://", bucket), prefix);
}

double StorageTargetConfig::EffectivePrice() const {
  if (price_per_gb_month > 0) return price_per_gb_month;
  // List prices of the standard (hot) classes, USD per GB-month, us-east-1.
  if (driver == "gcs") return 0.020;
  if (driver == "azure_blob") return 0.0184;
  return 0.023;
}

absl::Status ValidateStorageTarget(const StorageTargetConfig& c, bool from_environment) {
  if (!ValidId(c.id)) {
    return Invalid("id", StrCat("storage target id \"", c.id.substr(0, 80),
                                "\" must match [a-z0-9][a-z0-9_-]{0,63}"));
  }
  if (c.id == kLocalTarget) {
    return Invalid("id", "\"local\" is the storage root itself and cannot be redefined");
  }
  if (!from_environment && (c.id == "s3" || c.id == "gcs" || c.id == "azure")) {
    return Invalid("id", StrCat("\"", c.id,
                                "\" is reserved for the target TIMESTORE_STORAGE_DRIVER defines; "
                                "choose another id"));
  }
  if (c.driver == "s3" || c.driver == "gcs" || c.driver == "memory") {
    if (c.bucket.empty())
      return Invalid("bucket", StrCat("a ", c.driver, " target needs a bucket"));
    if (c.driver != "memory" && c.region.empty())
      return Invalid("region", "an s3 target needs a region");
    if (c.access_key_id.empty() != c.secret_access_key.empty()) {
      return Invalid(c.access_key_id.empty() ? "accessKeyId" : "secretAccessKey",
                     "accessKeyId and secretAccessKey go together");
    }
  } else if (c.driver == "azure_blob") {
    if (c.container.empty()) return Invalid("container", "an azure_blob target needs a container");
    if (c.account_name.empty())
      return Invalid("accountName", "an azure_blob target needs an accountName");
    if (c.account_key.empty() && c.sas_token.empty()) {
      return Invalid("accountKey", "an azure_blob target needs an accountKey or a sasToken");
    }
  } else {
    return Invalid("driver", StrCat("unknown driver \"", c.driver.substr(0, 40),
                                    "\"; known: s3, gcs, azure_blob"));
  }
  if (c.price_per_gb_month < 0) return Invalid("pricePerGbMonth", "a price must not be negative");
  if (c.prefix.find("//") != std::string::npos || c.prefix.starts_with("/")) {
    return Invalid("prefix", "prefix must not start with '/' nor contain \"//\"");
  }
  return absl::OkStatus();
}

absl::Status ParseConnectionStringInto(std::string_view cs, StorageTargetConfig* c) {
  ASSIGN_OR_RETURN(AzureOptions o, ParseAzureConnectionString(cs));
  c->account_name = o.account_name;
  c->endpoint = o.endpoint;
  if (!o.account_key.empty()) c->account_key = o.account_key;
  if (!o.sas_token.empty()) c->sas_token = o.sas_token;
  return absl::OkStatus();
}

void ResolveCredentials(StorageTargetConfig* c) {
  if (c->driver == "azure_blob") {
    c->credentials = c->account_key.empty() ? "sas" : "shared_key";
  } else if (!c->access_key_id.empty()) {
    c->credentials = "static";
  } else if (!GetEnv("AWS_ACCESS_KEY_ID").empty() && !GetEnv("AWS_SECRET_ACCESS_KEY").empty()) {
    // Read when the store is built (MakeObjectStore), never copied into the
    // config: a rotated AWS_* takes effect at the next start, and nothing of
    // it is ever written to storage-targets.json.
    c->credentials = "environment";
  } else {
    c->credentials = "none";
  }
}

StorageTargetConfig WithEnvironmentCredentials(StorageTargetConfig c) {
  if (c.driver != "azure_blob" && c.access_key_id.empty()) {
    c.access_key_id = GetEnv("AWS_ACCESS_KEY_ID");
    c.secret_access_key = GetEnv("AWS_SECRET_ACCESS_KEY");
    c.session_token = GetEnv("AWS_SESSION_TOKEN");
  }
  return c;
}

bool SameStore(const StorageTargetConfig& a, const StorageTargetConfig& b) {
  const bool a_az = a.driver == "azure_blob", b_az = b.driver == "azure_blob";
  if (a_az != b_az) return false;
  if (a_az) return a.account_name == b.account_name && a.container == b.container;
  return a.bucket == b.bucket && a.endpoint == b.endpoint;
}

bool Overlaps(const StorageTargetConfig& a, const StorageTargetConfig& b) {
  if (!SameStore(a, b)) return false;
  auto norm = [](std::string p) {
    while (!p.empty() && p.back() == '/') p.pop_back();
    return p.empty() ? std::string() : p + "/";
  };
  const std::string pa = norm(a.prefix), pb = norm(b.prefix);
  return pa.starts_with(pb) || pb.starts_with(pa);
}

bool SameLocation(const StorageTargetConfig& a, const StorageTargetConfig& b) {
  return a.driver == b.driver && SameStore(a, b) && a.prefix == b.prefix && a.region == b.region &&
         a.force_path_style == b.force_path_style;
}

absl::StatusOr<StorageTargetConfig> ParseStorageTarget(std::string_view id, std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::padded_string padded(json);
  if (parser.parse(padded).get(root) || !root.is_object()) {
    return Invalid("",
                   "the storage target body must be a JSON object such as "
                   "{\"driver\": \"s3\", \"bucket\": \"cold\", \"region\": \"us-east-1\"}");
  }
  StorageTargetConfig c;
  c.id = std::string(id);
  c.source = "api";
  for (auto [key, member] : root.get_object()) {
    std::string_view k = key;
    // A plain variable: clang 14 cannot capture a structured binding.
    simdjson::dom::element value = member;
    auto str = [&](std::string* out) -> absl::Status {
      std::string_view v;
      if (value.get(v)) return Invalid(k, StrCat(k, " must be a string"));
      *out = std::string(v);
      return absl::OkStatus();
    };
    if (k == "id") {
      std::string body_id;
      RETURN_IF_ERROR(str(&body_id));
      if (body_id != id) return Invalid("id", "the body's id differs from the URL's");
    } else if (k == "driver") {
      RETURN_IF_ERROR(str(&c.driver));
    } else if (k == "endpoint") {
      RETURN_IF_ERROR(str(&c.endpoint));
    } else if (k == "region") {
      RETURN_IF_ERROR(str(&c.region));
    } else if (k == "bucket") {
      RETURN_IF_ERROR(str(&c.bucket));
    } else if (k == "prefix") {
      RETURN_IF_ERROR(str(&c.prefix));
    } else if (k == "forcePathStyle") {
      if (value.get(c.force_path_style)) return Invalid(k, "forcePathStyle must be a boolean");
    } else if (k == "accessKeyId") {
      RETURN_IF_ERROR(str(&c.access_key_id));
    } else if (k == "secretAccessKey") {
      RETURN_IF_ERROR(str(&c.secret_access_key));
    } else if (k == "sessionToken") {
      RETURN_IF_ERROR(str(&c.session_token));
    } else if (k == "accountName") {
      RETURN_IF_ERROR(str(&c.account_name));
    } else if (k == "accountKey") {
      RETURN_IF_ERROR(str(&c.account_key));
    } else if (k == "sasToken") {
      RETURN_IF_ERROR(str(&c.sas_token));
    } else if (k == "container") {
      RETURN_IF_ERROR(str(&c.container));
    } else if (k == "pricePerGbMonth") {
      double d;
      if (value.get(d)) {
        int64_t i;
        if (value.get(i)) return Invalid(k, "pricePerGbMonth must be a number");
        d = static_cast<double>(i);
      }
      c.price_per_gb_month = d;
    } else if (k == "multipartThreshold" || k == "partSize") {
      uint64_t v;
      if (value.get(v)) return Invalid(k, StrCat(k, " must be a non-negative integer (bytes)"));
      (k == "partSize" ? c.part_size : c.multipart_threshold) = v;
    } else {
      return Invalid(k, StrCat("unknown member \"", k.substr(0, 40),
                               "\" in the storage target body (known: driver, endpoint, region, "
                               "bucket, prefix, forcePathStyle, accessKeyId, secretAccessKey, "
                               "sessionToken, accountName, accountKey, sasToken, container, "
                               "pricePerGbMonth, multipartThreshold, partSize)"));
    }
  }
  if (c.driver == "s3" && c.region.empty()) c.region = "us-east-1";
  if (c.driver == "gcs") {
    if (c.region.empty()) c.region = "auto";
    if (c.endpoint.empty()) c.endpoint = "https://storage.googleapis.com";
  }
  return c;
}

std::string StorageTargetJson(const StorageTargetConfig& c) {
  std::string out;
  JsonWriter w(&out);
  WriteConfig(w, c, false);
  out.pop_back();  // reopen the object for the public-only members
  w.Key("location").String(c.Location());
  w.Key("source").String(c.source);
  w.Key("credentials").String(c.credentials);
  w.Key("pricePerGbMonth").Double(c.EffectivePrice());
  if (c.driver == "azure_blob") {
    w.Key("hasAccountKey").Bool(!c.account_key.empty());
    w.Key("hasSasToken").Bool(!c.sas_token.empty());
  } else {
    w.Key("hasSecretAccessKey").Bool(!c.secret_access_key.empty());
    w.Key("hasSessionToken").Bool(!c.session_token.empty());
  }
  out.push_back('}');
  return out;
}

absl::StatusOr<std::unique_ptr<StorageTargets>> StorageTargets::Open(
    Env* env, std::string root, std::optional<StorageTargetConfig> from_env, StoreFactory factory) {
  std::unique_ptr<StorageTargets> t(new StorageTargets(env, std::move(root), std::move(factory)));
  const std::string path = JoinPath(t->root_, kFileName);
  if (env->FileExists(path)) {
    ASSIGN_OR_RETURN(std::string json, env->ReadFile(path));
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    simdjson::dom::array targets;
    if (parser.parse(simdjson::padded_string(json)).get(doc) || doc["targets"].get(targets)) {
      return absl::DataLossError(StrCat(path, ": not a storage target file"));
    }
    for (simdjson::dom::element e : targets) {
      std::string_view id;
      if (e["id"].get(id)) return absl::DataLossError(StrCat(path, ": a target has no id"));
      auto c = ParseStorageTarget(id, simdjson::minify(e));
      if (!c.ok()) {
        return absl::DataLossError(StrCat(path, ": target ", id, ": ", c.status().message()));
      }
      ResolveCredentials(&*c);
      t->configs_[c->id] = *std::move(c);
    }
  }
  if (from_env) {
    StorageTargetConfig c = *std::move(from_env);
    c.source = "environment";
    ResolveCredentials(&c);
    RETURN_IF_ERROR(ValidateStorageTarget(c, /*from_environment=*/true));
    if (t->configs_.contains(c.id)) {
      return absl::FailedPreconditionError(
          StrCat(path, " defines a target \"", c.id,
                 "\", the id of the environment's target (TIMESTORE_STORAGE_DRIVER)"));
    }
    for (const auto& [id, other] : t->configs_) {
      if (Overlaps(c, other)) {
        return absl::FailedPreconditionError(StrCat(
            "the environment's storage target (", c.Location(), ") overlaps target \"", id, "\" (",
            other.Location(), ") of ", path,
            ": two targets must not share a bucket prefix (each one's orphan sweep would delete "
            "the other's objects)"));
      }
    }
    t->default_target_ = c.id;
    t->configs_[c.id] = std::move(c);
  }
  return t;
}

absl::StatusOr<std::shared_ptr<ObjectStore>> StorageTargets::Store(std::string_view id) {
  std::lock_guard<std::mutex> l(mu_);
  if (auto it = stores_.find(id); it != stores_.end()) return it->second;
  auto c = configs_.find(id);
  if (c == configs_.end()) {
    return absl::NotFoundError(StrCat("storage target \"", id, "\" is not configured"));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<ObjectStore> store,
                   factory_(WithEnvironmentCredentials(c->second)));
  stores_[std::string(id)] = store;
  return store;
}

std::optional<StorageTargetConfig> StorageTargets::Get(std::string_view id) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = configs_.find(id);
  if (it == configs_.end()) return std::nullopt;
  return it->second;
}

std::vector<StorageTargetConfig> StorageTargets::List() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<StorageTargetConfig> out;
  for (const auto& [id, c] : configs_) out.push_back(c);
  return out;
}

absl::StatusOr<StorageTargetConfig> StorageTargets::Prepare(StorageTargetConfig config) const {
  std::lock_guard<std::mutex> l(mu_);
  if (auto old = configs_.find(config.id); old != configs_.end()) {
    const StorageTargetConfig& o = old->second;
    if (o.source == "environment") {
      return MakeError(absl::StatusCode::kAlreadyExists, "storage_target_read_only",
                       StrCat("storage target \"", config.id,
                              "\" comes from the environment (TIMESTORE_STORAGE_DRIVER); change "
                              "it there"));
    }
    // Secrets are write-only: a change that leaves them out keeps them (with
    // the key id they belong to, when that is left out too).
    if (o.driver == config.driver) {
      if (config.secret_access_key.empty() &&
          (config.access_key_id.empty() || config.access_key_id == o.access_key_id)) {
        config.access_key_id = o.access_key_id;
        config.secret_access_key = o.secret_access_key;
        if (config.session_token.empty()) config.session_token = o.session_token;
      }
      if (config.account_key.empty() && config.sas_token.empty()) {
        config.account_key = o.account_key;
        config.sas_token = o.sas_token;
      }
    }
  }
  for (const auto& [id, other] : configs_) {
    if (id != config.id && Overlaps(config, other)) {
      return MakeError(absl::StatusCode::kAlreadyExists, "storage_target_conflict",
                       StrCat("storage target \"", config.id, "\" (", config.Location(),
                              ") overlaps target \"", id, "\" (", other.Location(),
                              "): targets must not share a bucket prefix (each one's orphan "
                              "sweep would delete the other's objects); give it another prefix"));
    }
  }
  RETURN_IF_ERROR(ValidateStorageTarget(config));
  ResolveCredentials(&config);
  return config;
}

StorageTargets::Pin& StorageTargets::Pin::operator=(Pin&& o) noexcept {
  if (this != &o) {
    this->~Pin();
    targets_ = std::exchange(o.targets_, nullptr);
    id_ = std::move(o.id_);
  }
  return *this;
}

StorageTargets::Pin::~Pin() {
  if (targets_ == nullptr) return;
  std::lock_guard<std::mutex> l(targets_->mu_);
  if (--targets_->pins_[id_] == 0) targets_->pins_.erase(id_);
  targets_->pins_cv_.notify_all();
  targets_ = nullptr;
}

absl::StatusOr<StorageTargets::Pin> StorageTargets::PinTarget(std::string_view id) {
  std::lock_guard<std::mutex> l(mu_);
  if (!configs_.contains(id) || quiesced_.contains(id)) {
    return absl::NotFoundError(StrCat("storage target \"", id, "\" is being changed or removed"));
  }
  ++pins_[std::string(id)];
  Pin p;
  p.targets_ = this;
  p.id_ = std::string(id);
  return p;
}

StorageTargets::Exclusive StorageTargets::Quiesce(std::string_view id) {
  std::unique_lock<std::mutex> l(mu_);
  pins_cv_.wait(l, [&] { return !quiesced_.contains(id); });  // one at a time
  quiesced_.insert(std::string(id));
  pins_cv_.wait(l, [&] { return !pins_.contains(id); });
  return Exclusive(this, std::string(id));
}

StorageTargets::Exclusive::~Exclusive() {
  if (targets_ == nullptr) return;
  std::lock_guard<std::mutex> l(targets_->mu_);
  targets_->quiesced_.erase(id_);
  targets_->pins_cv_.notify_all();
}

absl::Status StorageTargets::Put(StorageTargetConfig config) {
  ASSIGN_OR_RETURN(config, Prepare(std::move(config)));
  std::lock_guard<std::mutex> l(mu_);
  auto previous = configs_;
  configs_[config.id] = config;
  if (absl::Status s = Save(); !s.ok()) {
    configs_ = std::move(previous);
    return s;
  }
  stores_.erase(config.id);  // rebuilt with the new settings at next use
  return absl::OkStatus();
}

absl::Status StorageTargets::Remove(std::string_view id) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = configs_.find(id);
  if (it == configs_.end()) {
    return MakeError(absl::StatusCode::kNotFound, "storage_target_not_found",
                     StrCat("storage target \"", id, "\" does not exist"));
  }
  if (it->second.source == "environment") {
    return MakeError(absl::StatusCode::kAlreadyExists, "storage_target_read_only",
                     StrCat("storage target \"", id,
                            "\" comes from the environment (TIMESTORE_STORAGE_DRIVER)"));
  }
  auto previous = configs_;
  configs_.erase(it);
  if (absl::Status s = Save(); !s.ok()) {
    configs_ = std::move(previous);
    return s;
  }
  if (auto st = stores_.find(id); st != stores_.end()) stores_.erase(st);
  return absl::OkStatus();
}

std::vector<std::pair<std::string, std::shared_ptr<ObjectStore>>> StorageTargets::BuiltStores()
    const {
  std::lock_guard<std::mutex> l(mu_);
  return {stores_.begin(), stores_.end()};
}

void StorageTargets::AddForTest(StorageTargetConfig config, std::shared_ptr<ObjectStore> store) {
  std::lock_guard<std::mutex> l(mu_);
  stores_[config.id] = std::move(store);
  configs_[config.id] = std::move(config);
}

absl::Status StorageTargets::Save() {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("targets").BeginArray();
  for (const auto& [id, c] : configs_) {
    if (c.source != "api") continue;
    WriteConfig(w, c, true);  // its own fields only: AWS_* are never copied in
  }
  w.EndArray().EndObject();
  out.push_back('\n');
  const std::string path = JoinPath(root_, kFileName);
  const std::string tmp = path + ".tmp";
  ASSIGN_OR_RETURN(auto f, env_->NewWritableFile(tmp));
  // Secrets: readable by the server's user alone.
  if (::chmod(tmp.c_str(), 0600) != 0) return PosixError("chmod", tmp, errno);
  RETURN_IF_ERROR(f->Append(out));
  RETURN_IF_ERROR(f->Sync());
  RETURN_IF_ERROR(f->Close());
  RETURN_IF_ERROR(env_->RenameFile(tmp, path));
  return env_->SyncDir(root_);
}

}  // namespace timestore::tiering
