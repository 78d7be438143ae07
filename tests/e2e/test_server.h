// Runs the real `timestore serve` binary on a free loopback port for
// end-to-end tests, and talks HTTP/1.1 to it with a small blocking client.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace timestore::testing {

struct HttpResult {
  int status = 0;  // 0: the connection failed
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

// One keep-alive connection. Not thread-safe: one per thread.
class HttpClient {
 public:
  explicit HttpClient(int port) : port_(port) {}
  ~HttpClient();
  HttpResult Request(const std::string& method, const std::string& target,
                     const std::string& body = "",
                     const std::vector<std::pair<std::string, std::string>>& headers = {});
  HttpResult Post(const std::string& target, const std::string& body,
                  const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return Request("POST", target, body, headers);
  }
  HttpResult Get(const std::string& target) { return Request("GET", target); }

 private:
  bool Connect();
  void Close();
  int port_;
  int fd_ = -1;
  std::string buf_;
};

// The dataset `cpu` of several end-to-end tests: a declared schema and four
// rows, one per host, ten seconds apart (usage_user sums to 163.75).
inline constexpr const char* kCpuRowsJson = R"({
  "schema": {"fields": [{"name": "timestamp", "type": "timestamp"},
                        {"name": "hostname", "type": "string"},
                        {"name": "usage_user", "type": "double"}]},
  "records": [
    {"timestamp": "2024-05-01T12:00:00Z", "hostname": "host_0", "usage_user": 42.5},
    {"timestamp": "2024-05-01T12:00:10Z", "hostname": "host_1", "usage_user": 17},
    {"timestamp": "2024-05-01T12:00:20Z", "hostname": "host_2", "usage_user": 99.25},
    {"timestamp": "2024-05-01T12:00:30Z", "hostname": "host_3", "usage_user": 5}]})";

class TestServer {
 public:
  // `root` is the storage root; `env` adds TIMESTORE_* variables
  // (TIMESTORE_LOG_LEVEL among them sets --log-level, by default warn).
  TestServer(std::string root, std::map<std::string, std::string> env = {});
  ~TestServer();

  // Starts the process and waits until /ready answers 200. Returns false on failure.
  bool Start();
  // Sends `signal` and waits for the process to exit; returns its wait status.
  int Stop(int signal);
  int port() const { return port_; }
  // The PostgreSQL protocol port: TIMESTORE_PG_PORT of `env` (0: off). Set it
  // from PickFreePort(); the server is listening on it once Start returns.
  int pg_port() const;
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_; }
  // The server's storage root: <root>/data.
  std::string storage_root() const { return root_ + "/data"; }
  // How often Start() looks for /ready (default 20 ms; the kill -9 soak
  // measures the time to ready and polls finer).
  void set_ready_poll_ms(int ms) { ready_poll_ms_ = ms; }

 private:
  std::string root_;
  std::map<std::string, std::string> env_;
  std::string log_;
  pid_t pid_ = -1;
  int port_ = 0;
  int ready_poll_ms_ = 20;
};

// The path of the `timestore` binary under test (TIMESTORE_TEST_BINARY, else
// the one built with the tests).
const char* TimestoreBinary();

// A TCP port free on 127.0.0.1 right now, for servers that take a port by
// number (the kernel picks it, so parallel tests do not collide).
int PickFreePort();

// A fresh temporary directory, removed by the caller.
std::string MakeTempDir();

// Runs `timestore verify` on a storage root (of a stopped server); returns its
// exit status (0: every file intact) and its output.
std::pair<int, std::string> VerifyStorageRoot(const std::string& storage_root);

// Bytes of the regular files directly in `dir` (0 when it does not exist).
uint64_t DirectoryBytes(const std::string& dir);

// Runs a shell command (real clients: psql, python3, node); returns its exit
// status (-1 when it did not exit normally) and its stdout and stderr.
std::pair<int, std::string> Shell(const std::string& cmd);

// Request headers for HttpClient.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// "Authorization: Bearer <token>".
HttpHeaders BearerHeaders(const std::string& token);

// "Authorization: Bearer <token>" and "Content-Type: application/json".
HttpHeaders BearerJsonHeaders(const std::string& token);

// The whole content of the file at `path` ("" when it cannot be read).
std::string ReadFileToString(const std::string& path);

// `s` single-quoted for sh (tokens and paths hold no quotes; this keeps it so).
std::string ShellQuote(const std::string& s);

// `in` compressed by zlib's deflate with `window_bits` (MAX_WBITS: a zlib
// stream, for Content-Encoding: deflate; 16 + MAX_WBITS: gzip).
std::string Deflate(std::string_view in, int window_bits);
// `in` compressed as a gzip stream (for Content-Encoding: gzip bodies).
std::string Gzip(std::string_view in);

// The string member `key` of the first JSON object in `text` (the CLI prints
// the server's answer followed by a newline), or "".
std::string JsonMember(const std::string& text, const char* key);

// True under CI (CI set and not "false"), where every real client and server
// the tests drive has been installed by scripts/install-deps.sh.
inline bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && *ci != '\0' && std::string_view(ci) != "false";
}

}  // namespace timestore::testing

// A real client or server the test drives is missing: a failure under CI (a
// skipped test there would pass without testing anything), a skip elsewhere.
#define TIMESTORE_SKIP_WITHOUT(present, what)                                    \
  if (!(present)) {                                                              \
    if (::timestore::testing::InCi()) {                                          \
      FAIL() << what << " is missing; CI installs it (scripts/install-deps.sh)"; \
    }                                                                            \
    GTEST_SKIP() << what << " is missing (scripts/install-deps.sh installs it)"; \
  }

namespace timestore::testing {}  // namespace timestore::testing
