// Runs Microsoft's Azure Storage emulator, azurite (blob service only), for
// tests: on a free 127.0.0.1 port (it is started with --blobPort 0 and the
// port it prints is read back, so there is no race for a port), its data in a
// fresh temporary directory, with the well-known development account
// devstoreaccount1. azurite verifies Shared Key and SAS signatures.
//
// azurite comes from tests/node (npm ci, done by scripts/install-deps.sh) and
// needs Node.js. The same server from a shell:
//
//   tests/node/node_modules/.bin/azurite-blob --blobHost 127.0.0.1 --blobPort 10000
//       --location /tmp/azurite --skipApiVersionCheck --disableTelemetry --silent
//
// (one command line; --blobPort 0 picks a free port and prints it).
//
// (--debug <file> instead of --silent logs every request with the string it
// signed; set TIMESTORE_AZURITE_DEBUG=1 to get that here, in a directory that
// is then kept.) TIMESTORE_AZURITE overrides the path of azurite-blob.
//
// Not thread-safe. Create it on the main thread: the child is killed when the
// thread that started it exits (PR_SET_PDEATHSIG), so a crashed test leaves
// no azurite behind.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tiering/azure_blob_store.h"

namespace timestore::testing {

class AzuriteServer {
 public:
  AzuriteServer() = default;
  ~AzuriteServer();  // kills azurite and removes its directory
  AzuriteServer(const AzuriteServer&) = delete;
  AzuriteServer& operator=(const AzuriteServer&) = delete;

  // Starts azurite, waits until it answers and creates `containers`.
  // FailedPrecondition naming what to install when azurite or node is
  // missing; Unavailable with the end of its output when it does not come up.
  absl::Status Start(const std::vector<std::string>& containers = {"timestore"});
  // Create Container (OK when it exists).
  absl::Status CreateContainer(const std::string& name) const;
  // Kills azurite (SIGKILL) and waits for it; the directory stays until destruction.
  void Stop();

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& dir() const { return dir_; }
  std::string account() const { return tiering::kDevStoreAccount; }
  std::string key() const { return tiering::kDevStoreKey; }
  // "http://127.0.0.1:<port>/devstoreaccount1"
  std::string endpoint() const;
  // "DefaultEndpointsProtocol=http;AccountName=...;AccountKey=...;BlobEndpoint=...;"
  std::string ConnectionString() const;
  // Shared Key options for `container`, with fast retries for tests.
  tiering::AzureOptions Options(const std::string& container = "timestore") const;
  // What azurite printed (its log, or its start-up lines with --silent).
  std::string Output() const;

 private:
  std::string dir_;
  std::string log_;
  pid_t pid_ = -1;
  int port_ = 0;
  bool keep_dir_ = false;
};

// The azurite-blob script: $TIMESTORE_AZURITE, else
// <source dir>/tests/node/node_modules/.bin/azurite-blob.
std::string AzuriteBinary();

}  // namespace timestore::testing
