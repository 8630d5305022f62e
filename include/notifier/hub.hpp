// SPDX-License-Identifier: MIT
#pragma once
// The hub: owns the listener, the WebSocket sessions and the broker.

#include <notifier/broker/broker.hpp>
#include <notifier/metrics.hpp>
#include <notifier/notification.hpp>
#include <notifier/options.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace notifier {

/// Counters for tests, health checks and metrics. Approximate when read from
/// another thread while the hub runs.
/// GET /metrics reports these and more (docs/operations.md).
struct hub_stats {
    std::uint64_t sessions = 0;          ///< open WebSocket sessions
    std::uint64_t published = 0;         ///< publications dispatched
    std::uint64_t slow_consumers = 0;    ///< sessions closed with 4008
    std::uint64_t last_seq = 0;
    std::uint64_t deliveries = 0;        ///< notification frames queued to sessions
    std::uint64_t resyncs = 0;           ///< resync frames sent
    std::uint64_t connections_accepted = 0;
    std::uint64_t connections_rejected = 0;  ///< refused at a connection limit
    std::uint64_t auth_failures = 0;     ///< tokens or publish keys refused
};

/// Owns the shards (one event loop and thread each, with their sessions),
/// the intake (one more loop: the broker, the notify() inbox, the listener)
/// and the broker; with options::threads = 1, one loop does it all
/// (docs/architecture.md, "Shards"). All public members are thread-safe.
class hub {
public:
    /// A hub with the in-memory broker.
    explicit hub(options opts = {});
    /// A hub publishing through the broker `make` creates on the hub's intake loop
    /// (e.g. notifier::make_redis_broker for several nodes on one Redis).
    hub(options opts, broker_factory make);
    ~hub();
    hub(const hub&) = delete;
    hub& operator=(const hub&) = delete;

    /// Binds the listening socket to options::listen_host and listen_port.
    /// listen_host is an IP address or a host name; a name is resolved
    /// (e.g. "localhost") and the first of its addresses that binds is used,
    /// IPv4 addresses first; only that one address is listened on.
    /// Throws std::system_error on failure: code() is the reason
    /// (std::errc::address_in_use for a busy port, the resolver's error for
    /// a name that does not resolve) and what() reads "cannot listen on
    /// HOST:PORT: <reason>" or "cannot resolve HOST: <reason>". start() and
    /// run() call it when needed.
    void listen();
    /// Binds (if not yet) and runs the loops on new threads.
    void start();
    /// Binds and runs the intake's loop on the calling thread (the shards'
    /// on threads of their own) until stop().
    void run();
    /// Graceful stop: stops accepting, closes every session with 1001 and
    /// returns once the loops have ended (or at once when called on one of
    /// the hub's threads).
    void stop();

    /// The bound port (useful with listen_port 0); 0 before binding.
    std::uint16_t port() const noexcept;
    const options& config() const noexcept;
    hub_stats stats() const;

    /// Reads options::tls_cert_file and tls_key_file again: handshakes from
    /// now on present the new pair; open connections keep theirs. Throws
    /// std::invalid_argument (naming the file and the reason) and keeps the
    /// current pair when the new one cannot be used, std::logic_error when
    /// the hub was not configured for TLS. Thread-safe. With
    /// options::handle_signals, SIGHUP calls it and logs the outcome.
    void reload_tls();
    /// Reads `opts`' certificate and key as listen() would: throws
    /// std::invalid_argument naming the file and the reason when they cannot
    /// be used together (e.g. for a configuration check).
    static void check_tls(const options& opts);
    /// Whether the listener speaks TLS (options::tls_cert_file set).
    bool tls() const noexcept;

    /// Reports a change source's metrics on GET /metrics under
    /// source="<name>" until the returned registration is destroyed; `read`
    /// runs on a shard's loop at each scrape (see metrics.hpp). Throws
    /// std::invalid_argument for an empty name or reader, or a name already
    /// registered on this hub.
    metrics_registration add_source_metrics(std::string name, source_metrics_reader read);

    /// Queues already validated notifications for publishing as one batch with
    /// consecutive seqs. Never blocks on I/O. Used by notifier; prefer that.
    std::error_code submit(std::vector<notification>&& batch);
    std::error_code submit(notification&& n);
    /// The same for one validated notification given as views: copied into
    /// the inbox without allocating when small (notify()'s fast path).
    std::error_code submit(std::string_view collection, std::string_view action, std::optional<std::string_view> id,
                           std::optional<std::string_view> data_json);

    using confirm_handler = std::function<void(std::error_code, std::uint64_t first_seq)>;
    /// Publishes validated notifications as one batch and calls `done` on the
    /// hub's intake loop once the broker has stored them, with the first seq. Failed
    /// broker publishes are retried in order, so `done` gets an error only
    /// when the hub stops first (errc::stopped): once stop() has begun,
    /// `done` is called at once on the caller's thread. `done` is called
    /// exactly once. For change sources that confirm to their database only
    /// what is published. Unbounded: the caller limits what it has in flight.
    void submit_confirmed(std::vector<notification>&& batch, confirm_handler done);

    /// Writes one line in the hub's log (format and level filter as the hub's
    /// own lines, docs/operations.md): `event=<event> source=<source>
    /// detail="…"`. For parts living beside the hub, such as change sources.
    /// Thread-safe.
    void log(log_level level, std::string_view event, std::string_view source, std::string_view detail) const;

    /// Starts a new epoch (broker::restart): every client gets `resync` and
    /// reloads. For a change source that lost changes it cannot name. `done`
    /// (on the hub's intake loop; may be empty) gets an error when the broker cannot,
    /// and errc::stopped at once, on the caller's thread, once stop() began.
    void resync(std::function<void(std::error_code)> done);

    struct impl;
private:
    std::shared_ptr<impl> impl_;
};

}  // namespace notifier
