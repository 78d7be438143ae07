// TLS on the real binary: certificates made here with the openssl CLI,
// checked with curl, openssl s_client, Python's ssl, psql and an in-test
// Boost.Asio client (for the keep-alive connection across a SIGHUP reload).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

bool HaveTool(const std::string& name) {
  return Shell("command -v " + name + " >/dev/null").first == 0;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Certificates for the tests, made once per test in `dir` (EC P-256 keys:
// quick to make). Serials: server 0x1001, rotated 0x2002.
//   ca.pem/ca.key            the CA clients trust
//   server.pem/.key          CN=localhost, SAN localhost and 127.0.0.1, by the CA
//   rotated.pem/.key         the same names, serial 0x2002, O=Rotated
//   expired.pem/.key         by the CA, valid January 2020 only
//   wronghost.pem/.key       by the CA, for wrong.example.com only
//   untrusted.pem/.key       self-signed for localhost and 127.0.0.1
//   client.pem/.key          a client certificate by the CA (mTLS)
constexpr char kMakeCertificates[] = R"(set -e
cd "$1"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > san.ext
printf 'subjectAltName=DNS:wrong.example.com\nbasicConstraints=CA:FALSE\n' > wrong.ext
printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' > client.ext
key ca.key
openssl req -x509 -new -key ca.key -out ca.pem -days 30 -subj "/CN=Timestore Test CA" 2>/dev/null
leaf() {  # name subject serial extfile
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -set_serial "$3" -days 30 \
    -extfile "$4" -out "$1.pem" 2>/dev/null
}
leaf server "/CN=localhost" 0x1001 san.ext
leaf rotated "/O=Rotated/CN=localhost" 0x2002 san.ext
leaf wronghost "/CN=wrong.example.com" 0x3003 wrong.ext
leaf client "/CN=timestore-client" 0x4004 client.ext
key untrusted.key
openssl req -x509 -new -key untrusted.key -out untrusted.pem -days 30 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
# An expired certificate needs explicit dates: openssl ca takes them.
key expired.key
openssl req -new -key expired.key -out expired.csr -subj "/CN=localhost" 2>/dev/null
mkdir -p ca.db && : > ca.db/index.txt && echo 5005 > ca.db/serial
cat > ca.cnf <<EOF
[ ca ]
default_ca = test_ca
[ test_ca ]
database = ca.db/index.txt
new_certs_dir = ca.db
serial = ca.db/serial
default_md = sha256
policy = any
unique_subject = no
[ any ]
commonName = supplied
EOF
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem \
  -startdate 20200101000000Z -enddate 20200201000000Z -extfile san.ext -notext 2>/dev/null
)";

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TIMESTORE_SKIP_WITHOUT(HaveTool("openssl"), "the openssl CLI");
    dir_ = MakeTempDir();
    std::ofstream(dir_ + "/make.sh") << kMakeCertificates;
    auto [rc, out] = Shell("sh '" + dir_ + "/make.sh' '" + dir_ + "'");
    ASSERT_EQ(rc, 0) << out;
  }
  void TearDown() override {
    StopServer();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // Runs `timestore serve` with TIMESTORE_TLS_CERT/KEY set to `cert`.pem and
  // .key (and `env`) and waits for it to listen. False when it exits.
  bool StartServer(const std::string& cert, std::map<std::string, std::string> env = {}) {
    env["TIMESTORE_TLS_CERT"] = Path(cert + ".pem");
    env["TIMESTORE_TLS_KEY"] = Path(cert + ".key");
    return StartWithEnv(std::move(env));
  }

  bool StartWithEnv(std::map<std::string, std::string> env) {
    const std::string port_file = Path("port");
    ::unlink(port_file.c_str());
    log_ = Path("server.log");
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
      const std::string data = Path("data");
      ::execl(TimestoreBinary(), TimestoreBinary(), "serve", "--host", "127.0.0.1", "--port", "0",
              "--port-file", port_file.c_str(), "--storage-root", data.c_str(), "--log-level",
              "info", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      int status;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::ifstream in(port_file);
      if (in >> port_ && port_ > 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  void StopServer() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  // Polls `done` for up to 20 s.
  template <typename Pred>
  bool Eventually(Pred done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
  }

  std::string Url(const std::string& path) const {
    return "https://localhost:" + std::to_string(port_) + path;
  }

  // curl's HTTP status for GET `path` ("000" when TLS or the connection
  // failed) and its exit code.
  std::pair<int, std::string> Curl(const std::string& path, const std::string& extra = "") {
    return Shell("curl -sS --max-time 20 --resolve localhost:" + std::to_string(port_) +
                 ":127.0.0.1 -o /dev/null -w '%{http_code}' --cacert '" + Path("ca.pem") + "' " +
                 extra + " '" + Url(path) + "'");
  }

  // Python's ssl with the default context trusting the test CA: "ok <status>
  // <version>" or the exception's name and text.
  std::pair<int, std::string> Python(const std::string& server_hostname = "localhost") {
    const std::string script =
        "import ssl, socket, sys\n"
        "ctx = ssl.create_default_context(cafile=sys.argv[1])\n"
        "try:\n"
        "    with socket.create_connection(('127.0.0.1', int(sys.argv[2])), timeout=20) as s:\n"
        "        with ctx.wrap_socket(s, server_hostname=sys.argv[3]) as t:\n"
        "            version = t.version()\n"
        "            t.sendall(b'GET /health HTTP/1.1\\r\\nHost: x\\r\\nConnection: "
        "close\\r\\n\\r\\n')\n"
        "            data = b''\n"
        "            while True:\n"
        "                chunk = t.recv(65536)\n"
        "                if not chunk: break\n"
        "                data += chunk\n"
        "            print('ok', data.split(b' ')[1].decode(), version)\n"
        "except Exception as e:\n"
        "    print(type(e).__name__, e)\n"
        "    sys.exit(3)\n";
    std::ofstream(Path("client.py")) << script;
    return Shell("python3 '" + Path("client.py") + "' '" + Path("ca.pem") + "' " +
                 std::to_string(port_) + " " + server_hostname);
  }

  std::string dir_;
  std::string log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// A blocking HTTPS client over one keep-alive connection that verifies the
// server against the test CA and the name "localhost".
class TlsClient {
 public:
  TlsClient(const std::string& ca, const std::string& cert = "", const std::string& key = "")
      : ctx_(ssl::context::tls_client) {
    ctx_.load_verify_file(ca);
    ctx_.set_verify_mode(ssl::verify_peer);
    if (!cert.empty()) {
      ctx_.use_certificate_chain_file(cert);
      ctx_.use_private_key_file(key, ssl::context::pem);
    }
  }

  // "" on success, else why the connection or handshake failed.
  std::string Connect(int port) {
    stream_.emplace(ioc_, ctx_);
    SSL_set_tlsext_host_name(stream_->native_handle(), "localhost");
    stream_->set_verify_callback(ssl::host_name_verification("localhost"));
    beast::error_code ec;
    auto& tcp_stream = beast::get_lowest_layer(*stream_);
    tcp_stream.expires_after(std::chrono::seconds(20));
    tcp_stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    if (ec) return ec.message();
    stream_->handshake(ssl::stream_base::client, ec);
    return ec ? ec.message() : "";
  }

  // The status of GET `target` on this connection (0 on failure).
  int Get(const std::string& target) {
    beast::error_code ec;
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "localhost");
    beast::get_lowest_layer(*stream_).expires_after(std::chrono::seconds(20));
    http::write(*stream_, req, ec);
    if (ec) return 0;
    http::response<http::string_body> res;
    http::read(*stream_, buffer_, res, ec);
    return ec ? 0 : res.result_int();
  }

  // The serial number of the server's certificate, in hex ("" if none).
  std::string PeerSerial() {
    X509* cert = SSL_get1_peer_certificate(stream_->native_handle());
    if (cert == nullptr) return "";
    std::string out;
    if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(cert), nullptr)) {
      char* hex = BN_bn2hex(bn);
      out = hex;
      OPENSSL_free(hex);
      BN_free(bn);
    }
    X509_free(cert);
    return out;
  }

 private:
  net::io_context ioc_;
  ssl::context ctx_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream_;
  beast::flat_buffer buffer_;
};

TEST_F(TlsTest, CurlOpenSslAndPythonConnectWithTls12OrLater) {
  TIMESTORE_SKIP_WITHOUT(HaveTool("curl"), "curl");
  ASSERT_TRUE(StartServer("server")) << ReadFile(log_);

  auto [rc, code] = Curl("/health");
  EXPECT_EQ(rc, 0) << code;
  EXPECT_EQ(code, "200");

  const std::string s_client = "openssl s_client -connect 127.0.0.1:" + std::to_string(port_) +
                               " -servername localhost -verify_hostname localhost -CAfile '" +
                               Path("ca.pem") + "' -verify_return_error </dev/null";
  auto [rc13, out13] = Shell(s_client);
  EXPECT_EQ(rc13, 0) << out13;
  EXPECT_NE(out13.find("Verify return code: 0 (ok)"), std::string::npos) << out13;
  EXPECT_NE(out13.find("TLSv1.3"), std::string::npos) << out13;
  auto [rc12, out12] = Shell(s_client + " -tls1_2");
  EXPECT_EQ(rc12, 0) << out12;
  EXPECT_NE(out12.find("Protocol  : TLSv1.2"), std::string::npos) << out12;
  // Security level 0 lets the client offer TLS 1.1: the server must refuse it.
  auto [rc11, out11] = Shell(s_client + " -tls1_1 -cipher 'DEFAULT@SECLEVEL=0'");
  EXPECT_NE(rc11, 0) << out11;
  // The server's alert, not the client's own refusal.
  EXPECT_NE(out11.find("alert protocol version"), std::string::npos) << out11;
  EXPECT_NE(out11.find("Cipher is (NONE)"), std::string::npos) << out11;

  auto [py_rc, py] = Python();
  EXPECT_EQ(py_rc, 0) << py;
  EXPECT_TRUE(py.rfind("ok 200 TLSv1.3", 0) == 0 || py.rfind("ok 200 TLSv1.2", 0) == 0) << py;
}

TEST_F(TlsTest, PlainHttpToTheTlsPortFailsCleanly) {
  ASSERT_TRUE(StartServer("server")) << ReadFile(log_);
  HttpClient plain(port_);
  const HttpResult r = plain.Get("/health");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"code\":\"bad_request\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("HTTPS only"), std::string::npos) << r.body;
  // And the port still serves TLS afterwards.
  TlsClient client(Path("ca.pem"));
  ASSERT_EQ(client.Connect(port_), "");
  EXPECT_EQ(client.Get("/health"), 200);
}

TEST_F(TlsTest, ClientsRefuseExpiredWrongHostAndUntrustedCertificates) {
  for (const std::string cert : {"expired", "wronghost", "untrusted"}) {
    SCOPED_TRACE(cert);
    ASSERT_TRUE(StartServer(cert)) << ReadFile(log_);
    auto [rc, out] = Python();
    EXPECT_NE(rc, 0) << out;
    EXPECT_NE(out.find("SSLCertVerificationError"), std::string::npos) << out;
    if (cert == "expired") {
      EXPECT_NE(out.find("expired"), std::string::npos) << out;
      // The server says so when it loads it.
      EXPECT_NE(ReadFile(log_).find("has expired"), std::string::npos);
    }
    if (HaveTool("curl")) {
      auto [curl_rc, code] = Curl("/health");
      EXPECT_EQ(curl_rc, 60) << code;  // CURLE_PEER_FAILED_VERIFICATION
    }
    TlsClient client(Path("ca.pem"));
    EXPECT_NE(client.Connect(port_), "");
    StopServer();
  }
}

TEST_F(TlsTest, MutualTlsRequiresAClientCertificateFromTheClientCa) {
  TIMESTORE_SKIP_WITHOUT(HaveTool("curl"), "curl");
  ASSERT_TRUE(StartServer("server", {{"TIMESTORE_TLS_CLIENT_CA", Path("ca.pem")}}))
      << ReadFile(log_);
  auto [rc_without, code_without] = Curl("/health");
  EXPECT_NE(rc_without, 0) << code_without;
  // curl's status is "000" (no HTTP answer), after its error message.
  EXPECT_EQ(code_without.substr(code_without.size() - std::min<size_t>(3, code_without.size())),
            "000")
      << code_without;
  // A certificate from another CA is refused too.
  auto [rc_other, code_other] = Curl(
      "/health", "--cert '" + Path("untrusted.pem") + "' --key '" + Path("untrusted.key") + "'");
  EXPECT_NE(rc_other, 0) << code_other;
  auto [rc_with, code_with] =
      Curl("/health", "--cert '" + Path("client.pem") + "' --key '" + Path("client.key") + "'");
  EXPECT_EQ(rc_with, 0) << code_with;
  EXPECT_EQ(code_with, "200");

  TlsClient with_cert(Path("ca.pem"), Path("client.pem"), Path("client.key"));
  ASSERT_EQ(with_cert.Connect(port_), "");
  EXPECT_EQ(with_cert.Get("/health"), 200);
}

TEST_F(TlsTest, SighupReloadsTheCertificateWithoutDroppingConnections) {
  // The server reads its own copies, which the test then replaces.
  std::filesystem::copy_file(Path("server.pem"), Path("live.pem"));
  std::filesystem::copy_file(Path("server.key"), Path("live.key"));
  ASSERT_TRUE(StartServer("live")) << ReadFile(log_);

  TlsClient before(Path("ca.pem"));
  ASSERT_EQ(before.Connect(port_), "");
  EXPECT_EQ(before.Get("/health"), 200);
  EXPECT_EQ(before.PeerSerial(), "1001");

  // Rotate: new files in place, then SIGHUP.
  std::filesystem::copy_file(Path("rotated.pem"), Path("live.pem.new"));
  std::filesystem::copy_file(Path("rotated.key"), Path("live.key.new"));
  std::filesystem::rename(Path("live.pem.new"), Path("live.pem"));
  std::filesystem::rename(Path("live.key.new"), Path("live.key"));
  ASSERT_EQ(::kill(pid_, SIGHUP), 0);
  std::string serial;
  EXPECT_TRUE(Eventually([&] {
    TlsClient after(Path("ca.pem"));
    if (after.Connect(port_) != "" || after.Get("/health") != 200) return false;
    serial = after.PeerSerial();
    return serial == "2002";
  })) << serial
      << "\n"
      << ReadFile(log_);
  if (HaveTool("openssl")) {
    auto [rc, out] = Shell("openssl s_client -connect 127.0.0.1:" + std::to_string(port_) +
                           " -servername localhost </dev/null 2>/dev/null | openssl x509 -noout "
                           "-serial -subject");
    EXPECT_NE(out.find("serial=2002"), std::string::npos) << out;
    EXPECT_NE(out.find("O = Rotated"), std::string::npos) << out;
  }
  // The connection made before the reload still works, on its old certificate.
  EXPECT_EQ(before.Get("/health"), 200);
  EXPECT_EQ(before.PeerSerial(), "1001");

  // A broken file at the next reload keeps the rotated certificate.
  std::ofstream(Path("live.pem"), std::ios::trunc) << "-----BEGIN CERTIFICATE-----\nnot base64\n";
  ASSERT_EQ(::kill(pid_, SIGHUP), 0);
  EXPECT_TRUE(Eventually([&] {
    return ReadFile(log_).find("TLS reload failed, keeping the current certificate") !=
           std::string::npos;
  })) << ReadFile(log_);
  EXPECT_NE(ReadFile(log_).find(Path("live.pem")), std::string::npos) << ReadFile(log_);
  TlsClient still(Path("ca.pem"));
  ASSERT_EQ(still.Connect(port_), "");
  EXPECT_EQ(still.Get("/health"), 200);
  EXPECT_EQ(still.PeerSerial(), "2002");
  EXPECT_EQ(before.Get("/health"), 200);
}

TEST_F(TlsTest, PsqlVerifyFullWorksAndPlainTextIsRefused) {
  TIMESTORE_SKIP_WITHOUT(HaveTool("psql"), "psql");
  const int pg_port = PickFreePort();
  // Loopback without authentication: what is tested here is the transport.
  ASSERT_TRUE(StartServer("server", {{"TIMESTORE_PG_PORT", std::to_string(pg_port)},
                                     {"TIMESTORE_AUTH", "none"},
                                     {"TIMESTORE_PG_AUTH", "trust"}}))
      << ReadFile(log_);
  const std::string conn = "host=localhost hostaddr=127.0.0.1 port=" + std::to_string(pg_port) +
                           " user=tester dbname=timestore connect_timeout=20";
  const std::string psql = "PGSSLCERT=/nonexistent PGSSLKEY=/nonexistent psql -X -At ";
  std::pair<int, std::string> ok;
  // The server listens on the pgwire port once the port file is written.
  ok = Shell(psql + "\"" + conn + " sslmode=verify-full sslrootcert=" + Path("ca.pem") +
             "\" -c 'SELECT 1' -c '\\conninfo'");
  EXPECT_EQ(ok.first, 0) << ok.second;
  EXPECT_NE(ok.second.find("1\n"), std::string::npos) << ok.second;
  EXPECT_NE(ok.second.find("SSL connection (protocol: TLSv1."), std::string::npos) << ok.second;

  auto [rc_plain, plain] = Shell(psql + "\"" + conn + " sslmode=disable\" -c 'SELECT 1'");
  EXPECT_NE(rc_plain, 0) << plain;
  EXPECT_NE(plain.find("TLS is required"), std::string::npos) << plain;

  // verify-full checks the certificate: an untrusted CA file fails.
  auto [rc_bad, bad] =
      Shell(psql + "\"" + conn + " sslmode=verify-full sslrootcert=" + Path("untrusted.pem") +
            "\" -c 'SELECT 1'");
  EXPECT_NE(rc_bad, 0) << bad;
}

TEST_F(TlsTest, StartIsRefusedWithHalfAConfigurationOrABadFile) {
  // `timeout`: a server that starts anyway must not hang the test.
  const std::string serve = "timeout 30 " + std::string(TimestoreBinary()) +
                            " serve --port 0 --storage-root '" + Path("data") + "'";
  auto [rc_cert, cert_only] = Shell("TIMESTORE_TLS_CERT='" + Path("server.pem") + "' " + serve);
  EXPECT_EQ(rc_cert, 2) << cert_only;
  EXPECT_NE(cert_only.find("TIMESTORE_TLS_KEY"), std::string::npos) << cert_only;

  auto [rc_key, key_missing] = Shell("TIMESTORE_TLS_CERT='" + Path("server.pem") +
                                     "' TIMESTORE_TLS_KEY='" + Path("nope.key") + "' " + serve);
  EXPECT_EQ(rc_key, 2) << key_missing;
  EXPECT_NE(key_missing.find(Path("nope.key") + ": cannot open: No such file or directory"),
            std::string::npos)
      << key_missing;

  auto [rc_bad, bad_cert] = Shell("TIMESTORE_TLS_CERT='" + Path("san.ext") +
                                  "' TIMESTORE_TLS_KEY='" + Path("server.key") + "' " + serve);
  EXPECT_EQ(rc_bad, 2) << bad_cert;
  EXPECT_NE(bad_cert.find(Path("san.ext") + ": not a PEM certificate chain"), std::string::npos)
      << bad_cert;

  auto [rc_mismatch, mismatch] =
      Shell("TIMESTORE_TLS_CERT='" + Path("server.pem") + "' TIMESTORE_TLS_KEY='" +
            Path("rotated.key") + "' " + serve);
  EXPECT_EQ(rc_mismatch, 2) << mismatch;
  EXPECT_NE(mismatch.find("does not match the certificate"), std::string::npos) << mismatch;
}

}  // namespace
}  // namespace timestore::testing
