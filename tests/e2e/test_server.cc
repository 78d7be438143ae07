#include "tests/e2e/test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <simdjson.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace timestore::testing {

// TIMESTORE_TEST_BINARY overrides the binary built with the tests: a long soak
// runs a copy, so that a rebuild meanwhile does not replace it under the run.
const char* TimestoreBinary() {
  const char* b = std::getenv("TIMESTORE_TEST_BINARY");
  return b != nullptr && *b != '\0' ? b : TIMESTORE_BINARY;
}

std::string MakeTempDir() {
  char tmpl[] = "/tmp/timestore-e2e-XXXXXX";
  return mkdtemp(tmpl);
}

std::pair<int, std::string> Shell(const std::string& cmd) {
  std::string out;
  FILE* f = popen((cmd + " 2>&1").c_str(), "r");
  if (f == nullptr) return {-1, ""};
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  int rc = pclose(f);
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
}

std::pair<int, std::string> VerifyStorageRoot(const std::string& storage_root) {
  return Shell(std::string(TimestoreBinary()) + " verify '" + storage_root + "'");
}

uint64_t DirectoryBytes(const std::string& dir) {
  std::error_code ec;
  uint64_t total = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::error_code size_ec;
    if (e.is_regular_file(size_ec)) total += e.file_size(size_ec);
  }
  return total;
}

HttpClient::~HttpClient() { Close(); }

void HttpClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_.clear();
}

bool HttpClient::Connect() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    Close();
    return false;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  timeval tv{60, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return true;
}

HttpResult HttpClient::Request(const std::string& method, const std::string& target,
                               const std::string& body,
                               const std::vector<std::pair<std::string, std::string>>& headers) {
  HttpResult result;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (fd_ < 0 && !Connect()) return result;
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    req += body;
    size_t sent = 0;
    bool ok = true;
    while (sent < req.size()) {
      ssize_t n = ::send(fd_, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        ok = false;
        break;
      }
      sent += static_cast<size_t>(n);
    }
    // Read the head.
    size_t head_end = std::string::npos;
    while (ok && (head_end = buf_.find("\r\n\r\n")) == std::string::npos) {
      char tmp[65536];
      ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
      if (n <= 0) {
        ok = false;
        break;
      }
      buf_.append(tmp, static_cast<size_t>(n));
    }
    if (!ok) {
      // A keep-alive connection closed by the server: retry once on a new one.
      bool fresh = attempt == 0 && buf_.empty();
      Close();
      if (fresh) continue;
      return result;
    }
    std::string head = buf_.substr(0, head_end);
    buf_.erase(0, head_end + 4);
    result.status = std::atoi(head.c_str() + head.find(' ') + 1);
    size_t pos = head.find("\r\n");
    while (pos != std::string::npos) {
      size_t next = head.find("\r\n", pos + 2);
      std::string line =
          head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t v = line.find_first_not_of(' ', colon + 1);
        result.headers[name] = v == std::string::npos ? "" : line.substr(v);
      }
      pos = next;
    }
    size_t length = std::strtoull(result.headers["content-length"].c_str(), nullptr, 10);
    while (buf_.size() < length) {
      char tmp[65536];
      ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
      if (n <= 0) {
        Close();
        result.status = 0;
        return result;
      }
      buf_.append(tmp, static_cast<size_t>(n));
    }
    result.body = buf_.substr(0, length);
    buf_.erase(0, length);
    if (result.headers["connection"] == "close") Close();
    return result;
  }
  return result;
}

int PickFreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

int TestServer::pg_port() const {
  auto it = env_.find("TIMESTORE_PG_PORT");
  return it == env_.end() ? 0 : std::atoi(it->second.c_str());
}

TestServer::TestServer(std::string root, std::map<std::string, std::string> env)
    : root_(std::move(root)), env_(std::move(env)), log_(root_ + "/server.log") {}

TestServer::~TestServer() {
  if (pid_ > 0) Stop(SIGKILL);
}

bool TestServer::Start() {
  std::string port_file = root_ + "/port";
  ::unlink(port_file.c_str());
  pid_ = ::fork();
  if (pid_ == 0) {
    int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    // Tests talk to the server without tokens unless they ask for an auth
    // mode (the product's default is token).
    ::setenv("TIMESTORE_AUTH", "none", 1);
    for (const auto& [k, v] : env_) ::setenv(k.c_str(), v.c_str(), 1);
    std::string data = root_ + "/data";
    // Quiet logs unless the test asks for a level (the flag beats the variable).
    auto level = env_.find("TIMESTORE_LOG_LEVEL");
    const std::string log_level = level == env_.end() ? "warn" : level->second;
    ::execl(TimestoreBinary(), TimestoreBinary(), "serve", "--host", "127.0.0.1", "--port", "0",
            "--port-file", port_file.c_str(), "--storage-root", data.c_str(), "--log-level",
            log_level.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    int status;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::ifstream in(port_file);
    if (in >> port_ && port_ > 0) {
      HttpClient c(port_);
      if (c.Get("/ready").status == 200) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(ready_poll_ms_));
  }
  return false;
}

int TestServer::Stop(int signal) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signal);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

HttpHeaders BearerHeaders(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

HttpHeaders BearerJsonHeaders(const std::string& token) {
  return {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
}

std::string ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Gzip(std::string_view in) { return Deflate(in, 16 + MAX_WBITS); }

std::string Deflate(std::string_view in, int window_bits) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string ShellQuote(const std::string& s) { return "'" + s + "'"; }

std::string JsonMember(const std::string& text, const char* key) {
  size_t open = text.find('{');
  if (open == std::string::npos) return "";
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (p.parse(text.substr(open, text.rfind('}') + 1 - open)).get(doc)) return "";
  std::string_view v;
  if (doc[key].get(v)) return "";
  return std::string(v);
}

}  // namespace timestore::testing
