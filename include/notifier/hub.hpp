#pragma once
// The hub: owns the listener, the WebSocket sessions and the broker.

#include <notifier/broker/broker.hpp>
#include <notifier/metrics.hpp>
#include <notifier/notification.hpp>
#include <notifier/options.hpp>

#include <cstdint>
#include <memory>
#include <string>
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

/// Owns one event loop (one thread), the sessions and the broker.
/// All public members are thread-safe.
class hub {
public:
    /// A hub with the in-memory broker.
    explicit hub(options opts = {});
    /// A hub publishing through the broker `make` creates on the hub's loop
    /// (e.g. notifier::make_redis_broker for several nodes on one Redis).
    hub(options opts, broker_factory make);
    ~hub();
    hub(const hub&) = delete;
    hub& operator=(const hub&) = delete;

    /// Binds the listening socket; throws std::system_error on failure.
    /// start() and run() call it when needed.
    void listen();
    /// Binds (if not yet) and runs the event loop on a new thread.
    void start();
    /// Binds and runs the event loop on the calling thread until stop().
    void run();
    /// Graceful stop: stops accepting, closes every session with 1001 and
    /// returns once the loop has ended (or at once when called on the loop).
    void stop();

    /// The bound port (useful with listen_port 0); 0 before binding.
    std::uint16_t port() const noexcept;
    const options& config() const noexcept;
    hub_stats stats() const;

    /// Reports a change source's metrics on GET /metrics under
    /// source="<name>" until the returned registration is destroyed; `read`
    /// runs on the hub's loop at each scrape (see metrics.hpp). Throws
    /// std::invalid_argument for an empty name or reader, or a name already
    /// registered on this hub.
    metrics_registration add_source_metrics(std::string name, source_metrics_reader read);

    /// Queues already validated notifications for publishing as one batch with
    /// consecutive seqs. Never blocks on I/O. Used by notifier; prefer that.
    std::error_code submit(std::vector<notification>&& batch);
    std::error_code submit(notification&& n);

    struct impl;
private:
    std::shared_ptr<impl> impl_;
};

}  // namespace notifier
