// SPDX-License-Identifier: MIT
// Publish throughput through one Redis: how many notifications per second
// the Redis broker numbers, stores and announces, with batches of
// --batch notifications and --inflight batches pipelined on one connection.
//
//   redis_publish_bench --redis redis://127.0.0.1:6379/bench --count 200000 --batch 100 --inflight 16

#include <notifier/broker/redis_broker.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct counting_handler final : notifier::broker_handler {
    std::uint64_t received = 0, resets = 0;
    void on_publications(std::span<const notifier::publication_ptr> pubs) override { received += pubs.size(); }
    void on_reset(std::string_view, std::uint64_t) override { ++resets; }
};

}  // namespace

int main(int argc, char** argv) {
    std::string url = "redis://127.0.0.1:6379/bench";
    std::size_t count = 200'000, batch = 100, inflight = 16;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--redis")) url = argv[i + 1];
        else if (!std::strcmp(argv[i], "--count")) count = std::strtoull(argv[i + 1], nullptr, 10);
        else if (!std::strcmp(argv[i], "--batch")) batch = std::strtoull(argv[i + 1], nullptr, 10);
        else if (!std::strcmp(argv[i], "--inflight")) inflight = std::strtoull(argv[i + 1], nullptr, 10);
        else {
            std::fprintf(stderr, "usage: %s [--redis URL] [--count N] [--batch N] [--inflight N]\n", argv[0]);
            return 2;
        }
    }
    boost::asio::io_context ioc(1);
    auto opts = notifier::parse_redis_url(url);
    opts.history_size = 100'000;
    notifier::redis_broker broker(ioc, opts);
    counting_handler handler;
    broker.start(handler);

    std::vector<notifier::notification> b;
    for (std::size_t i = 0; i < batch; ++i)
        b.push_back({"bench", "tick", std::to_string(i), R"({"name":"General","topics":12})"});

    std::size_t sent = 0, done = 0, failed = 0;
    const auto t0 = std::chrono::steady_clock::now();
    std::function<void()> send_one = [&] {
        if (sent >= count) return;
        sent += batch;
        broker.publish(b, [&](std::error_code ec, std::uint64_t) {
            if (ec) ++failed;
            done += batch;
            send_one();
        });
    };
    for (std::size_t i = 0; i < inflight; ++i) send_one();
    while (done < sent || sent < count) ioc.run_one();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("{\"notifications\":%zu,\"batch\":%zu,\"inflight\":%zu,\"seconds\":%.3f,\"per_second\":%.0f,"
                "\"failed_batches\":%zu,\"dispatched\":%llu}\n",
                done, batch, inflight, s, double(done) / s, failed, static_cast<unsigned long long>(handler.received));
    broker.stop();
    return failed ? 1 : 0;
}
