// SPDX-License-Identifier: MIT
#include "net/listener.hpp"

#include "core/error_json.hpp"
#include "hub_impl.hpp"

#include <boost/asio/socket_base.hpp>

namespace notifier::net {

namespace asio = boost::asio;
using boost::system::error_code;

listener::listener(hub::impl& hub, const asio::ip::tcp::endpoint& ep)
    : hub_(hub), acceptor_(*hub.ioc), backoff_(*hub.ioc) {
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(asio::socket_base::max_listen_connections);
}

std::uint16_t listener::port() const { return acceptor_.local_endpoint().port(); }

bool is_loopback(const asio::ip::address& a) noexcept {
    return a.is_loopback() || (a.is_v6() && a.to_v6().is_v4_mapped() &&
                               asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback());
}

bool listener::is_loopback() const {
    boost::system::error_code ec;
    const auto ep = acceptor_.local_endpoint(ec);
    return !ec && net::is_loopback(ep.address());
}

void listener::run() { do_accept(); }

void listener::close() {
    error_code ec;
    acceptor_.close(ec);
    backoff_.cancel();
}

void listener::do_accept() {
    acceptor_.async_accept([self = shared_from_this()](const error_code& ec, asio::ip::tcp::socket s) {
        self->on_accept(ec, std::move(s));
    });
}

void listener::on_accept(const error_code& ec, asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
        // Out of descriptors or memory: retrying at once would spin.
        NOTIFIER_LOG_ERROR(hub_.log, "accept_failed", {"error", ec.message()}, {"retry_ms", 100});
        backoff_.expires_after(std::chrono::milliseconds(100));
        backoff_.async_wait([self = shared_from_this()](const error_code& e) {
            if (!e) self->do_accept();
        });
        return;
    }
    error_code ignored;
    const auto remote = socket.remote_endpoint(ignored);
    auto slot = hub_.acquire_slot(remote.address());
    if (!slot) {
        hub_.counts.rejected.add();
        NOTIFIER_LOG_DEBUG(hub_.log, "connection_rejected", {"remote", remote.address().to_string()},
                           {"reason", "connection_limit"});
        // Over a connection limit: a short answer, best effort, then close.
        static const std::string body = core::error_body("too_many_connections", "connection limit reached");
        static const std::string refusal =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
            "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        socket.non_blocking(true, ignored);
        // A TLS client could not read a plain answer: it sees the close.
        if (!hub_.tls) socket.send(asio::buffer(refusal), 0, ignored);
        socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
        return do_accept();
    }
    hub_.counts.accepted.add();
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);  // latency over batching: we batch ourselves
    // The connection lives on one shard from here on (docs/architecture.md).
    hub_.pick_shard().adopt(std::move(socket), std::move(slot));
    do_accept();
}

}  // namespace notifier::net
