// StorageTargets: the object stores cold segments can move to, by id.
//
// Two sources:
//  - the environment (TIMESTORE_STORAGE_DRIVER=s3|gcs|azure_blob and its
//    TIMESTORE_S3_* / TIMESTORE_GCS_* / TIMESTORE_AZURE_* variables): one
//    target whose id is the driver's name ("s3", "gcs", "azure"); it is the
//    default target of datasets that name none, and cannot be changed or
//    removed through the API;
//  - the admin API (PUT /admin/storage-targets/{id}), persisted in
//    <root>/storage-targets.json (mode 0600: it holds secrets) by write-temp,
//    fsync, rename, fsync-directory.
// "local" is reserved: the storage root itself (no tiering).
//
// Secrets (secret access keys, session tokens, Azure account keys and SAS
// tokens) are write-only: ToJson never includes them, and nothing here logs
// them. A target without credentials of its own uses the standard
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN variables (S3).
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env.h"
#include "tiering/object_store.h"

namespace timestore::tiering {

inline constexpr std::string_view kLocalTarget = "local";

struct StorageTargetConfig {
  std::string id;
  std::string driver;  // "s3", "gcs", "azure_blob" (and "memory" in tests)
  // s3 and gcs (GCS through its S3-compatible XML API with HMAC keys)
  std::string endpoint;
  std::string region;
  std::string bucket;
  bool force_path_style = false;
  std::string access_key_id;
  std::string secret_access_key;  // secret
  std::string session_token;      // secret
  // azure_blob
  std::string account_name;
  std::string account_key;  // secret
  std::string sas_token;    // secret
  std::string container;
  // all
  std::string prefix;
  double price_per_gb_month = 0;     // USD; 0: the driver's default list price
  uint64_t multipart_threshold = 0;  // 0: the driver's default
  uint64_t part_size = 0;            // 0: the driver's default
  // Where it came from: "environment" or "api".
  std::string source = "api";
  // Where its credentials come from: "static", "environment" (AWS_*), "none".
  std::string credentials;

  // "s3://bucket/prefix", "azure://account/container/prefix".
  std::string Location() const;
  // The price used for cost estimates.
  double EffectivePrice() const;
};

// Builds the store of a target (drivers live behind it; tests use memory).
using StoreFactory =
    std::function<absl::StatusOr<std::shared_ptr<ObjectStore>>(const StorageTargetConfig&)>;

// The drivers of this build: s3, gcs, azure_blob.
absl::StatusOr<std::shared_ptr<ObjectStore>> MakeObjectStore(const StorageTargetConfig& config);

// Reads and checks a target from a JSON object (the admin API's body). `id`
// comes from the URL. InvalidArgument naming the field on any bad member.
absl::StatusOr<StorageTargetConfig> ParseStorageTarget(std::string_view id, std::string_view json);
// The JSON of a target without its secrets (hasSecret fields say whether
// they are set).
std::string StorageTargetJson(const StorageTargetConfig& config);
// Checks id, driver and the fields the driver needs. The ids "s3", "gcs" and
// "azure" belong to the environment's target.
absl::Status ValidateStorageTarget(const StorageTargetConfig& config,
                                   bool from_environment = false);
// Reads an Azure connection string ("AccountName=...;AccountKey=...;
// BlobEndpoint=...", or "SharedAccessSignature=...", or
// "UseDevelopmentStorage=true") into `config`'s azure fields.
absl::Status ParseConnectionStringInto(std::string_view connection_string,
                                       StorageTargetConfig* config);
// Sets `credentials` to where they come from ("static", "environment" when
// AWS_* will be used, "none", or Azure's "shared_key" / "sas").
void ResolveCredentials(StorageTargetConfig* config);
// `config` with AWS_* credentials filled in when it has none of its own (S3,
// GCS): what stores are built from. Never persisted.
StorageTargetConfig WithEnvironmentCredentials(StorageTargetConfig config);
// Whether two targets write into the same bucket (or container) and one's
// prefix contains the other's: their orphan sweeps would delete each other's
// objects, so the registry refuses it.
bool Overlaps(const StorageTargetConfig& a, const StorageTargetConfig& b);
// Whether two configs name the same place (driver, store, prefix, region,
// addressing): a change that does not keeps the data it already holds.
bool SameLocation(const StorageTargetConfig& a, const StorageTargetConfig& b);

class StorageTargets {
 public:
  // Loads <root>/storage-targets.json (when present) and adds `from_env`
  // (when set). Stores are built lazily by `factory`.
  static absl::StatusOr<std::unique_ptr<StorageTargets>> Open(
      Env* env, std::string root, std::optional<StorageTargetConfig> from_env,
      StoreFactory factory = MakeObjectStore);

  // The store of target `id`; NotFound when no such target is configured;
  // the factory's error when the store cannot be built.
  absl::StatusOr<std::shared_ptr<ObjectStore>> Store(std::string_view id);
  std::optional<StorageTargetConfig> Get(std::string_view id) const;
  std::vector<StorageTargetConfig> List() const;  // by id
  // The environment's target id, or "" (datasets stay local by default).
  const std::string& default_target() const { return default_target_; }

  // `config` as Put would store it: a replaced target's secrets stay when
  // the new config leaves them out; validated; credentials resolved.
  // FailedPrecondition for the environment's target.
  absl::StatusOr<StorageTargetConfig> Prepare(StorageTargetConfig config) const;
  // Adds or replaces an API target (after Prepare), durably.
  absl::Status Put(StorageTargetConfig config);
  // Removes an API target, durably (the caller checks nothing uses it).
  absl::Status Remove(std::string_view id);

  // The stores built so far, by target id (for metrics: listing them never
  // builds one).
  std::vector<std::pair<std::string, std::shared_ptr<ObjectStore>>> BuiltStores() const;

  // A move pins its target from before its manifest edit until after it, so
  // that the target is neither removed nor pointed elsewhere while a segment
  // is being recorded on it. Released when the Pin goes.
  class Pin {
   public:
    Pin() = default;
    Pin(Pin&& o) noexcept : targets_(std::exchange(o.targets_, nullptr)), id_(std::move(o.id_)) {}
    Pin& operator=(Pin&& o) noexcept;
    ~Pin();

   private:
    friend class StorageTargets;
    StorageTargets* targets_ = nullptr;
    std::string id_;
  };
  // NotFound when the target is not configured or is being changed.
  absl::StatusOr<Pin> PinTarget(std::string_view id);
  // Blocks new pins of `id` and waits for the current ones to go: while the
  // Exclusive lives, no segment is recorded on the target, so a check of its
  // use followed by Remove or Put cannot race with a move.
  class Exclusive {
   public:
    Exclusive(Exclusive&& o) noexcept
        : targets_(std::exchange(o.targets_, nullptr)), id_(std::move(o.id_)) {}
    ~Exclusive();

   private:
    friend class StorageTargets;
    Exclusive(StorageTargets* t, std::string id) : targets_(t), id_(std::move(id)) {}
    StorageTargets* targets_ = nullptr;
    std::string id_;
  };
  Exclusive Quiesce(std::string_view id);

  // For tests: a target whose store is given.
  void AddForTest(StorageTargetConfig config, std::shared_ptr<ObjectStore> store);

 private:
  StorageTargets(Env* env, std::string root, StoreFactory factory)
      : env_(env), root_(std::move(root)), factory_(std::move(factory)) {}
  absl::Status Save();  // under mu_

  Env* const env_;
  const std::string root_;
  const StoreFactory factory_;
  std::string default_target_;
  mutable std::mutex mu_;
  std::map<std::string, StorageTargetConfig, std::less<>> configs_;
  std::map<std::string, std::shared_ptr<ObjectStore>, std::less<>> stores_;
  std::condition_variable pins_cv_;
  std::map<std::string, int, std::less<>> pins_;  // guarded by mu_
  std::set<std::string, std::less<>> quiesced_;   // guarded by mu_
};

}  // namespace timestore::tiering
