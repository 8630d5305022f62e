#pragma once
// Every tunable of a hub, with defaults a public deployment can keep.

#include <notifier/http_route.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace notifier {

struct options {
    /// Address to bind. Loopback by default: nothing is exposed by accident.
    std::string listen_host = "127.0.0.1";
    /// 0 picks a free port (see hub::port()).
    std::uint16_t listen_port = 8080;
    /// Directory served for GET requests outside the API; empty serves the
    /// built-in live notification page at `/`.
    std::string static_dir;
    /// Notifications kept for resume. 10,000 covers minutes of a busy app;
    /// a client away longer gets `resync`.
    std::size_t history_size = 10'000;
    /// Per-connection outbound queue. Above it the client is closed with 4008:
    /// memory stays bounded and the client resumes from the history.
    std::size_t max_queue_bytes = 1 << 20;
    /// Server pings this often; a connection silent for a whole interval after
    /// a ping is dropped. 0 disables.
    std::chrono::seconds ping_interval{30};
    /// Largest client message after reassembly (close 1009 above).
    std::size_t max_message_bytes = 64 << 10;
    /// Largest POST /publish body (413 above).
    std::size_t max_publish_bytes = 1 << 20;
    /// Largest HTTP request header (431 above).
    std::size_t max_header_bytes = 8 << 10;
    /// A connection must finish its HTTP request (or upgrade) this fast.
    std::chrono::seconds handshake_timeout{10};
    /// How long a closing connection may take to answer our close frame.
    std::chrono::seconds close_timeout{5};
    /// Subscription entries per connection.
    std::size_t max_subscriptions = 1024;
    /// notify() calls waiting for the event loop; above it notify() returns
    /// errc::overloaded instead of growing without bound.
    std::size_t max_pending_notifications = 1 << 20;
    /// Install SIGINT/SIGTERM handlers in run() that stop the hub gracefully.
    bool handle_signals = false;
    /// Application routes (see http_route.hpp); empty: none.
    http_handler app_routes;
};

}  // namespace notifier
