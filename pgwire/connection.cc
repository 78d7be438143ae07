#include "pgwire/connection.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <tuple>

#include "common/strings.h"
#include "pgwire/pg_error.h"
#include "spdlog/spdlog.h"

namespace timestore::pgwire {
namespace {

constexpr size_t kReadChunk = 64 << 10;
// After a FATAL error the client may still be sending (the rest of an
// oversized message, say). Closing with unread bytes makes the kernel send a
// reset, which can destroy the error before the client reads it; so up to
// this much is read and dropped, for at most kLingerTime, first.
constexpr size_t kLingerBytes = 4 << 20;
constexpr auto kLingerTime = std::chrono::seconds(2);

void SetReceiveTimeout(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

// A client that stops reading its answer must not hold a thread and a
// session for ever: a send that makes no progress for this long fails.
constexpr int kSendTimeoutMs = 60'000;

void SetSendTimeout(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

// Startup parameters that are not settings.
bool IsConnectionParameter(std::string_view name) {
  return name == "user" || name == "database" || name == "options" || name == "replication" ||
         name == "application_name" || name == "client_encoding" || name.rfind("_pq_.", 0) == 0;
}

bool IsPlainIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 63 || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') return false;
  return true;
}

std::string QuoteLiteral(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

// The "-c name=value" and "--name=value" settings of the startup "options"
// parameter (PGOPTIONS), where a backslash escapes the next character.
std::vector<std::pair<std::string, std::string>> ParseOptions(std::string_view options,
                                                              std::vector<std::string>* unknown) {
  std::vector<std::string> words(1);
  for (size_t i = 0; i < options.size(); ++i) {
    if (options[i] == '\\' && i + 1 < options.size()) {
      words.back().push_back(options[++i]);
    } else if (std::isspace(static_cast<unsigned char>(options[i]))) {
      if (!words.back().empty()) words.emplace_back();
    } else {
      words.back().push_back(options[i]);
    }
  }
  if (words.back().empty()) words.pop_back();
  std::vector<std::pair<std::string, std::string>> settings;
  for (size_t i = 0; i < words.size(); ++i) {
    std::string_view w = words[i];
    std::string_view setting;
    if (w == "-c" && i + 1 < words.size()) {
      setting = words[++i];
    } else if (w.rfind("-c", 0) == 0 && w.size() > 2) {
      setting = w.substr(2);
    } else if (w.rfind("--", 0) == 0) {
      setting = w.substr(2);
    } else {
      unknown->push_back(std::string(w));
      continue;
    }
    const size_t eq = setting.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      unknown->push_back(std::string(w));
      continue;
    }
    std::string name(setting.substr(0, eq));
    for (char& c : name)
      if (c == '-') c = '_';
    settings.emplace_back(std::move(name), std::string(setting.substr(eq + 1)));
  }
  return settings;
}

}  // namespace

Connection::Connection(int fd, const ConnectionOptions* options, std::string peer)
    : fd_(fd), options_(options), peer_(std::move(peer)), reader_(kMaxAuthMessageBytes) {}

Connection::~Connection() {
  if (pid_ != 0) options_->registry->Unregister(pid_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    protocol_.reset();
    session_.reset();
  }
  if (holds_slot_) options_->registry->ReleaseSlot();
  if (ssl_ != nullptr) SSL_free(ssl_);
  ::close(fd_);
}

ssize_t Connection::Receive(char* p, size_t n) {
  if (ssl_ == nullptr) return ::recv(fd_, p, n, 0);
  while (true) {
    ERR_clear_error();
    const int r = SSL_read(ssl_, p, static_cast<int>(std::min<size_t>(n, INT32_MAX)));
    if (r > 0) return r;
    const int err = SSL_get_error(ssl_, r);
    if (err == SSL_ERROR_ZERO_RETURN) return 0;  // close_notify
    if (err == SSL_ERROR_SYSCALL && errno == EINTR) continue;
    // The receive timeout surfaces as WANT_READ on a blocking socket.
    if (err == SSL_ERROR_WANT_READ) errno = EAGAIN;
    return -1;
  }
}

ssize_t Connection::Send(const char* p, size_t n) {
  if (ssl_ == nullptr) return ::send(fd_, p, n, MSG_NOSIGNAL);
  ERR_clear_error();
  const int r = SSL_write(ssl_, p, static_cast<int>(std::min<size_t>(n, INT32_MAX)));
  if (r > 0) return r;
  if (SSL_get_error(ssl_, r) == SSL_ERROR_SYSCALL && errno == EINTR) {
    errno = EINTR;
  } else {
    errno = EPIPE;
  }
  return -1;
}

bool Connection::StartTls() {
  tls_context_ = options_->tls->Current();
  ssl_ = SSL_new(tls_context_->native_handle());
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) return false;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        *startup_deadline_ - std::chrono::steady_clock::now())
                        .count();
  if (left <= 0) return false;
  SetReceiveTimeout(fd_, static_cast<int>(std::min<int64_t>(left, INT32_MAX)));
  while (true) {
    ERR_clear_error();
    const int r = SSL_accept(ssl_);
    if (r == 1) return true;
    if (SSL_get_error(ssl_, r) == SSL_ERROR_SYSCALL && errno == EINTR) continue;
    char why[256] = "connection closed";
    if (const unsigned long e = ERR_peek_error()) ERR_error_string_n(e, why, sizeof(why));
    spdlog::debug("pgwire {}: TLS handshake failed: {}", peer_, why);
    // Nothing more can be said to this client in the clear or through TLS.
    SSL_free(ssl_);
    ssl_ = nullptr;
    return false;
  }
}

void Connection::CancelStatement() {
  std::lock_guard<std::mutex> lock(mu_);
  if (session_ != nullptr && protocol_ != nullptr && protocol_->executing()) session_->Cancel();
}

void Connection::Shutdown(bool hard) {
  stopping_.store(true, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (session_ != nullptr) session_->Cancel();
  }
  ::shutdown(fd_, hard ? SHUT_RDWR : SHUT_RD);
}

bool Connection::Fill() {
  if (startup_deadline_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          *startup_deadline_ - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return false;
    SetReceiveTimeout(fd_, static_cast<int>(std::min<int64_t>(left, INT32_MAX)));
  }
  while (true) {
    char* p = reader_.PrepareWrite(kReadChunk);
    const ssize_t n = Receive(p, kReadChunk);
    if (n > 0) {
      reader_.Commit(static_cast<size_t>(n));
      return true;
    }
    reader_.Commit(0);
    if (n < 0 && errno == EINTR) continue;
    return false;  // EOF, a reset, or the receive timeout
  }
}

bool Connection::Flush() {
  const std::string& buf = *out_.buffer();
  size_t sent = 0;
  while (sent < buf.size()) {
    const ssize_t n = Send(buf.data() + sent, buf.size() - sent);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      out_.Clear();
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  out_.Clear();
  return true;
}

void Connection::Fatal(const absl::Status& status) {
  ErrorFields e;
  e.severity = "FATAL";
  e.sqlstate = PayloadSqlState(status);
  e.message = std::string(status.message());
  out_.ErrorResponse(e);
  spdlog::debug("pgwire {}: FATAL {} {}", peer_, e.sqlstate, e.message);
  if (!Flush() || stopping_.load(std::memory_order_acquire)) return;
  ::shutdown(fd_, SHUT_WR);
  SetReceiveTimeout(fd_, 200);
  const auto deadline = std::chrono::steady_clock::now() + kLingerTime;
  size_t drained = 0;
  char sink[kReadChunk];
  while (drained < kLingerBytes && std::chrono::steady_clock::now() < deadline) {
    const ssize_t n = ::recv(fd_, sink, sizeof(sink), 0);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) break;
    if (n > 0) drained += static_cast<size_t>(n);
  }
}

void Connection::Run() {
  SetSendTimeout(fd_, kSendTimeoutMs);
  startup_deadline_ =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_->auth_timeout_ms);
  if (!Startup()) return;
  startup_deadline_.reset();
  SetReceiveTimeout(fd_, 0);  // a session may stay idle as long as it likes
  reader_.set_max_message_bytes(options_->max_message_bytes);
  while (true) {
    auto frame = reader_.NextMessage();
    if (!frame.ok()) {
      Fatal(frame.status());
      return;
    }
    if (!frame->has_value()) {
      if (Fill()) continue;
      if (stopping_.load(std::memory_order_acquire)) {
        Fatal(PgError("57P01", "terminating connection due to administrator command"));
      }
      return;
    }
    auto message = DecodeMessage((*frame)->type, (*frame)->body);
    if (!message.ok()) {
      Fatal(message.status());
      return;
    }
    if (protocol_->Handle(*std::move(message)) == QueryProtocol::Next::kClose) {
      Flush();
      return;
    }
  }
}

bool Connection::Startup() {
  int negotiations = 0;
  std::optional<StartupMessage> startup;
  while (!startup) {
    auto body = reader_.NextStartupPacket();
    if (!body.ok()) {
      Fatal(body.status());
      return false;
    }
    if (!body->has_value()) {
      if (!Fill()) return false;
      continue;
    }
    auto packet = DecodeStartupPacket(**body);
    if (!packet.ok()) {
      Fatal(packet.status());
      return false;
    }
    if (auto* cancel = std::get_if<CancelRequest>(&*packet)) {
      // Answered by closing, whether or not it matched (PostgreSQL's way:
      // the requester learns nothing).
      options_->registry->Cancel(cancel->pid, cancel->secret);
      return false;
    }
    if (std::holds_alternative<StartupMessage>(*packet)) {
      if (options_->tls != nullptr && ssl_ == nullptr) {
        // Passwords never cross in the clear.
        Fatal(PgError(sql::sqlstate::kInvalidAuthorization,
                      "TLS is required: connect with sslmode=require or verify-full"));
        return false;
      }
      startup = std::get<StartupMessage>(std::move(*packet));
      continue;
    }
    // SSLRequest or GSSENCRequest, once each. Bytes already sent after the
    // request would be read as plain text by a client that expected
    // encryption: refuse them (CVE-2021-23214).
    if (++negotiations > 2 || ssl_ != nullptr) {
      Fatal(ProtocolViolation("too many encryption requests"));
      return false;
    }
    if (reader_.buffered() != 0) {
      Fatal(ProtocolViolation("received unencrypted data after SSL request"));
      return false;
    }
    const bool tls = options_->tls != nullptr && std::holds_alternative<SslRequest>(*packet);
    out_.buffer()->push_back(tls ? 'S' : 'N');
    if (!Flush()) return false;
    if (tls && !StartTls()) return false;
  }

  // Newer 3.x minors and _pq_ options: tell the client what we speak.
  std::vector<std::string> unsupported;
  for (const auto& [name, value] : startup->params)
    if (name.rfind("_pq_.", 0) == 0) unsupported.push_back(name);
  if ((startup->protocol & 0xffff) != 0 || !unsupported.empty())
    out_.NegotiateProtocolVersion(kProtocolVersion3, unsupported);

  const std::optional<std::string> user = startup->Param("user");
  if (!user || user->empty()) {
    Fatal(PgError(sql::sqlstate::kInvalidAuthorization,
                  "no PostgreSQL user name specified in startup packet"));
    return false;
  }
  if (auto r = startup->Param("replication"); r && *r != "false" && *r != "0" && *r != "off") {
    Fatal(
        PgError(sql::sqlstate::kFeatureNotSupported, "replication connections are not supported"));
    return false;
  }
  if (!options_->registry->ClaimSlot()) {
    Fatal(PgError(sql::sqlstate::kTooManyConnections, "sorry, too many clients already"));
    return false;
  }
  holds_slot_ = true;
  std::vector<std::string> scopes;
  if (!Authenticate(*startup, &scopes)) return false;
  return StartSession(*startup, std::move(scopes));
}

bool Connection::Authenticate(const StartupMessage& startup, std::vector<std::string>* scopes) {
  Authenticator auth(options_->auth, *startup.Param("user"));
  bool done = auth.Start(&out_);
  while (!done) {
    if (!Flush()) return false;
    auto frame = reader_.NextMessage();
    while (frame.ok() && !frame->has_value() && Fill()) frame = reader_.NextMessage();
    if (!frame.ok()) {
      Fatal(frame.status());
      return false;
    }
    if (!frame->has_value()) return false;  // gone, or the authentication timeout
    if ((*frame)->type != 'p') {
      Fatal(ProtocolViolation(
          StrCat("expected password response, got ", MessageName((*frame)->type))));
      return false;
    }
    auto step = auth.Step((*frame)->body, &out_);
    if (!step.ok()) {
      spdlog::info("pgwire {}: authentication of user \"{}\" failed: {}", peer_,
                   *startup.Param("user"), ToStd(step.status().message()));
      if (options_->on_auth_failure) {
        options_->on_auth_failure(peer_, *startup.Param("user"), ToStd(step.status().message()));
      }
      Fatal(step.status());
      return false;
    }
    done = *step;
  }
  out_.AuthenticationOk();
  *scopes = auth.scopes();
  principal_ = auth.principal();
  return true;
}

bool Connection::StartSession(const StartupMessage& startup, std::vector<std::string> scopes) {
  if (auto enc = startup.Param("client_encoding")) {
    std::string norm;
    for (char c : *enc)
      if (c != '-' && c != '_') norm.push_back(static_cast<char>(std::toupper(c)));
    // SQL_ASCII is a subset (libpq asks for it under the C locale).
    if (norm != "UTF8" && norm != "UNICODE" && norm != "SQLASCII") {
      Fatal(PgError(sql::sqlstate::kInvalidParameterValue,
                    StrCat("client_encoding \"", *enc, "\" is not supported: only UTF8")));
      return false;
    }
  }
  sql::SessionOptions so;
  so.user = *startup.Param("user");
  so.database = startup.Param("database").value_or(so.user);
  if (so.database.empty()) so.database = so.user;
  so.application_name = startup.Param("application_name").value_or("");
  so.scopes = std::move(scopes);
  so.principal = principal_;
  auto session = options_->session_factory(so);
  if (!session.ok()) {
    Fatal(PgError(PayloadSqlState(session.status(), sql::sqlstate::kServiceUnavailable),
                  ToStd(session.status().message())));
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    session_ = *std::move(session);
    protocol_ = std::make_unique<QueryProtocol>(session_.get(), &out_, [this] { return Flush(); });
  }
  ApplyStartupSettings(startup);
  protocol_->ReportSettings();
  int32_t secret;
  std::tie(pid_, secret) = options_->registry->Register(this);
  out_.BackendKeyData(pid_, secret);
  out_.ReadyForQuery(session_->transaction_status());
  return Flush();
}

void Connection::ApplyStartupSettings(const StartupMessage& startup) {
  std::vector<std::pair<std::string, std::string>> settings;
  std::vector<std::string> unknown;
  for (const auto& [name, value] : startup.params) {
    if (name == "options") {
      for (auto& s : ParseOptions(value, &unknown)) settings.push_back(std::move(s));
    } else if (!IsConnectionParameter(name)) {
      settings.emplace_back(name, value);
    }
  }
  auto warn = [this](std::string message) {
    ErrorFields w;
    w.severity = "WARNING";
    w.sqlstate = "01000";
    w.message = std::move(message);
    out_.NoticeResponse(w);
  };
  for (const auto& word : unknown)
    warn(StrCat("startup option \"", word, "\" ignored: only -c name=value and --name=value"));
  // Settings go through the session's own SET, so they are checked and
  // shown exactly as a SET statement would be. One the session refuses is
  // reported and skipped rather than refusing the connection: drivers send
  // settings (extra_float_digits, DateStyle) that may not all be known.
  for (const auto& [name, value] : settings) {
    if (!IsPlainIdentifier(name)) {
      warn(StrCat("startup parameter \"", name, "\" ignored: not a setting name"));
      continue;
    }
    absl::Status status;
    auto prepared = session_->Prepare(StrCat("SET ", name, " TO ", QuoteLiteral(value)), {});
    if (prepared.ok()) {
      status = session_->Execute(*prepared, {}).status();
    } else {
      status = prepared.status();
    }
    if (!status.ok()) {
      warn(StrCat("startup parameter \"", name, "\" ignored: ", ToStd(status.message())));
    }
  }
}

}  // namespace timestore::pgwire
