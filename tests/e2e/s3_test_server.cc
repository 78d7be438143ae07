#include "tests/e2e/s3_test_server.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "common/json_writer.h"
#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

using Steady = std::chrono::steady_clock;
// Generous: node and python start slowly on a loaded two-core machine.
constexpr auto kStartTimeout = std::chrono::seconds(60);

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Forks and execs `argv` with stdout and stderr to `log` and `env` added; the
// child dies with this process.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log,
            const std::vector<std::pair<std::string, std::string>>& env) {
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(126);  // the parent died before prctl
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
  }
  const int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull >= 0) ::dup2(devnull, 0);
  for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
  ::_exit(127);
}

void Kill(pid_t* pid) {
  if (*pid <= 0) return;
  ::kill(*pid, SIGKILL);
  int status = 0;
  ::waitpid(*pid, &status, 0);
  *pid = -1;
}

bool Exited(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == pid;
}

bool IsExecutable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

// "node" somewhere on PATH.
bool HaveOnPath(const std::string& name) {
  const char* path = ::getenv("PATH");
  std::stringstream ss(path == nullptr ? "" : path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (!dir.empty() && IsExecutable(dir + "/" + name)) return true;
  }
  return false;
}

std::string JsonString(const std::string& s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

}  // namespace

const char* SourceDir() { return TIMESTORE_SOURCE_DIR; }

namespace {
ProxyFault MakeFault(std::string action, std::string method, int count) {
  ProxyFault f;
  f.action = std::move(action);
  f.method = std::move(method);
  f.count = count;
  return f;
}
}  // namespace

ProxyFault ProxyFault::Error(int status, std::string code, std::string method, int count) {
  ProxyFault f = MakeFault("error", std::move(method), count);
  f.status = status;
  f.code = std::move(code);
  return f;
}

ProxyFault ProxyFault::Delay(int ms, std::string method, int count) {
  ProxyFault f = MakeFault("delay", std::move(method), count);
  f.delay_ms = ms;
  return f;
}

ProxyFault ProxyFault::Drop(std::string method, int count) {
  return MakeFault("drop", std::move(method), count);
}

ProxyFault ProxyFault::Reset(std::string method, int count) {
  return MakeFault("reset", std::move(method), count);
}

ProxyFault ProxyFault::Truncate(int bytes, std::string method, int count) {
  ProxyFault f = MakeFault("truncate", std::move(method), count);
  f.bytes = bytes;
  return f;
}

ProxyFault ProxyFault::Short(int bytes, std::string method, int count) {
  ProxyFault f = MakeFault("short", std::move(method), count);
  f.bytes = bytes;
  return f;
}

std::string S3rverPath() {
  return std::string(SourceDir()) + "/tests/node/node_modules/.bin/s3rver";
}

S3TestServer::S3TestServer(S3TestServerOptions options) : options_(std::move(options)) {
  if (options_.buckets.empty()) options_.buckets.push_back("timestore-test");
}

S3TestServer::~S3TestServer() {
  Kill(&proxy_pid_);
  Kill(&s3rver_pid_);
  if (root_.empty()) return;
  if (::getenv("TIMESTORE_KEEP_TEST_DIRS") != nullptr) {
    std::fprintf(stderr, "S3TestServer: kept %s (logs: s3rver.log, proxy.log)\n", root_.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

bool S3TestServer::Fail(std::string message) {
  error_ = std::move(message);
  Kill(&proxy_pid_);
  Kill(&s3rver_pid_);
  return false;
}

bool S3TestServer::Start() {
  const std::string s3rver = S3rverPath();
  if (!std::filesystem::exists(s3rver)) {
    return Fail("s3rver is not installed at " + s3rver +
                ": run scripts/install-deps.sh (or `npm ci` in tests/node) to install the "
                "test peers (s3rver 3.7.1, Node.js 20)");
  }
  if (!HaveOnPath("node")) {
    return Fail("node is not on PATH: install Node.js 20 (scripts/install-deps.sh) for s3rver");
  }
  root_ = MakeTempDir();
  data_dir_ = root_ + "/data";
  std::filesystem::create_directories(data_dir_);

  // s3rver on port 0; it prints the port it got.
  const std::string s3rver_log = root_ + "/s3rver.log";
  std::vector<std::string> argv = {"node",      s3rver, "-d", data_dir_, "-a",
                                   "127.0.0.1", "-p",   "0",  "--silent"};
  for (const std::string& b : options_.buckets) {
    argv.push_back("--configure-bucket");
    argv.push_back(b);
  }
  // Node 20's OpenSSL 3 lacks the cipher s3rver's continuation tokens use.
  s3rver_pid_ = Spawn(argv, s3rver_log, {{"NODE_OPTIONS", "--openssl-legacy-provider"}});
  const std::regex listening(R"(listening on [0-9.]+:([0-9]+))");
  const auto deadline = Steady::now() + kStartTimeout;
  while (s3rver_port_ == 0) {
    std::smatch m;
    const std::string log = ReadAll(s3rver_log);
    if (std::regex_search(log, m, listening)) {
      s3rver_port_ = std::stoi(m[1]);
      break;
    }
    if (Exited(s3rver_pid_)) {
      s3rver_pid_ = -1;
      return Fail("s3rver exited at start: " + log);
    }
    if (Steady::now() > deadline) return Fail("s3rver did not start in time: " + log);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (const std::string& b : options_.buckets) {
    if (!std::filesystem::is_directory(data_dir_ + "/" + b)) {
      return Fail("s3rver did not create bucket " + b);
    }
  }
  if (!options_.proxy) return true;

  const std::string proxy = std::string(SourceDir()) + "/tests/tiering/s3_proxy.py";
  if (!IsExecutable("/usr/bin/python3")) {
    return Fail("/usr/bin/python3 is missing: install Debian's python3 and python3-botocore");
  }
  const std::string port_file = root_ + "/proxy.port";
  const std::string proxy_log = root_ + "/proxy.log";
  proxy_pid_ = Spawn({"/usr/bin/python3", proxy, "--upstream",
                      "127.0.0.1:" + std::to_string(s3rver_port_), "--port", "0", "--port-file",
                      port_file, "--latency-ms", std::to_string(options_.proxy_latency_ms)},
                     proxy_log, {});
  while (true) {
    std::ifstream in(port_file);
    if (in >> proxy_port_ && proxy_port_ > 0) {
      HttpClient c(proxy_port_);
      if (c.Get("/__proxy__/health").status == 200) return true;
    }
    proxy_port_ = 0;
    if (Exited(proxy_pid_)) {
      proxy_pid_ = -1;
      return Fail(
          "s3_proxy.py exited at start (is python3-botocore installed? "
          "scripts/install-deps.sh): " +
          ReadAll(proxy_log));
    }
    if (Steady::now() > deadline) return Fail("s3_proxy.py did not start in time");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string S3TestServer::endpoint() const { return "http://127.0.0.1:" + std::to_string(port()); }

std::string S3TestServer::s3rver_endpoint() const {
  return "http://127.0.0.1:" + std::to_string(s3rver_port_);
}

std::string S3TestServer::ObjectPath(const std::string& bucket, const std::string& key) const {
  return data_dir_ + "/" + bucket + "/" + key + "._S3rver_object";
}

bool S3TestServer::ProxyPost(const std::string& path, const std::string& body) {
  if (proxy_port_ <= 0) return false;
  HttpClient c(proxy_port_);
  return c.Post(path, body, {{"Content-Type", "application/json"}}).status == 200;
}

bool S3TestServer::SetLatency(int ms) {
  return ProxyPost("/__proxy__/faults", "{\"latency_ms\": " + std::to_string(ms) + "}");
}

bool S3TestServer::InjectFaults(const std::vector<ProxyFault>& faults, bool append) {
  std::string json = "{\"append\": ";
  json += append ? "true" : "false";
  json += ", \"rules\": [";
  for (size_t i = 0; i < faults.size(); ++i) {
    const ProxyFault& f = faults[i];
    if (i > 0) json += ", ";
    json += "{\"action\": " + JsonString(f.action) + ", \"method\": " + JsonString(f.method) +
            ", \"path\": " + JsonString(f.path) + ", \"query\": " + JsonString(f.query) +
            ", \"count\": " + std::to_string(f.count) + ", \"skip\": " + std::to_string(f.skip) +
            ", \"status\": " + std::to_string(f.status) + ", \"code\": " + JsonString(f.code) +
            ", \"delay_ms\": " + std::to_string(f.delay_ms) +
            ", \"bytes\": " + std::to_string(f.bytes) + "}";
  }
  json += "]}";
  return ProxyPost("/__proxy__/faults", json);
}

bool S3TestServer::ClearFaults() { return ProxyPost("/__proxy__/faults", "{\"rules\": []}"); }

bool S3TestServer::ResetProxy() { return ProxyPost("/__proxy__/reset", ""); }

std::map<std::string, int64_t> S3TestServer::ProxyStats() {
  std::map<std::string, int64_t> out;
  if (proxy_port_ <= 0) return out;
  HttpClient c(proxy_port_);
  const HttpResult r = c.Get("/__proxy__/stats?format=text");
  std::stringstream ss(r.body);
  std::string name;
  int64_t value;
  while (ss >> name >> value) out[name] = value;
  return out;
}

int64_t S3TestServer::ProxyStat(const std::string& name) {
  const auto stats = ProxyStats();
  auto it = stats.find(name);
  return it == stats.end() ? 0 : it->second;
}

std::vector<std::string> S3TestServer::ProxyLog() {
  std::vector<std::string> out;
  if (proxy_port_ <= 0) return out;
  HttpClient c(proxy_port_);
  std::stringstream ss(c.Get("/__proxy__/log?format=text").body);
  std::string line;
  while (std::getline(ss, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

int S3TestServer::RunAwsCli(const std::string& args, std::string* output) {
  // No user configuration, no instance metadata lookups, no pager.
  const std::string command =
      "env -i PATH=/usr/bin:/bin HOME=" + root_ + " AWS_ACCESS_KEY_ID=" + kAccessKey +
      " AWS_SECRET_ACCESS_KEY=" + kSecretKey + " AWS_DEFAULT_REGION=" + kRegion +
      " AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null"
      " AWS_EC2_METADATA_DISABLED=true AWS_PAGER= /usr/bin/aws --endpoint-url " +
      endpoint() + " " + args + " 2>&1";
  output->clear();
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return -1;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) output->append(buf.data(), n);
  const int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::map<std::string, std::string> S3StorageServerEnv(const S3TestServer& s3) {
  return {{"TIMESTORE_STORAGE_DRIVER", "s3"},
          {"TIMESTORE_S3_BUCKET", s3.bucket()},
          {"TIMESTORE_S3_ENDPOINT", s3.endpoint()},
          {"TIMESTORE_S3_FORCE_PATH_STYLE", "true"},
          {"TIMESTORE_S3_REGION", S3TestServer::kRegion},
          {"TIMESTORE_S3_ACCESS_KEY_ID", S3TestServer::kAccessKey},
          {"TIMESTORE_S3_SECRET_ACCESS_KEY", S3TestServer::kSecretKey},
          {"TIMESTORE_S3_PREFIX", "ts"},
          {"TIMESTORE_TIERING_INTERVAL", "1h"},
          {"TIMESTORE_COMPACTION_ENABLED", "false"}};
}

}  // namespace timestore::testing
