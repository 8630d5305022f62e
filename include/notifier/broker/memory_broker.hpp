// SPDX-License-Identifier: MIT
#pragma once
// The single-node broker: numbering and history in this process's memory.

#include <notifier/broker/broker.hpp>

#include <memory>

namespace notifier {

/// Keeps the last `history_size` publications. A new instance starts a new
/// random epoch, so clients of a restarted server get `resync`.
class memory_broker final : public broker {
public:
    explicit memory_broker(std::size_t history_size);
    ~memory_broker() override;

    void start(broker_handler& handler) override;
    void stop() override;
    void publish(std::span<const notification> batch, publish_handler done) override;
    void read(std::string_view epoch, std::uint64_t after, std::size_t max_count,
              read_handler done) override;
    void restart(std::function<void(std::error_code)> done) override;
    std::string epoch() const override;
    std::uint64_t last_seq() const override;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace notifier
