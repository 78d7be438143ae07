// The real Prometheus (Debian's /usr/bin/prometheus) as a child process of a
// test, and the small HTTP helpers its API needs, shared by the end-to-end
// tests that drive it (remote write, remote read, basic_auth).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "tests/e2e/test_server.h"

namespace timestore::testing {

inline constexpr const char* kPrometheusBinary = "/usr/bin/prometheus";

// GET over HTTP/1.0, so that Go's server answers without chunked encoding
// and ends the body by closing the connection. Status 0: no answer.
HttpResult Get10(int port, const std::string& target);

// Percent-encodes everything but RFC 3986's unreserved characters.
std::string UrlEncode(std::string_view s);

// A Prometheus server on a free loopback port, with its configuration,
// TSDB and log in `dir`. Killed (SIGKILL) by the destructor, and when the
// test process dies (PR_SET_PDEATHSIG), so nothing outlives the test.
// Not thread-safe.
class PrometheusProcess {
 public:
  // Writes `config` to <dir>/prometheus.yml.
  PrometheusProcess(std::string dir, const std::string& config);
  ~PrometheusProcess();
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;

  // Starts it and waits (up to 20 s) until /-/ready answers 200.
  bool Start();
  int port() const { return port_; }
  // Everything it has logged so far.
  std::string log() const;

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace timestore::testing
