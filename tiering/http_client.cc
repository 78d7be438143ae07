#include "tiering/http_client.h"

#include <curl/curl.h>
#include <strings.h>

#include <algorithm>
#include <cctype>

namespace timestore::tiering {

struct HttpClient::Batch {
  std::mutex mu;
  std::condition_variable cv;
  size_t remaining = 0;
};

struct HttpClient::Transfer {
  const HttpRequest* request = nullptr;
  HttpResponse* response = nullptr;
  Clock::time_point deadline;
  Batch* batch = nullptr;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  char error[CURL_ERROR_SIZE] = {0};
  bool too_large = false;
};

namespace {

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<HttpClient::Transfer*>(user);
  const size_t len = size * n;
  HttpResponse* r = t->response;
  if (t->request->max_response_bytes != 0 &&
      r->body.size() + len > t->request->max_response_bytes) {
    t->too_large = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  r->body.append(data, len);
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<HttpClient::Transfer*>(user);
  const size_t len = size * n;
  std::string_view line(data, len);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    t->response->headers.clear();  // a new status line (100 Continue, a redirect)
    return len;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return len;
  std::string name(line.substr(0, colon));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  t->response->headers[name] = std::string(value);
  return len;
}

}  // namespace

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)) {
  static CurlGlobal global;
  multi_ = curl_multi_init();
  curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                    static_cast<long>(std::max(1, options_.max_connections)));
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS,
                    static_cast<long>(std::max(1, options_.max_connections)));
  thread_ = std::thread([this] { Loop(); });
}

HttpClient::~HttpClient() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  curl_multi_wakeup(multi_);
  thread_.join();
  for (void* e : idle_handles_) curl_easy_cleanup(static_cast<CURL*>(e));
  curl_multi_cleanup(multi_);
}

void HttpClient::PerformAll(std::span<const HttpRequest> requests,
                            std::span<HttpResponse> responses, Clock::time_point deadline) {
  if (requests.empty()) return;
  Batch batch;
  batch.remaining = requests.size();
  std::vector<Transfer> transfers(requests.size());
  {
    std::lock_guard<std::mutex> l(mu_);
    for (size_t i = 0; i < requests.size(); ++i) {
      responses[i] = HttpResponse();
      transfers[i].request = &requests[i];
      transfers[i].response = &responses[i];
      transfers[i].deadline = deadline;
      transfers[i].batch = &batch;
      queue_.push_back(&transfers[i]);
    }
  }
  curl_multi_wakeup(multi_);
  std::unique_lock<std::mutex> l(batch.mu);
  batch.cv.wait(l, [&] { return batch.remaining == 0; });
}

HttpResponse HttpClient::Perform(const HttpRequest& request, Clock::time_point deadline) {
  HttpResponse response;
  PerformAll(std::span<const HttpRequest>(&request, 1), std::span<HttpResponse>(&response, 1),
             deadline);
  return response;
}

void HttpClient::Loop() {
  auto finish = [](Transfer* t) {
    Batch* b = t->batch;
    std::lock_guard<std::mutex> l(b->mu);
    if (--b->remaining == 0) b->cv.notify_all();
  };
  int running = 0;
  while (true) {
    std::deque<Transfer*> incoming;
    {
      std::lock_guard<std::mutex> l(mu_);
      incoming.swap(queue_);
      if (stop_ && incoming.empty() && running == 0) break;
    }
    for (Transfer* t : incoming) {
      const HttpRequest& req = *t->request;
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(t->deadline - Clock::now());
      if (left.count() <= 0) {
        t->response->timed_out = true;
        t->response->error = "the deadline passed before the request was sent";
        finish(t);
        continue;
      }
      CURL* e;
      if (!idle_handles_.empty()) {
        e = static_cast<CURL*>(idle_handles_.back());
        idle_handles_.pop_back();
        curl_easy_reset(e);
      } else {
        e = curl_easy_init();
      }
      t->easy = e;
      curl_easy_setopt(e, CURLOPT_URL, req.url.c_str());
      curl_easy_setopt(e, CURLOPT_PRIVATE, t);
      curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
      curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(left.count()));
      curl_easy_setopt(
          e, CURLOPT_CONNECTTIMEOUT_MS,
          static_cast<long>(std::min<int64_t>(left.count(), options_.connect_timeout_ms)));
      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &OnBody);
      curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
      curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &OnHeader);
      curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
      curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
      if (!options_.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, options_.ca_file.c_str());
      bool has_content_type = false;
      for (const auto& [name, value] : req.headers) {
        std::string line = name + ": " + value;
        if (value.empty()) line = name + ";";  // curl's spelling of an empty header
        t->headers = curl_slist_append(t->headers, line.c_str());
        if (name.size() == 12 && strncasecmp(name.c_str(), "content-type", 12) == 0)
          has_content_type = true;
      }
      // curl would add its own (form) Content-Type and an Expect: 100-continue.
      if (!has_content_type) t->headers = curl_slist_append(t->headers, "Content-Type:");
      t->headers = curl_slist_append(t->headers, "Expect:");
      curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
      if (req.method == "HEAD") {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
      } else if (req.method == "GET") {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
      } else {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req.method.c_str());
        if (req.method == "PUT" || req.method == "POST" || !req.body.empty()) {
          curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                           static_cast<curl_off_t>(req.body.size()));
          curl_easy_setopt(e, CURLOPT_POSTFIELDS, req.body.data());
        }
      }
      curl_multi_add_handle(multi_, e);
    }
    curl_multi_perform(multi_, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* e = msg->easy_handle;
      Transfer* t = nullptr;
      curl_easy_getinfo(e, CURLINFO_PRIVATE, &t);
      const CURLcode code = msg->data.result;
      HttpResponse* r = t->response;
      if (code == CURLE_OK) {
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
      } else {
        r->status = 0;
        r->timed_out = code == CURLE_OPERATION_TIMEDOUT;
        r->too_large = t->too_large;
        r->error = t->too_large ? "the answer is larger than expected"
                                : (t->error[0] ? std::string(t->error) : curl_easy_strerror(code));
      }
      curl_multi_remove_handle(multi_, e);
      curl_slist_free_all(t->headers);
      t->headers = nullptr;
      idle_handles_.push_back(e);
      finish(t);
    }
    curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
  }
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace timestore::tiering
