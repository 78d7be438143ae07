// HttpClient: HTTP/1.1 requests over libcurl for the object-store drivers.
// One long-lived curl multi handle runs on its own thread, so connections are
// kept alive and reused across calls, and any number of requests (from any
// number of callers) run concurrently, up to `max_connections` at once.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace timestore::tiering {

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string url;             // scheme://host[:port]/path?query, already encoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent as is (PUT/POST); curl adds no Content-Type of its own
  // An answer body larger than this fails the request (0: no limit).
  uint64_t max_response_bytes = 0;
};

struct HttpResponse {
  long status = 0;         // 0: no HTTP answer; see `error`
  std::string error;       // transport error (connect refused, reset, timeout, ...)
  bool timed_out = false;  // the deadline passed before the answer was complete
  bool too_large = false;  // the body passed the request's max_response_bytes
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpClientOptions {
  int max_connections = 16;  // transfers in flight at once (more wait their turn)
  int connect_timeout_ms = 5000;
  bool verify_tls = true;
  std::string ca_file;  // empty: the system's
};

class HttpClient {
 public:
  using Clock = std::chrono::steady_clock;

  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();  // waits for transfers in flight
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Runs every request concurrently and returns once each has an answer, an
  // error, or ran into `deadline` (timed_out). responses.size() == requests.size().
  void PerformAll(std::span<const HttpRequest> requests, std::span<HttpResponse> responses,
                  Clock::time_point deadline);
  HttpResponse Perform(const HttpRequest& request, Clock::time_point deadline);

  struct Transfer;  // one request in flight (internal; public for libcurl's callbacks)

 private:
  struct Batch;
  void Loop();

  const HttpClientOptions options_;
  void* multi_ = nullptr;  // CURLM*
  std::mutex mu_;
  std::deque<Transfer*> queue_;      // guarded by mu_
  bool stop_ = false;                // guarded by mu_
  std::vector<void*> idle_handles_;  // CURL*, only touched by the loop thread
  std::thread thread_;
};

// Percent-encodes `s` as RFC 3986 unreserved-only (A-Z a-z 0-9 - . _ ~ stay);
// with `keep_slash`, '/' stays too (object keys in paths).
std::string UriEncode(std::string_view s, bool keep_slash);

}  // namespace timestore::tiering
