// SPDX-License-Identifier: MIT
#pragma once
// The multi-node broker: every notifierd node on one Redis shares one
// sequence, one history and one stream of publications (docs/scaling.md).

#include <notifier/broker/broker.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace notifier {

struct redis_options {
    std::string host = "127.0.0.1";
    int port = 6379;
    /// Key prefix: nodes with the same Redis and prefix form one cluster.
    std::string prefix = "notifier";
    /// Publications kept in the Redis stream for resume.
    std::size_t history_size = 10'000;
    /// Wait before reconnecting after a failure, doubling up to the maximum.
    std::chrono::milliseconds reconnect_min{100};
    std::chrono::milliseconds reconnect_max{2'000};
    /// Blocking connect at start(): how long to try before giving up.
    std::chrono::milliseconds connect_timeout{2'000};
    /// A command unanswered this long means Redis is gone even though the
    /// connection looks open (host frozen, partition): the connection is
    /// dropped, its commands fail (publish answers 503) and it reconnects.
    std::chrono::milliseconds command_timeout{5'000};
};

/// Parses `redis://host[:port][/prefix]`; throws std::invalid_argument.
redis_options parse_redis_url(std::string_view url);

/// A Redis-backed broker. seq and epoch are assigned in Redis by one Lua
/// script that also appends to a bounded stream (the history) and publishes
/// to the nodes, atomically. Each node delivers in seq order and fills gaps
/// from the stream. start() connects synchronously and throws
/// std::runtime_error when Redis cannot be reached; later outages are
/// survived (available() is false meanwhile).
class redis_broker final : public broker {
public:
    redis_broker(boost::asio::io_context& ioc, redis_options opts);
    ~redis_broker() override;

    void start(broker_handler& handler) override;
    void stop() override;
    void publish(std::span<const notification> batch, publish_handler done) override;
    void read(std::string_view epoch, std::uint64_t after, std::size_t max_count,
              read_handler done) override;
    void restart(std::function<void(std::error_code)> done) override;
    std::string epoch() const override;
    std::uint64_t last_seq() const override;
    bool available() const noexcept override;

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

/// A factory for hub(options, broker_factory).
broker_factory make_redis_broker(redis_options opts);

}  // namespace notifier
