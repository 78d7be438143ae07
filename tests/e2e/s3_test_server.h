// S3TestServer: a real S3-compatible server for tests. Starts s3rver
// (tests/node/node_modules/.bin/s3rver, installed by scripts/install-deps.sh)
// on a free 127.0.0.1 port with a fresh data directory and the buckets
// created, optionally behind tests/tiering/s3_proxy.py, which checks every
// request's SigV4 signature with botocore and injects faults and latency.
// The destructor kills both processes and removes the directory (kept, with
// both logs, when TIMESTORE_KEEP_TEST_DIRS is set); both processes also die
// with the test process (PR_SET_PDEATHSIG) if it crashes.
//
//   S3TestServer s3;
//   ASSERT_TRUE(s3.Start()) << s3.error();
//   options.endpoint = s3.endpoint();  // the proxy's, when there is one
//   s3.InjectFaults({ProxyFault::Error(503, "SlowDown", "GET", 2)});
//   EXPECT_EQ(s3.ProxyStat("requests.GET"), 3);
//
// Credentials S3RVER / S3RVER, region us-east-1, path-style URLs (s3rver
// takes any host that is an IP address as path-style).
//
// Not thread-safe (the proxy itself serves any number of connections).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace timestore::testing {

// One fault rule of the proxy (see tests/tiering/s3_proxy.py): the first rule
// matching a request acts on it.
//   ProxyFault::Error(503, "SlowDown", "GET", 2)          the next 2 GETs
//   ProxyFault::Error(500, "InternalError", "PUT", -1).OnQuery("partNumber=4&")
//   ProxyFault::Delay(3000, "GET")                         every GET, 3 s late
struct ProxyFault {
  std::string action = "error";   // error | drop | reset | delay | truncate | short
  std::string method;             // "PUT"; empty: any
  std::string path;               // regex searched in the raw path ("/bucket/key%20x")
  std::string query;              // regex searched in the raw query ("partNumber=3&")
  int count = 1;                  // matches it acts on; -1: all
  int skip = 0;                   // matches let through first
  int status = 503;               // error: the HTTP status (200 allowed)
  std::string code = "SlowDown";  // error: the S3 error code
  int delay_ms = 0;               // delay
  int bytes = 0;                  // truncate / short: body bytes kept

  // Answer `status` with an S3 <Error> of `code`.
  static ProxyFault Error(int status, std::string code, std::string method = "", int count = 1);
  // Wait `ms`, then forward.
  static ProxyFault Delay(int ms, std::string method = "", int count = -1);
  // Close the connection without an answer, or with a TCP RST.
  static ProxyFault Drop(std::string method = "", int count = 1);
  static ProxyFault Reset(std::string method = "", int count = 1);
  // Forward, then cut the body after `bytes` and close (the framing promises
  // more), or keep `bytes` bytes framed as the whole answer.
  static ProxyFault Truncate(int bytes, std::string method = "", int count = 1);
  static ProxyFault Short(int bytes, std::string method = "", int count = 1);
  ProxyFault& OnPath(std::string regex) {
    path = std::move(regex);
    return *this;
  }
  ProxyFault& OnQuery(std::string regex) {
    query = std::move(regex);
    return *this;
  }
  ProxyFault& Skip(int n) {
    skip = n;
    return *this;
  }
};

struct S3TestServerOptions {
  std::vector<std::string> buckets = {"timestore-test"};
  bool proxy = true;  // false: tests talk to s3rver directly
  int proxy_latency_ms = 0;
};

class S3TestServer {
 public:
  static constexpr char kAccessKey[] = "S3RVER";
  static constexpr char kSecretKey[] = "S3RVER";
  static constexpr char kRegion[] = "us-east-1";

  explicit S3TestServer(S3TestServerOptions options = {});
  ~S3TestServer();
  S3TestServer(const S3TestServer&) = delete;
  S3TestServer& operator=(const S3TestServer&) = delete;

  // Starts s3rver (and the proxy) and waits until they answer. False with
  // error() saying why, naming what to install when something is missing.
  bool Start();
  const std::string& error() const { return error_; }

  // "http://127.0.0.1:<port>" of the proxy when there is one, else of s3rver.
  std::string endpoint() const;
  int port() const { return proxy_port_ > 0 ? proxy_port_ : s3rver_port_; }
  std::string s3rver_endpoint() const;
  int s3rver_port() const { return s3rver_port_; }
  int proxy_port() const { return proxy_port_; }  // 0: no proxy
  const std::string& bucket() const { return options_.buckets.front(); }
  // s3rver's data: an object is <data_dir>/<bucket>/<key>._S3rver_object
  // (its metadata beside it in <key>._S3rver_metadata.json).
  const std::string& data_dir() const { return data_dir_; }
  std::string ObjectPath(const std::string& bucket, const std::string& key) const;
  // The temporary directory holding the data and both logs.
  const std::string& root() const { return root_; }

  // Proxy control; false when there is no proxy or it did not answer.
  bool SetLatency(int ms);
  bool InjectFaults(const std::vector<ProxyFault>& faults, bool append = false);
  bool ClearFaults();
  // Clears faults, latency, counters and the request log.
  bool ResetProxy();
  // Counters ("requests", "requests.GET", "status.503", "bytes_in",
  // "bytes_out", "signature_failures", "faults", "connections").
  std::map<std::string, int64_t> ProxyStats();
  int64_t ProxyStat(const std::string& name);  // 0 when absent
  // The requests forwarded or answered since the last reset, oldest first,
  // as "METHOD STATUS TARGET" (0: dropped).
  std::vector<std::string> ProxyLog();

  // Runs `/usr/bin/aws --endpoint-url <endpoint()> <args>` with this server's
  // credentials and no user configuration; returns the exit status and puts
  // stdout and stderr in `*output`.
  int RunAwsCli(const std::string& args, std::string* output);

 private:
  bool Fail(std::string message);
  bool ProxyPost(const std::string& path, const std::string& body);

  S3TestServerOptions options_;
  std::string error_;
  std::string root_, data_dir_;
  pid_t s3rver_pid_ = -1, proxy_pid_ = -1;
  int s3rver_port_ = 0, proxy_port_ = 0;
};

// The source tree (for tests/node and tests/tiering scripts).
const char* SourceDir();
// Where s3rver is expected.
std::string S3rverPath();

// The environment of a server whose storage driver is `s3` on this server
// (prefix "ts"), with tiering hourly and compaction off.
std::map<std::string, std::string> S3StorageServerEnv(const S3TestServer& s3);

}  // namespace timestore::testing
