#include "tests/e2e/prometheus_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

namespace timestore::testing {

HttpResult Get10(int port, const std::string& target) {
  HttpResult result;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return result;
  }
  timeval tv{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string req = "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return result;
  }
  std::string all;
  char buf[65536];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) all.append(buf, static_cast<size_t>(n));
  ::close(fd);
  size_t head_end = all.find("\r\n\r\n");
  if (head_end == std::string::npos || all.size() < 12) return result;
  result.status = std::atoi(all.c_str() + all.find(' ') + 1);
  result.body = all.substr(head_end + 4);
  return result;
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

PrometheusProcess::PrometheusProcess(std::string dir, const std::string& config)
    : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ + "/prometheus.yml") << config;
}

PrometheusProcess::~PrometheusProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);  // its TSDB is a temporary directory: nothing to keep
    ::waitpid(pid_, nullptr, 0);
  }
}

bool PrometheusProcess::Start() {
  port_ = PickFreePort();
  const std::string log = dir_ + "/prometheus.log";
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::string config = "--config.file=" + dir_ + "/prometheus.yml";
    std::string tsdb = "--storage.tsdb.path=" + dir_ + "/tsdb";
    std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
    ::execl(kPrometheusBinary, kPrometheusBinary, config.c_str(), tsdb.c_str(), listen.c_str(),
            "--log.level=warn", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    if (Get10(port_, "/-/ready").status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string PrometheusProcess::log() const {
  std::ifstream in(dir_ + "/prometheus.log");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace timestore::testing
