// SPDX-License-Identifier: MIT
#pragma once
// Every tunable of a hub, with defaults a public deployment can keep.

#include <notifier/http_route.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace notifier {

/// Severity of a log event, least severe first (docs/operations.md).
enum class log_level { trace, debug, info, warn, error, off };

/// Oldest TLS protocol version a TLS listener accepts.
enum class tls_version { v1_2, v1_3 };

struct options {
    /// Shards: event loops (threads) serving connections, each with its own
    /// sessions, so that a hub uses every core (docs/architecture.md,
    /// "Shards"). 0: one per hardware thread. 1: a single loop, which then
    /// also runs the intake; with more, the intake (broker, notify() inbox,
    /// acceptor) has a thread of its own.
    unsigned threads = 0;
    /// Address to bind. Loopback by default: nothing is exposed by accident.
    std::string listen_host = "127.0.0.1";
    /// 0 picks a free port (see hub::port()).
    std::uint16_t listen_port = 8080;
    /// Directory served for GET requests outside the API; empty serves the
    /// built-in live notification page at `/` (unless builtin_page is off).
    std::string static_dir;
    /// With static_dir empty, serve the built-in live notification page at
    /// `/` and `/index.html`. On by default, so that a fresh notifierd shows
    /// something; an application that serves its own pages (app_routes) or
    /// none turns it off, and those paths answer 404 like any unknown one.
    bool builtin_page = true;
    /// Serve `POST /publish`. On by default: notifierd's publishers use it.
    /// Without publish_keys anyone who can connect may publish, so an
    /// embedding application whose notifications come from notify() or a
    /// change source turns it off; `/publish` then answers 404 like any
    /// unknown path (docs/security.md).
    bool publish_endpoint = true;
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
    /// errc::overloaded instead of growing without bound. Batches are
    /// admitted one at a time against it; single notify() calls stay
    /// lock-free and may pass it by one each while racing for its last room.
    std::size_t max_pending_notifications = 1 << 20;
    /// Install SIGINT/SIGTERM handlers in run() that stop the hub
    /// gracefully, and a SIGHUP handler that calls reload_tls().
    bool handle_signals = false;
    /// Application routes (see http_route.hpp); empty: none.
    http_handler app_routes;

    // --- Observability (docs/operations.md). ---
    /// Serve GET /metrics (Prometheus text format). On by default: it shows
    /// counts only, never names of collections, tokens or addresses (see
    /// docs/security.md for when to turn it off).
    bool metrics = true;
    /// Least severe event logged. `info`: start, stop and problems only;
    /// `debug` adds one line per connection event, which a busy public
    /// server does not want by default.
    notifier::log_level log_level = notifier::log_level::info;
    /// Receives each log line (logfmt, without the newline) instead of
    /// stderr; empty: stderr. Called from the hub's thread, one line at a time.
    std::function<void(std::string_view line)> log_sink;

    // --- Security (docs/security.md). Nothing set: no authentication. ---
    /// HS256 secret for subscriber tokens.
    std::string jwt_secret;
    /// PEM public key for RS256 (RSA) or ES256 (P-256) subscriber tokens.
    std::string jwt_public_key_pem;
    /// Required `iss` / `aud` claims; empty: not checked.
    std::string jwt_issuer;
    std::string jwt_audience;
    /// Clock difference tolerated for exp/nbf.
    std::chrono::seconds jwt_leeway{5};
    /// Keys accepted as `Authorization: Bearer <key>` on POST /publish; empty:
    /// publishing needs no key (see publish_endpoint). Checked on the request
    /// header: a request without a valid key gets 401 before its body is read.
    std::vector<std::string> publish_keys;
    // --- TLS (docs/security.md). ---
    /// PEM files: the certificate chain (the server's certificate first,
    /// then intermediates) and its private key. Both set: the listener
    /// speaks only TLS (https://, wss://; plain HTTP gets a 400). Both are
    /// read again by hub::reload_tls() (SIGHUP with handle_signals).
    std::string tls_cert_file;
    std::string tls_key_file;
    tls_version tls_min_version = tls_version::v1_2;
    /// Ask OpenSSL to hand record encryption to the kernel (kTLS,
    /// SSL_OP_ENABLE_KTLS) where the kernel's tls module takes the cipher;
    /// connections where it does not stay on OpenSSL. Off by default
    /// (docs/benchmarks.md, "TLS").
    bool tls_kernel = false;
    /// Origins (scheme://host[:port]) allowed to open WebSockets besides the
    /// server's own; requests without Origin (non-browsers) are not affected.
    std::vector<std::string> allowed_origins;
    /// Open connections (HTTP and WebSocket) in total.
    std::size_t max_connections = 100'000;
    /// Open connections per client IP; loopback clients are exempt unless
    /// limit_loopback, so local tools and benchmarks keep working.
    std::size_t max_connections_per_ip = 256;
    bool limit_loopback = false;
    /// Client messages per second per connection (token bucket of
    /// `message_burst`); excess is refused with an error frame, and
    /// `message_burst` refusals in a row close the connection with 1008.
    double max_messages_per_second = 50;
    std::size_t message_burst = 100;
};

/// Splits a listen address "HOST:PORT" or "[IPv6]:PORT" (brackets removed);
/// ":PORT" leaves `host` empty. False when it is not of that form or the
/// port is not 0-65535.
bool parse_listen_address(std::string_view s, std::string& host, std::uint16_t& port);

/// Parses "trace", "debug", "info", "warn", "error" or "off" (as
/// log_level_name() writes them). False, leaving `level` alone, otherwise.
bool parse_log_level(std::string_view s, log_level& level);
/// The name of a level, e.g. "warn".
std::string_view log_level_name(log_level level) noexcept;

/// Parses "1.2" or "1.3". False, leaving `v` alone, otherwise.
bool parse_tls_version(std::string_view s, tls_version& v);

}  // namespace notifier
