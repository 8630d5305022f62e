// Cost of notify() on the caller's thread: validation, copying into the
// hub's inbox, and (on the empty → non-empty edge only) waking the loop.

#include <notifier/notifier.hpp>

#include "core/ws_frame_parser.hpp"

#include <benchmark/benchmark.h>

namespace {

constexpr std::string_view small_data = R"({"name":"General","topics":12})";

// A running hub with no clients: the loop drains the inbox concurrently,
// as in a real service.
void notify_to_running_hub(benchmark::State& state) {
    notifier::options o;
    o.listen_port = 0;
    notifier::hub hub(o);
    hub.start();
    notifier::notifier n(hub);
    std::int64_t overloaded = 0;
    for (auto _ : state) {
        if (n.notify("forums", "update", std::int64_t{17}, small_data)) ++overloaded;
    }
    state.counters["overloaded"] = static_cast<double>(overloaded);
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
