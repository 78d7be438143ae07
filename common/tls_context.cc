#include "common/tls_context.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "common/strings.h"

namespace timestore {
namespace {

namespace ssl = boost::asio::ssl;

// Everything on OpenSSL's error queue of this thread, oldest first, and
// clears it.
std::string TakeOpenSslErrors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out.append("; ");
    out.append(buf);
  }
  return out.empty() ? "no detail from OpenSSL" : out;
}

// OpenSSL's own messages for a missing file are poor ("system library"), so
// readability is checked first, with errno's words.
absl::Status CheckReadable(std::string_view what, const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        StrCat(what, " ", path, ": cannot open: ", std::strerror(errno)));
  }
  char c;
  const ssize_t n = ::read(fd, &c, 1);
  const int read_errno = errno;
  ::close(fd);
  if (n < 0) {
    return absl::InvalidArgumentError(
        StrCat(what, " ", path, ": cannot read: ", std::strerror(read_errno)));
  }
  if (n == 0) return absl::InvalidArgumentError(StrCat(what, " ", path, ": the file is empty"));
  return absl::OkStatus();
}

// A key protected by a passphrase would make OpenSSL prompt on the terminal;
// refuse it instead.
int NoPassphrase(char*, int, int, void*) { return 0; }

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

std::string Describe(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return "";
  std::string out = "subject ";
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  out.append(BioText(bio));
  (void)BIO_reset(bio);
  std::string serial = "?";
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      serial = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  ASN1_TIME_print(bio, X509_get0_notAfter(cert));
  out.append(StrCat(", serial ", serial, ", expires ", BioText(bio)));
  BIO_free(bio);
  return out;
}

}  // namespace

absl::StatusOr<TlsContext::Loaded> TlsContext::Build(const TlsFiles& files) {
  if (files.cert_file.empty() || files.key_file.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both a certificate and a private key file (only one was given)");
  }
  if (auto s = CheckReadable("TLS certificate", files.cert_file); !s.ok()) return s;
  if (auto s = CheckReadable("TLS private key", files.key_file); !s.ok()) return s;
  if (!files.client_ca_file.empty()) {
    if (auto s = CheckReadable("TLS client CA", files.client_ca_file); !s.ok()) return s;
  }

  ERR_clear_error();
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    return absl::InternalError(StrCat("TLS: cannot require TLS 1.2: ", TakeOpenSslErrors()));
  }
  // Ciphers: OpenSSL's defaults, which at TLS 1.2 and later are AEAD suites
  // with forward secrecy first.
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_default_passwd_cb(ctx, NoPassphrase);
  static constexpr unsigned char kSessionContext[] = "timestore";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);

  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert_file.c_str()) != 1) {
    return absl::InvalidArgumentError(StrCat("TLS certificate ", files.cert_file,
                                             ": not a PEM certificate chain (", TakeOpenSslErrors(),
                                             ")"));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, files.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    // OpenSSL checks the pair as it loads the key.
    const unsigned long last = ERR_peek_last_error();
    if (ERR_GET_LIB(last) == ERR_LIB_X509 && ERR_GET_REASON(last) == X509_R_KEY_VALUES_MISMATCH) {
      return absl::InvalidArgumentError(StrCat("TLS private key ", files.key_file,
                                               " does not match the certificate ", files.cert_file,
                                               " (", TakeOpenSslErrors(), ")"));
    }
    return absl::InvalidArgumentError(StrCat("TLS private key ", files.key_file,
                                             ": not an unencrypted PEM private key (",
                                             TakeOpenSslErrors(), ")"));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError(StrCat("TLS private key ", files.key_file,
                                             " does not match the certificate ", files.cert_file,
                                             " (", TakeOpenSslErrors(), ")"));
  }
  if (!files.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, files.client_ca_file.c_str(), nullptr) != 1) {
      return absl::InvalidArgumentError(StrCat("TLS client CA ", files.client_ca_file,
                                               ": no PEM certificate in it (", TakeOpenSslErrors(),
                                               ")"));
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca_file.c_str());
    if (names == nullptr) {
      return absl::InvalidArgumentError(StrCat("TLS client CA ", files.client_ca_file,
                                               ": no PEM certificate in it (", TakeOpenSslErrors(),
                                               ")"));
    }
    SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }

  Loaded loaded;
  X509* cert = SSL_CTX_get0_certificate(ctx);
  if (cert != nullptr) {
    loaded.description = timestore::Describe(cert);
    if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
      loaded.warning = StrCat("TLS certificate ", files.cert_file,
                              " has expired: clients will refuse it (", loaded.description, ")");
    } else if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
      loaded.warning =
          StrCat("TLS certificate ", files.cert_file, " is not valid yet: clients will refuse it (",
                 loaded.description, ")");
    }
  }
  ERR_clear_error();
  loaded.context = std::move(context);
  return loaded;
}

absl::StatusOr<std::shared_ptr<TlsContext>> TlsContext::Load(TlsFiles files) {
  auto loaded = Build(files);
  if (!loaded.ok()) return loaded.status();
  std::shared_ptr<TlsContext> tls(new TlsContext(std::move(files)));
  tls->current_ = *std::move(loaded);
  return tls;
}

absl::Status TlsContext::Reload() {
  auto loaded = Build(files_);
  if (!loaded.ok()) return loaded.status();
  std::lock_guard<std::mutex> lock(mu_);
  current_ = *std::move(loaded);
  return absl::OkStatus();
}

std::shared_ptr<boost::asio::ssl::context> TlsContext::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_.context;
}

std::string TlsContext::Describe() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_.description;
}

std::string TlsContext::warning() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_.warning;
}

}  // namespace timestore
