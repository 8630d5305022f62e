#pragma once
// The hub's state, shared by the listener and the sessions. Private header:
// it pulls in Asio, which the public headers keep out.

#include <notifier/broker/broker.hpp>
#include <notifier/hub.hpp>
#include <notifier/options.hpp>

#include "core/jwt_verifier.hpp"
#include "core/duration_histogram.hpp"
#include "core/loop_counter.hpp"
#include "core/notification_inbox.hpp"
#include "core/source_metrics_registry.hpp"
#include "core/subscription_index.hpp"
#include "log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace notifier {

namespace net {
class listener;
class http_session;
class websocket_session;
}  // namespace net

/// Notifications accepted for publishing, with who to tell once published
/// (submit_confirmed(); empty for notify()).
struct pending_batch {
    std::vector<notification> items;
    hub::confirm_handler done;
};

/// One open connection counted against max_connections and the per-IP
/// limit; moves from the HTTP session to the WebSocket session.
class connection_slot {
public:
    connection_slot(hub::impl& h, std::string ip, bool per_ip) : hub_(h), ip_(std::move(ip)), per_ip_(per_ip) {}
    ~connection_slot();
    connection_slot(const connection_slot&) = delete;
    connection_slot& operator=(const connection_slot&) = delete;

private:
    hub::impl& hub_;
    std::string ip_;
    bool per_ip_;
};

struct hub::impl final : broker_handler, std::enable_shared_from_this<hub::impl> {
    impl(options o, broker_factory make);
    ~impl() override;

    // --- lifecycle (loop thread unless noted) ---
    void listen();            // any thread, before the loop runs
    void begin_stop();        // graceful stop
    void finish_stop();
    /// finish_stop() once every session is gone and the broker answered
    /// every publish; true when stopped.
    bool maybe_finish_stop();
    bool stopping() const noexcept { return stopping_; }

    // --- notify() front door (any thread) ---
    std::error_code submit(std::vector<notification>&& batch);
    std::error_code submit(notification&& n);
    std::error_code submit(std::string_view collection, std::string_view action, std::optional<std::string_view> id,
                           std::optional<std::string_view> data_json);
    /// Refuses further submit() calls (any thread).
    void close_inbox();
    /// True once stop() began: submit() refuses, posted work may never run.
    bool inbox_closed() const noexcept { return closed_.load(std::memory_order_acquire); }
    /// Destroys I/O objects, then the io_context with any handler still
    /// queued (they hold references to this object). Idempotent.
    void shutdown();
    void drain_inbox();
    /// Publishes a batch; on failure keeps it, in order, for a retry.
    void publish_batch(std::shared_ptr<pending_batch> batch);
    /// hub::submit_confirmed() on the loop.
    void submit_confirmed(std::vector<notification>&& batch, confirm_handler done);
    void schedule_retry();

    // --- broker_handler ---
    void on_publications(std::span<const publication_ptr> pubs) override;
    void on_reset(std::string_view epoch, std::uint64_t seq) override;
    void on_broker_warning(std::string_view event, std::string_view detail) override;
    /// Fans out queued publications up to a byte budget, then yields the
    /// loop so sockets drain between steps: a burst larger than a client's
    /// queue limit is spread over loop turns instead of closing everyone.
    void fanout_step(bool unbounded = false);
    /// Publications waiting for fan-out above which POST /publish answers 503.
    bool backlogged() const noexcept { return fanout_bytes_ > fanout_limit_bytes; }
    static constexpr std::size_t fanout_limit_bytes = 64u << 20;
    /// Above this backlog (publications arriving from other nodes faster than
    /// this node can fan out) the backlog is dropped and every session told
    /// to resync: memory stays bounded and nothing is lost silently.
    static constexpr std::size_t fanout_drop_bytes = 256u << 20;
    void drop_backlog_and_resync();
    /// Drops pending fan-out and tells every session to resync at `seq`.
    void resync_all(std::uint64_t seq);
    /// Calls f(session) for every session on a copy of the set: f may close
    /// sessions, which leave the set.
    template <class F>
    void for_each_session(F&& f) {
        std::vector<std::shared_ptr<net::websocket_session>> all;
        all.reserve(sessions_.size());
        for (auto& [_, s] : sessions_) all.push_back(s);
        for (auto& s : all) f(*s);
    }

    // --- sessions ---
    void add_session(std::shared_ptr<net::websocket_session> s);
    void remove_session(net::websocket_session* s);
    void add_http(net::http_session* s) { http_sessions_.insert(s); }
    void remove_http(net::http_session* s) { http_sessions_.erase(s); }
    /// Coalesces writes: a session marked dirty is flushed once at the end
    /// of this loop turn, however many publications it got.
    void mark_dirty(net::websocket_session* s);
    void flush_dirty();
    void schedule_ping();
    void schedule_housekeeping();

    /// A slot for a new connection from `ip`, or null when a limit is reached.
    std::unique_ptr<connection_slot> acquire_slot(const boost::asio::ip::address& ip);
    void release_slot(const std::string& ip, bool per_ip);
    /// Subscriber tokens are required (a secret or public key is configured).
    bool auth_enabled() const noexcept { return verifier != nullptr; }
    bool publish_key_ok(std::string_view authorization) const noexcept;
    std::unique_ptr<core::jwt_verifier> verifier;

    options opts;
    std::optional<boost::asio::io_context> ioc;
    std::unique_ptr<broker> brk;
    core::subscription_index<net::websocket_session*> index;
    std::uint64_t last_dispatched = 0;  // newest seq fanned out on this node
    std::string epoch;                  // of last_dispatched
    /// One receive buffer for every session: the loop reads one socket at a
    /// time and parses in place, so idle connections need none of their own.
    std::vector<char> read_buffer;
    std::atomic<std::uint16_t> port{0};
    std::thread thread;
    bool loop_running = false;

    std::atomic<std::uint64_t> n_sessions{0}, n_last_seq{0};

    // --- observability (hub_metrics.cpp, docs/operations.md) ---
    logger log;
    /// Written on the loop only, by plain-cost increments; stats() reads
    /// them from any thread.
    struct counters {
        core::loop_counter accepted, rejected, ws_opened, published, deliveries, resyncs, slow_consumers,
            auth_failures;
    } counts;
    std::uint64_t next_session_id = 0;
    /// Sessions ended, by close code (1006: without a close handshake), and
    /// POST /publish answers by status. Loop thread only.
    void count_close(std::uint16_t code) { ++closes_by_code_[code]; }
    void count_publish(unsigned status) { ++publish_by_status_[status]; }
    std::shared_ptr<core::source_metrics_registry> sources = std::make_shared<core::source_metrics_registry>();
    /// The body of GET /metrics. Loop thread.
    std::string render_metrics();

private:
    std::shared_ptr<net::listener> listener_;
    std::unique_ptr<boost::asio::steady_timer> ping_timer_;
    std::unique_ptr<boost::asio::steady_timer> stop_timer_;
    std::unique_ptr<boost::asio::steady_timer> housekeeping_timer_;
    std::size_t open_connections_ = 0;
    std::map<std::uint16_t, std::uint64_t> closes_by_code_;
    std::map<unsigned, std::uint64_t> publish_by_status_;
    bool stopped_ = false;
    std::size_t publishes_in_flight_ = 0;  // broker publishes not yet answered (stop waits for them)
    std::unordered_map<std::string, std::size_t> per_ip_;
    std::unique_ptr<boost::asio::signal_set> signals_;
    std::unordered_map<net::websocket_session*, std::shared_ptr<net::websocket_session>> sessions_;
    std::unordered_set<net::http_session*> http_sessions_;
    std::vector<net::websocket_session*> dirty_;
    /// Publications waiting to be fanned out, with when each reached this
    /// node (steady clock, ns) for notifier_fanout_latency_seconds.
    struct waiting_publication {
        publication_ptr pub;
        std::int64_t received_ns;
    };
    std::deque<waiting_publication> fanout_;
    /// Arrival times of live publications queued to at least one session
    /// since the last flush; recorded when that flush ends.
    std::vector<std::int64_t> unflushed_;
    core::duration_histogram flush_duration_, fanout_latency_;
    std::size_t fanout_bytes_ = 0;
    bool fanout_running_ = false;
    bool flush_posted_ = false;
    bool stopping_ = false;

    core::notification_inbox inbox_;
    std::vector<notification> draining_;
    // Batches notify() accepted that the broker failed to publish, oldest
    // first; retried before anything newer so order holds.
    std::deque<std::shared_ptr<pending_batch>> retry_;
    std::unique_ptr<boost::asio::steady_timer> retry_timer_;
    bool retry_scheduled_ = false;
    std::atomic<bool> drain_scheduled_{false};  // a drain_inbox() is due: producers need not wake the loop
    std::atomic<bool> closed_{false};
    std::mutex batch_admission_;  // submit(batch): check and push as one           // submit() refuses after stop
    void wake_drain();
};

}  // namespace notifier
