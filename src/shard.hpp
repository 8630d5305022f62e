// SPDX-License-Identifier: MIT
#pragma once
// One shard of the hub: one thread, one event loop, and the sessions that
// live on it (docs/architecture.md, "Shards"). A session is created on one
// shard and never touched by another thread; what crosses threads is the
// stream of publications (shared, immutable), sockets handed over by the
// acceptor, and requests to the intake (publish, history reads, metrics),
// each answered back on this shard's loop.
//
// This class is also the sessions' whole view of the hub: the narrow door
// below (queue and mark dirty, change subscriptions, read history, check
// permissions, count and log). Private header: it pulls in Asio.

#include <notifier/broker/broker.hpp>
#include <notifier/hub.hpp>
#include <notifier/options.hpp>

#include "core/duration_histogram.hpp"
#include "core/jwt_verifier.hpp"
#include "core/loop_counter.hpp"
#include "core/subscription_index.hpp"
#include "core/topic.hpp"
#include "log.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

struct ssl_ctx_st;

namespace notifier {

namespace net {
class http_session;
class subscriber;
}  // namespace net

class connection_slot;

/// Counters of one shard, written on its loop only (plain-cost increments),
/// summed over shards by hub::stats() and /metrics from any thread.
struct shard_counters {
    core::loop_counter ws_opened, sse_opened, published, deliveries, resyncs, slow_consumers, auth_failures, flushes;
    // TLS handshakes by outcome; tls_kernel counts the ok ones on kTLS.
    core::loop_counter tls_ok, tls_kernel, tls_failed, tls_timeout, tls_plain_http;
};

enum class tls_outcome { ok, ok_kernel, failed, timeout, plain_http };

/// What one shard reports to /metrics, taken on its own loop.
struct shard_snapshot {
    std::uint64_t sessions = 0, sse_streams = 0, subscriptions = 0, queued_bytes = 0, backlog_bytes = 0;
    std::map<std::uint16_t, std::uint64_t> closes_by_code, sse_closes_by_code;
    std::map<unsigned, std::uint64_t> publish_by_status;
    core::duration_histogram flush_duration, fanout_latency;
};

class shard {
public:
    /// `shared_loop`: run on that loop (a hub of one shard shares the
    /// intake's); null: own loop, run by start_thread().
    shard(hub::impl& hub, unsigned index, boost::asio::io_context* shared_loop);
    ~shard();
    shard(const shard&) = delete;
    shard& operator=(const shard&) = delete;

    // --- the sessions' door (this shard's loop only unless noted) ---
    const options& opts() const noexcept { return opts_; }
    const logger& log() const noexcept { return log_; }
    shard_counters& counts() noexcept { return counts_; }
    boost::asio::io_context& loop() noexcept { return *loop_; }
    /// Unique over the process (logs only). Any thread.
    std::uint64_t new_session_id() noexcept;
    /// One receive buffer for every session of the shard: the loop reads one
    /// socket at a time and parses in place, so idle connections need none.
    std::span<char> read_buffer() noexcept { return read_buffer_; }
    /// The epoch and newest seq fanned out on this shard: where a new
    /// session starts and where a replay joins the live stream.
    const std::string& epoch() const noexcept { return epoch_; }
    std::uint64_t last_dispatched() const noexcept { return last_dispatched_; }
    bool stopping() const noexcept { return stopping_; }
    /// Subscriber tokens are required (a secret or public key is configured).
    bool auth_enabled() const noexcept;
    /// Thread-safe (const, no shared state).
    const core::jwt_verifier& verifier() const noexcept;
    bool publish_key_ok(std::string_view authorization) const noexcept;
    /// The context for a new TLS handshake; null when the listener is plain.
    std::shared_ptr<ssl_ctx_st> tls_context() const;
    void count_tls_handshake(tls_outcome o);
    /// POST /publish answers 503 while fan-out is this far behind anywhere.
    bool backlogged() const noexcept;

    void add_session(std::shared_ptr<net::subscriber> s);
    void remove_session(net::subscriber* s);
    void add_http(net::http_session* s) { http_sessions_.insert(s); }
    void remove_http(net::http_session* s) { http_sessions_.erase(s); }
    void subscribe(net::subscriber* s, const core::topic& t) { index_.add(t, s); }
    void unsubscribe(net::subscriber* s, const core::topic& t) { index_.remove(t, s); }
    /// Coalesces writes: a session marked dirty is flushed once at the end
    /// of this loop turn, however many publications it got.
    void mark_dirty(net::subscriber* s);

    using history_handler = std::function<void(history_page)>;
    /// Reads history through the intake; `done` runs on this shard's loop
    /// (never before the call returns), and never once the hub stopped.
    void read_history(std::string epoch, std::uint64_t after, std::size_t max_count, history_handler done);
    /// Publishes through the intake (POST /publish): `done` runs on this
    /// shard's loop once the broker stored the batch (or failed).
    void publish(std::vector<notification> batch, broker::publish_handler done);
    /// GET /metrics over every shard; `done` runs on this shard's loop.
    void render_metrics(std::function<void(std::string)> done);
    void count_close(std::uint16_t code) { ++closes_by_code_[code]; }
    void count_sse_close(std::uint16_t code) { ++sse_closes_by_code_[code]; }
    void count_publish(unsigned status) { ++publish_by_status_[status]; }

    // --- the hub's side ---
    unsigned index() const noexcept { return index_no_; }
    void start_thread();
    void join();
    /// Starts the shard's timers (before its loop runs).
    void start(std::string epoch, std::uint64_t last_seq);
    /// Takes a connection the acceptor accepted (acceptor's thread).
    void adopt(boost::asio::ip::tcp::socket socket, std::unique_ptr<connection_slot> slot);
    /// Open connections on this shard, for the acceptor's choice. Any thread.
    std::size_t connections() const noexcept { return connections_.load(std::memory_order_relaxed); }
    void connection_closed() noexcept { connections_.fetch_sub(1, std::memory_order_relaxed); }
    /// Publications in seq order, from the intake's thread; `received_ns`
    /// is when they reached this node.
    void enqueue(std::span<const publication_ptr> pubs, std::int64_t received_ns);
    /// A new epoch starting at `seq`, in order with the publications.
    void enqueue_reset(std::string epoch, std::uint64_t seq);
    /// Bytes enqueued and not yet fanned out. Any thread.
    std::size_t backlog_bytes() const noexcept { return backlog_bytes_.load(std::memory_order_seq_cst); }
    /// Fans out whatever was enqueued, then closes every connection (1001);
    /// tells the hub once the last session is gone. Any thread.
    void begin_stop();
    /// Cancels the close deadline: terminates what is left. Shard's loop.
    void terminate_all();
    /// Lets the loop end (after stop). Any thread.
    void release_loop();
    /// Destroys sessions and timers (their loop no longer runs).
    void clear();
    shard_snapshot snapshot() const;
    std::uint64_t sessions() const noexcept { return n_sessions_.load(std::memory_order_relaxed); }
    /// Newest seq fanned out, readable from any thread.
    std::uint64_t dispatched_seq() const noexcept { return n_last_seq_.load(std::memory_order_relaxed); }

private:
    struct item {  // one publication, or a reset when pub is null
        publication_ptr pub;
        std::int64_t received_ns = 0;
        std::shared_ptr<const std::string> reset_epoch;
        std::uint64_t reset_seq = 0;
    };
    void take_incoming();
    void fanout_step(bool unbounded = false);
    void flush_dirty();
    bool publications_coming();
    void resync_all(std::uint64_t seq);
    void drop_backlog_and_resync();
    void schedule_ping();
    void schedule_housekeeping();
    void do_begin_stop();
    void maybe_stopped();
    template <class F>
    void for_each_session(F&& f);

    hub::impl& hub_;
    const options& opts_;
    const logger& log_;
    unsigned index_no_;
    std::unique_ptr<boost::asio::io_context> own_loop_;
    boost::asio::io_context* loop_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::thread thread_;
    std::vector<char> read_buffer_;
    shard_counters counts_;
    std::string epoch_;
    std::uint64_t last_dispatched_ = 0;
    std::atomic<std::uint64_t> n_last_seq_{0}, n_sessions_{0};
    std::atomic<std::size_t> connections_{0};

    core::subscription_index<net::subscriber*> index_;
    std::unordered_map<net::subscriber*, std::shared_ptr<net::subscriber>> sessions_;
    std::unordered_set<net::http_session*> http_sessions_;
    std::vector<net::subscriber*> dirty_;
    bool flush_posted_ = false;
    unsigned flush_deferrals_ = 0;
    bool flush_waits_ = false;  // for the next hand-over (take_incoming), or flush_timer_
    std::unique_ptr<boost::asio::steady_timer> flush_timer_;

    // Handed over by the intake: appended under the lock, taken in one swap.
    std::mutex incoming_mutex_;
    std::vector<item> incoming_;
    bool incoming_posted_ = false;  // under incoming_mutex_
    std::atomic<std::size_t> backlog_bytes_{0};

    std::deque<item> fanout_;
    bool fanout_running_ = false;
    /// Arrival times of live publications queued to at least one session
    /// since the last flush; recorded when that flush ends.
    std::vector<std::int64_t> unflushed_;
    core::duration_histogram flush_duration_, fanout_latency_;
    std::map<std::uint16_t, std::uint64_t> closes_by_code_, sse_closes_by_code_;
    std::map<unsigned, std::uint64_t> publish_by_status_;

    std::unique_ptr<boost::asio::steady_timer> ping_timer_, housekeeping_timer_;
    bool stopping_ = false;
    bool stop_reported_ = false;
};

}  // namespace notifier
