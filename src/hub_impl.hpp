// SPDX-License-Identifier: MIT
#pragma once
// The hub's core: the intake (the one door every notification enters by),
// the broker, the acceptor and the shards. Private header: it pulls in Asio,
// which the public headers keep out.
//
// Threads (docs/architecture.md, "Shards"): the intake loop owns the broker,
// the inbox, the retry queue and the listener; each shard owns its sessions.
// With one shard, the shard runs on the intake's loop: one thread in all.

#include <notifier/broker/broker.hpp>
#include <notifier/hub.hpp>
#include <notifier/options.hpp>

#include "connection_slot.hpp"
#include "core/jwt_verifier.hpp"
#include "core/loop_counter.hpp"
#include "core/notification_inbox.hpp"
#include "core/source_metrics_registry.hpp"
#include "log.hpp"
#include "shard.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

namespace notifier {

namespace net {
class listener;
class tls_context;
}  // namespace net

/// Notifications accepted for publishing, with who to tell once published
/// (submit_confirmed(); empty for notify()).
struct pending_batch {
    std::vector<notification> items;
    hub::confirm_handler done;
};

struct hub::impl final : broker_handler, std::enable_shared_from_this<hub::impl> {
    impl(options o, broker_factory make);
    ~impl() override;

    // --- lifecycle ---
    void listen();  // any thread, before the loops run
    /// Starts the shard threads (shards with a loop of their own).
    void start_shards();
    void join_shards();
    /// True on the intake's or a shard's thread.
    bool on_hub_thread() const noexcept;
    /// Marks the calling thread as one of `h`'s loops (for on_hub_thread()).
    static void enter_thread(const impl* h) noexcept;
    void begin_stop();  // intake loop: graceful stop
    /// A shard has no session left (its thread).
    void shard_stopped();
    /// finish_stop() once every shard is empty and the broker answered
    /// every publish; true when stopped. Intake loop.
    bool maybe_finish_stop();
    void finish_stop();
    bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }

    // --- the intake: notify() front door (any thread) ---
    std::error_code submit(std::vector<notification>&& batch);
    std::error_code submit(notification&& n);
    std::error_code submit(std::string_view collection, std::string_view action, std::optional<std::string_view> id,
                           std::optional<std::string_view> data_json);
    /// Refuses further submit() calls (any thread).
    void close_inbox();
    /// True once stop() began: submit() refuses, posted work may never run.
    bool inbox_closed() const noexcept { return closed_.load(std::memory_order_acquire); }
    /// Destroys I/O objects, then the loops with any handler still queued
    /// (they hold references to this object). Idempotent.
    void shutdown();
    void drain_inbox();
    /// Publishes a batch; on failure keeps it, in order, for a retry.
    void publish_batch(std::shared_ptr<pending_batch> batch);
    /// hub::submit_confirmed() on the intake loop.
    void submit_confirmed(std::vector<notification>&& batch, confirm_handler done);
    /// POST /publish on the intake loop: one try, the answer says how it went.
    /// An empty batch publishes nothing and answers whether a batch would be
    /// taken now (GET /readyz): errc::stopped, broker_unavailable or success.
    void publish_once(std::vector<notification> batch, broker::publish_handler done);
    void schedule_retry();

    // --- broker_handler (intake loop) ---
    void on_publications(std::span<const publication_ptr> pubs) override;
    void on_reset(std::string_view epoch, std::uint64_t seq) override;
    void on_broker_warning(std::string_view event, std::string_view detail) override;
    void on_broker_info(std::string_view event, std::string_view detail) override;

    // --- shards ---
    /// The shard with the fewest open connections: connections spread
    /// evenly, and a shard that holds more than its share takes no more.
    shard& pick_shard() noexcept;
    /// A shard's backlog is above `hold_bytes` (the intake waits before it
    /// publishes more) or above fanout_limit_bytes (POST /publish: 503).
    bool shards_busy() const noexcept;
    bool backlogged() const noexcept;
    /// A shard's backlog fell to hold_bytes: resume a drain that waited.
    void shard_drained();
    static constexpr std::size_t fanout_limit_bytes = 64u << 20;
    /// Above this backlog on a shard (publications arriving from other nodes
    /// faster than it can fan out) its backlog is dropped and its sessions
    /// told to resync: memory stays bounded and nothing is lost silently.
    static constexpr std::size_t fanout_drop_bytes = 256u << 20;
    /// Fan-out per loop turn and shard: a quarter of a client's queue, so a
    /// client that reads at all keeps up, while the loop still writes
    /// hundreds of frames per writev.
    std::size_t fanout_budget() const noexcept;
    /// The shards' counters summed (published and last_seq: the slowest
    /// shard's); sessions and connection counts are left to the caller.
    hub_stats shard_totals() const;
    /// GET /metrics from the shards' snapshots (any thread).
    std::string render_metrics(const std::vector<shard_snapshot>& shards) const;

    /// A slot for a new connection from `ip`, or null when a limit is reached.
    /// Acceptor's thread; released from any shard's.
    std::unique_ptr<connection_slot> acquire_slot(const boost::asio::ip::address& ip);
    void release_slot(const std::string& ip, bool per_ip);
    bool auth_enabled() const noexcept { return verifier != nullptr; }
    bool publish_key_ok(std::string_view authorization) const noexcept;

    options opts;
    logger log;
    std::unique_ptr<core::jwt_verifier> verifier;
    /// Set when the listener speaks TLS; shared by every shard's handshakes.
    std::unique_ptr<net::tls_context> tls;
    std::atomic<std::uint64_t> tls_reloads_ok{0}, tls_reloads_failed{0};
    /// Reads the TLS files again and logs the outcome; rethrows when `rethrow`.
    void reload_tls(bool rethrow);
    void wait_for_signal();
    std::optional<boost::asio::io_context> ioc;  // the intake's loop
    std::unique_ptr<broker> brk;
    std::vector<std::unique_ptr<shard>> shards;
    std::atomic<std::uint16_t> port{0};
    std::thread thread;  // the intake's, after start()
    std::atomic<std::uint64_t> next_session_id{0};
    /// POST /publish batches shards handed to the intake that it has not yet
    /// taken up: a shard's flush waits for what they publish (shard.cpp).
    std::atomic<std::size_t> posts_queued{0};
    /// Acceptor's thread.
    struct counters {
        core::loop_counter accepted, rejected;
    } counts;
    std::shared_ptr<core::source_metrics_registry> sources = std::make_shared<core::source_metrics_registry>();

private:
    std::size_t hold_bytes_;
    std::shared_ptr<net::listener> listener_;
    std::unique_ptr<boost::asio::steady_timer> stop_timer_;
    std::unique_ptr<boost::asio::signal_set> signals_;
    std::atomic<std::size_t> open_connections_{0};
    std::mutex per_ip_mutex_;
    std::unordered_map<std::string, std::size_t> per_ip_;
    std::atomic<bool> stopping_{false};
    bool stopped_ = false;
    bool deadline_passed_ = false;         // close_timeout after stop began
    std::size_t shards_running_ = 0;       // shards not yet empty while stopping
    std::size_t publishes_in_flight_ = 0;  // broker publishes not yet answered (stop waits for them)
    std::uint64_t last_published_ = 0;     // newest seq handed to the shards

    core::notification_inbox inbox_;
    std::vector<notification> draining_;
    // Batches notify() accepted that the broker failed to publish, oldest
    // first; retried before anything newer so order holds.
    std::deque<std::shared_ptr<pending_batch>> retry_;
    std::unique_ptr<boost::asio::steady_timer> retry_timer_;
    bool retry_scheduled_ = false;
    std::atomic<bool> drain_scheduled_{false};  // a drain_inbox() is due: producers need not wake the loop
    std::atomic<bool> waiting_for_shards_{false};  // a drain waits for shard_drained()
    std::atomic<bool> closed_{false};              // submit() refuses after stop
    std::mutex batch_admission_;                   // submit(batch): check and push as one
    void wake_drain();
};

}  // namespace notifier
