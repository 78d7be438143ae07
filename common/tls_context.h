// The server side of TLS, shared by the HTTP and PostgreSQL protocol
// servers: a certificate chain and key (PEM), optionally a client CA that
// every client must present a certificate from (mTLS), TLS 1.2 and later.
//
// Reload swaps the whole OpenSSL context: handshakes that begin afterwards
// use the new certificate, connections already up keep the context they
// started with (each holds it by shared_ptr), and a reload that fails
// leaves the old context in place.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace timestore {

struct TlsFiles {
  std::string cert_file;       // PEM: the server certificate, then its chain
  std::string key_file;        // PEM: the private key of that certificate
  std::string client_ca_file;  // PEM: CAs for client certificates ("" = no mTLS)

  // True when any file is named (then cert and key must both be).
  bool configured() const {
    return !cert_file.empty() || !key_file.empty() || !client_ca_file.empty();
  }
};

// Thread-safe.
class TlsContext {
 public:
  // Loads and checks the files: each must be readable PEM, the key must
  // match the certificate. Errors name the file and what is wrong with it.
  // An expired or not-yet-valid certificate loads (clients refuse it) but is
  // named in `warning()`.
  static absl::StatusOr<std::shared_ptr<TlsContext>> Load(TlsFiles files);

  // Reads the same paths again (after a certificate rotation). On error the
  // current context stays and the error is returned.
  absl::Status Reload();

  // The context new connections should use. Keep the pointer for the
  // connection's lifetime: the stream refers to it.
  std::shared_ptr<boost::asio::ssl::context> Current() const;

  // "subject ..., serial ..., expires ..." of the certificate in use, for logs.
  std::string Describe() const;
  // Non-empty when the certificate in use is outside its validity period.
  std::string warning() const;
  bool requires_client_certificate() const { return !files_.client_ca_file.empty(); }
  const TlsFiles& files() const { return files_; }

 private:
  explicit TlsContext(TlsFiles files) : files_(std::move(files)) {}

  struct Loaded {
    std::shared_ptr<boost::asio::ssl::context> context;
    std::string description;
    std::string warning;
  };
  static absl::StatusOr<Loaded> Build(const TlsFiles& files);

  const TlsFiles files_;
  mutable std::mutex mu_;
  Loaded current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace timestore
