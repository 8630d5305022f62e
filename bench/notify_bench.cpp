// SPDX-License-Identifier: MIT
// Cost of notify() on the caller's thread: validation, copying into the
// hub's inbox, and (on the empty → non-empty edge only) waking the loop.

#include <notifier/notifier.hpp>

#include "core/ws_frame_parser.hpp"

#include <benchmark/benchmark.h>

#include <thread>

namespace {

constexpr std::string_view small_data = R"({"name":"General","topics":12})";

// A running hub with no clients: the loop drains the inbox concurrently on
// the other core, as in a real service. What is measured is the caller's
// cost while the hub keeps up: the loop needs longer per notification than
// notify() does, so an unpaced caller would soon only measure the cheap
// errc::overloaded answer (or, with a huge backlog, the heap fallback).
// The inbox is therefore bounded to its preallocated slots, and a call that
// finds it full waits, untimed, until the loop has made room; those waits
// are counted.
void notify_to_running_hub(benchmark::State& state) {
    notifier::options o;
    o.listen_port = 0;
    o.max_pending_notifications = 1024;
    notifier::hub hub(o);
    hub.start();
    notifier::notifier n(hub);
    std::int64_t waits = 0, failed = 0;
    for (auto _ : state) {
        auto ec = n.notify("forums", "update", std::int64_t{17}, small_data);
        if (ec == notifier::errc::overloaded) {
            state.PauseTiming();
            ++waits;
            while ((ec = n.notify("forums", "update", std::int64_t{17}, small_data)) == notifier::errc::overloaded)
                std::this_thread::yield();
            state.ResumeTiming();
        }
        if (ec) ++failed;
    }
    state.counters["waits"] = static_cast<double>(waits);
    state.counters["failed"] = static_cast<double>(failed);
    hub.stop();
}
BENCHMARK(notify_to_running_hub)->Repetitions(5)->ReportAggregatesOnly(true);

// Validation and construction only (a sink that drops).
void notify_with_sink(benchmark::State& state) {
    notifier::notifier n([](notifier::notification&& x) { benchmark::DoNotOptimize(x); });
    for (auto _ : state) benchmark::DoNotOptimize(n.notify("forums", "update", std::int64_t{17}, small_data));
}
BENCHMARK(notify_with_sink);

void transaction_of_ten(benchmark::State& state) {
    notifier::notifier n([](notifier::notification&& x) { benchmark::DoNotOptimize(x); });
    for (auto _ : state) {
        notifier::transaction tx(n);
        for (int i = 0; i < 10; ++i) tx.notify("posts", "create", std::int64_t{i}, small_data);
        benchmark::DoNotOptimize(tx.commit());
    }
}
BENCHMARK(transaction_of_ten);

// Encoding once per notification: JSON and WebSocket frame.
void make_publication(benchmark::State& state) {
    notifier::notification n{"forums", "update", "17", std::string(small_data)};
    std::uint64_t seq = 0;
    for (auto _ : state) benchmark::DoNotOptimize(notifier::make_publication(++seq, n));
}
BENCHMARK(make_publication);

void validate_json(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(notifier::is_valid_json(small_data));
}
BENCHMARK(validate_json);

}  // namespace

BENCHMARK_MAIN();
