// Opening a listening TCP socket on host:port for the servers (HTTP, pgwire):
// resolve, open, SO_REUSEADDR, bind, listen, with errors naming the address.
// Header-only, so `common` itself needs no Boost.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/strings.h"

namespace timestore {

// Returns the bound port (the kernel's pick when `port` is 0). On failure the
// acceptor is closed: InvalidArgument when the host does not resolve,
// Unavailable when the socket cannot be had.
inline absl::StatusOr<uint16_t> ListenOn(boost::asio::ip::tcp::acceptor& acceptor,
                                         boost::asio::io_context& ioc, const std::string& host,
                                         uint16_t port) {
  namespace net = boost::asio;
  using tcp = net::ip::tcp;
  const std::string where = StrCat(host, ":", port);
  boost::system::error_code ec;
  tcp::resolver resolver(ioc);
  const auto endpoints = resolver.resolve(
      host, std::to_string(port), tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return absl::InvalidArgumentError(
        StrCat("cannot resolve listen address ", where, ": ", ec.message()));
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  auto fail = [&](const char* what) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return absl::UnavailableError(StrCat("cannot ", what, " ", where, ": ", ec.message()));
  };
  if (acceptor.open(endpoint.protocol(), ec)) return fail("open a socket for");
  if (acceptor.set_option(net::socket_base::reuse_address(true), ec)) {
    return fail("set SO_REUSEADDR on");
  }
  if (acceptor.bind(endpoint, ec)) return fail("bind");
  if (acceptor.listen(net::socket_base::max_listen_connections, ec)) return fail("listen on");
  return acceptor.local_endpoint(ec).port();
}

}  // namespace timestore
