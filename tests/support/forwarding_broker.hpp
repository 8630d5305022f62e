// SPDX-License-Identifier: MIT
#pragma once
// A broker that hands everything to an in-memory broker: tests derive from
// it and override publish() or available() to fail or to record, keeping
// the rest of the contract as the memory broker keeps it.

#include <notifier/broker/memory_broker.hpp>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace notifier::test {

class forwarding_broker : public broker {
public:
    void start(broker_handler& h) override { inner_.start(h); }
    void stop() override { inner_.stop(); }
    void publish(std::span<const notification> batch, publish_handler done) override {
        inner_.publish(batch, std::move(done));
    }
    void read(std::string_view epoch, std::uint64_t after, std::size_t max_count, read_handler done) override {
        inner_.read(epoch, after, max_count, std::move(done));
    }
    void restart(std::function<void(std::error_code)> done) override { inner_.restart(std::move(done)); }
    std::string epoch() const override { return inner_.epoch(); }
    std::uint64_t last_seq() const override { return inner_.last_seq(); }

private:
    memory_broker inner_{100};
};

}  // namespace notifier::test
