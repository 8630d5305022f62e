// SPDX-License-Identifier: MIT
#pragma once
// Accepts TCP connections on the intake's loop and hands each to the shard
// with the fewest, where an http_session takes it.

#include <notifier/hub.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>

namespace notifier::net {

/// Loopback, also as an IPv4-mapped IPv6 address (a dual-stack socket
/// sees IPv4 peers as ::ffff:a.b.c.d).
bool is_loopback(const boost::asio::ip::address& a) noexcept;

class listener : public std::enable_shared_from_this<listener> {
public:
    /// Binds and listens at once (throws std::system_error).
    listener(hub::impl& hub, const boost::asio::ip::tcp::endpoint& ep);
    void run();
    void close();
    std::uint16_t port() const;
    bool is_loopback() const;

private:
    void do_accept();
    void on_accept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);

    hub::impl& hub_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer backoff_;  // after EMFILE and the like
};

}  // namespace notifier::net
