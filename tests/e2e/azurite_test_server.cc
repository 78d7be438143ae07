#include "tests/e2e/azurite_test_server.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/strings.h"
#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

constexpr char kListening[] = "successfully listens on http://127.0.0.1:";

bool IsExecutable(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// The first `name` on $PATH, or "".
std::string FindOnPath(const std::string& name) {
  const char* path = ::getenv("PATH");
  std::stringstream dirs(path == nullptr ? "/usr/bin:/bin" : path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (IsExecutable(candidate)) return candidate;
  }
  return "";
}

std::string Tail(const std::string& text, size_t bytes = 2000) {
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

}  // namespace

std::string AzuriteBinary() {
  if (const char* env = ::getenv("TIMESTORE_AZURITE"); env != nullptr && *env != '\0') return env;
  return std::string(TIMESTORE_SOURCE_DIR) + "/tests/node/node_modules/.bin/azurite-blob";
}

AzuriteServer::~AzuriteServer() {
  Stop();
  if (!dir_.empty() && !keep_dir_) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

void AzuriteServer::Stop() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);  // its process group: node and anything it started
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

std::string AzuriteServer::Output() const {
  std::ifstream in(log_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string AzuriteServer::endpoint() const {
  return StrCat("http://127.0.0.1:", port_, "/", tiering::kDevStoreAccount);
}

std::string AzuriteServer::ConnectionString() const {
  return StrCat("DefaultEndpointsProtocol=http;AccountName=", account(), ";AccountKey=", key(),
                ";BlobEndpoint=", endpoint(), ";");
}

tiering::AzureOptions AzuriteServer::Options(const std::string& container) const {
  tiering::AzureOptions o;
  o.endpoint = endpoint();
  o.account_name = account();
  o.account_key = key();
  o.container = container;
  o.retry.base_backoff_ms = 5;
  o.retry.max_backoff_ms = 50;
  return o;
}

absl::Status AzuriteServer::CreateContainer(const std::string& name) const {
  tiering::AzureBlobStore store(Options(name));
  return store.CreateContainer();
}

absl::Status AzuriteServer::Start(const std::vector<std::string>& containers) {
  if (pid_ > 0) return absl::FailedPreconditionError("azurite is already running");
  const std::string binary = AzuriteBinary();
  if (!IsExecutable(binary)) {
    return absl::FailedPreconditionError(
        StrCat("azurite is not installed: no executable ", binary,
               ". Install Node.js and npm, then run scripts/install-deps.sh (or "
               "`npm ci --prefix tests/node`), or point TIMESTORE_AZURITE at azurite-blob"));
  }
  if (FindOnPath("node").empty()) {
    return absl::FailedPreconditionError(
        StrCat("azurite needs Node.js, and `node` is not on PATH (", binary,
               " is a node script). Install nodejs (scripts/install-deps.sh does)"));
  }
  if (dir_.empty()) dir_ = MakeTempDir();
  if (dir_.empty()) return absl::InternalError("cannot create a temporary directory for azurite");
  log_ = dir_ + "/azurite.log";
  const char* debug_env = ::getenv("TIMESTORE_AZURITE_DEBUG");
  keep_dir_ = debug_env != nullptr && *debug_env != '\0' && *debug_env != '0';
  const std::string debug_log = dir_ + "/debug.log";
  const std::string data = dir_ + "/data";
  std::filesystem::create_directories(data);

  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) return absl::InternalError("fork failed");
  if (pid_ == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, 0);
    if (::chdir(dir_.c_str()) != 0) ::_exit(126);
    std::vector<std::string> args = {binary,
                                     "--blobHost",
                                     "127.0.0.1",
                                     "--blobPort",
                                     "0",
                                     "--location",
                                     data,
                                     "--skipApiVersionCheck",
                                     "--disableTelemetry"};
    if (keep_dir_) {
      args.push_back("--debug");
      args.push_back(debug_log);
    } else {
      args.push_back("--silent");
    }
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  if (keep_dir_)
    fprintf(stderr, "azurite: keeping %s (debug log: %s)\n", dir_.c_str(), debug_log.c_str());

  // Node takes a second or two to start on a loaded machine; allow far more.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (port_ == 0) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::UnavailableError(StrCat("azurite (", binary, ") exited (status ", status,
                                           ") before listening:\n", Tail(Output())));
    }
    const std::string out = Output();
    if (size_t at = out.find(kListening); at != std::string::npos) {
      const size_t start = at + sizeof(kListening) - 1;
      const size_t end = out.find_first_not_of("0123456789", start);
      if (end != std::string::npos) {
        int port = 0;
        if (!ParseInt(std::string_view(out).substr(start, end - start), &port) || port <= 0) {
          Stop();
          return absl::UnavailableError(StrCat("azurite printed no port:\n", Tail(out)));
        }
        port_ = port;
        break;
      }
    }
    if (std::chrono::steady_clock::now() > deadline) {
      Stop();
      return absl::UnavailableError(
          StrCat("azurite did not listen within 60 s:\n", Tail(Output())));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Listening is not yet answering: retry the first request for a while.
  for (const std::string& name : containers) {
    absl::Status s;
    for (int attempt = 0; attempt < 50; ++attempt) {
      s = CreateContainer(name);
      if (s.ok() || !absl::IsUnavailable(s)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!s.ok()) {
      Stop();
      return absl::Status(s.code(), StrCat("azurite on port ", port_, ": creating container ", name,
                                           ": ", ToStd(s.message()), "\n", Tail(Output())));
    }
  }
  return absl::OkStatus();
}

}  // namespace timestore::testing
