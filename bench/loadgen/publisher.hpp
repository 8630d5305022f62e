// SPDX-License-Identifier: MIT
#pragma once

#include "publish_connection.hpp"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace loadgen {

class spread_plan;
class tls_context;
struct options;
struct url;

// The publishing side, on its own thread with its own epoll set so that
// publish pacing and the "t" stamps do not depend on how busy the receive
// loop is. Counters are atomics the receive loop polls during the drain.
class publisher {
public:
    // `plan` writes the bodies and counts what each forum was sent; tls is
    // non-null for an https:// target.
    publisher(const options& opts, const url& target, const tls_context* tls, publish_log& log, spread_plan& plan);
    ~publisher();
    publisher(const publisher&) = delete;
    publisher& operator=(const publisher&) = delete;

    // Opens every connection (blocking); false and err if one fails.
    bool connect(std::string& err);
    // What the first connection negotiated, after connect(); empty over plain TCP.
    const tls_session& negotiated() const noexcept { return negotiated_; }

    // Publishes from now until end_ns, then waits for the requests in flight
    // until give_up_ns (those still unanswered count as errors).
    void start(std::uint64_t end_ns, std::uint64_t give_up_ns);
    void stop_early() noexcept { stop_.store(true, std::memory_order_relaxed); }
    void join();

    bool finished() const noexcept { return finished_.load(std::memory_order_acquire); }
    std::uint64_t accepted() const noexcept { return accepted_.load(std::memory_order_relaxed); }
    std::uint64_t errors() const noexcept { return errors_.load(std::memory_order_relaxed); }
    std::uint64_t sent() const noexcept { return sent_.load(std::memory_order_relaxed); }
    // Time the last publish was sent (publishing window end), ns.
    std::uint64_t last_send_ns() const noexcept { return last_send_ns_.load(std::memory_order_relaxed); }
    // First rejection or transport error, for the summary; call after join().
    std::string first_error() const;

private:
    void run();
    void note_error(const std::string& what, bool failed_publish = true);
    bool reconnect(publish_connection& c);

    const options& opts_;
    const url& target_;
    publish_log& log_;
    spread_plan& plan_;
    std::vector<publish_connection> conns_;
    tls_session negotiated_;
    std::thread thread_;
    std::uint64_t end_ns_ = 0;
    std::uint64_t give_up_ns_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<bool> finished_{false};
    std::atomic<std::uint64_t> accepted_{0};
    std::atomic<std::uint64_t> errors_{0};
    std::atomic<std::uint64_t> sent_{0};
    std::atomic<std::uint64_t> last_send_ns_{0};
    mutable std::mutex error_mutex_;
    std::string first_error_;
};

}  // namespace loadgen
