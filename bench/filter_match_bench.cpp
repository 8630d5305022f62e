// SPDX-License-Identifier: MIT
// Who receives a notification of `posts` when N subscribers each watch a
// different forum (`posts[forum_id=k]`, k = 0 … N-1): the subscription
// index against evaluating every filter.
//
// Each iteration matches one prebuilt notification (real notification JSON
// as the hub holds it) with a fresh lazy_rows, so reading data and old is
// part of the cost, as it is once per publication in the hub. Notifications
// cycle over the forums. Counters: `matches` per notification (the
// subscribers it reaches) and N.
//
//   index_update_moved   update with data and old in two forums: 2 matches
//   index_update_same    update, data and old in one forum: 1 match
//   index_create         data only: 1 match
//   naive_*              the same notifications, filter->matches(rows) on all N
//   index_no_forum_id    data without forum_id: every filter holds (the
//                        over-delivery rule), N matches; grows with N by design
//   rows_only_*          reading data (and old) alone, no index: subtract it
//                        from index_* for the index's own share

#include "core/notification_rows.hpp"
#include "core/subscription_index.hpp"
#include "core/topic.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace core = notifier::core;

enum class shape { update_moved, update_same, create, no_forum_id };

// Distinct notifications per benchmark: enough to leave the branch
// predictor and the caches nothing to memorize about one of them.
constexpr std::size_t notification_count = 1024;

std::string row(std::uint64_t forum, std::uint64_t post, const char* title) {
    return "{\"id\":" + std::to_string(post) + ",\"forum_id\":" + std::to_string(forum) +
           ",\"author_id\":" + std::to_string(post % 977) + ",\"title\":\"" + title +
           "\",\"body\":\"Has anyone measured how the new index behaves when most subscribers watch another "
           "forum?\",\"pinned\":false,\"updated_at\":\"2026-12-08T10:15:00Z\"}";
}

// A notification as the hub serializes it (seq, collection, action, id,
// data, old), forum = j-th forum of a walk over all N.
std::vector<std::string> notifications(std::size_t n, shape s) {
    std::vector<std::string> out;
    out.reserve(notification_count);
    for (std::size_t j = 0; j < notification_count; ++j) {
        const std::uint64_t forum = (j * 7919) % n;   // a prime stride visits forums in no fixed order
        const std::uint64_t other = (forum + 1) % n;  // where a moved post was
        const std::uint64_t post = 100000 + j;
        std::string json = "{\"seq\":" + std::to_string(j + 1) + ",\"collection\":\"posts\",\"action\":\"" +
                           (s == shape::create ? "create" : "update") + "\",\"id\":\"" + std::to_string(post) +
                           "\",\"data\":";
        switch (s) {
            case shape::update_moved:
                json += row(forum, post, "Index benchmarks") + ",\"old\":" + row(other, post, "Index benchmark");
                break;
            case shape::update_same:
                json += row(forum, post, "Index benchmarks") + ",\"old\":" + row(forum, post, "Index benchmark");
                break;
            case shape::create:
                json += row(forum, post, "Index benchmarks");
                break;
            case shape::no_forum_id:
                json += "{\"id\":" + std::to_string(post) + ",\"title\":\"Index benchmarks\",\"pinned\":true}";
                break;
        }
        out.push_back(json + "}");
    }
    return out;
}

std::vector<core::topic> forum_topics(std::size_t n) {
    std::vector<core::topic> out;
    out.reserve(n);
    for (std::size_t k = 0; k < n; ++k) {
        auto t = core::parse_topic("posts[forum_id=" + std::to_string(k) + "]");
        if (!t) throw std::runtime_error("filter refused");
        out.push_back(std::move(*t));
    }
    return out;
}

void report(benchmark::State& state, std::uint64_t matches) {
    state.counters["matches"] = benchmark::Counter(double(matches), benchmark::Counter::kAvgIterations);
    state.counters["N"] = double(state.range(0));
}

template <shape S>
void index_match(benchmark::State& state) {
    const auto n = std::size_t(state.range(0));
    core::subscription_index<std::uint32_t> index;
    {
        const auto topics = forum_topics(n);
        for (std::size_t k = 0; k < n; ++k) index.add(topics[k], std::uint32_t(k));
    }  // the index keeps the filters alive
    const auto json = notifications(n, S);
    std::uint64_t matches = 0;
    std::size_t j = 0;
    for (auto _ : state) {
        core::lazy_rows rows(json[j]);
        index.match("posts", "", rows, [&](std::uint32_t key) {
            benchmark::DoNotOptimize(key);
            ++matches;
        });
        if (++j == json.size()) j = 0;
    }
    report(state, matches);
}

// What the index avoids: every filter evaluated on the rows (read once).
template <shape S>
void naive_match(benchmark::State& state) {
    const auto n = std::size_t(state.range(0));
    std::vector<std::shared_ptr<const core::row_filter>> filters;
    for (auto& t : forum_topics(n)) filters.push_back(std::move(t.filter));
    const auto json = notifications(n, S);
    std::uint64_t matches = 0;
    std::size_t j = 0;
    for (auto _ : state) {
        core::lazy_rows rows(json[j]);
        const core::notification_rows& r = rows.get();
        for (std::uint32_t k = 0; k < filters.size(); ++k)
            if (filters[k]->matches(r)) {
                benchmark::DoNotOptimize(k);
                ++matches;
            }
        if (++j == json.size()) j = 0;
    }
    report(state, matches);
}

// Reading data and old alone: what every index_* case above pays before
// the index looks at anything.
template <shape S>
void rows_only(benchmark::State& state) {
    const auto json = notifications(1000, S);
    std::size_t j = 0;
    for (auto _ : state) {
        core::lazy_rows rows(json[j]);
        benchmark::DoNotOptimize(rows.get().data.fields.size());
        if (++j == json.size()) j = 0;
    }
}

void forums(benchmark::internal::Benchmark* b) {
    b->ArgName("N");
    for (std::int64_t n : {10, 100, 1000, 10000, 100000}) b->Arg(n);
}

BENCHMARK(index_match<shape::update_moved>)->Name("index_update_moved")->Apply(forums);
BENCHMARK(naive_match<shape::update_moved>)->Name("naive_update_moved")->Apply(forums);
BENCHMARK(index_match<shape::update_same>)->Name("index_update_same")->Apply(forums);
BENCHMARK(index_match<shape::create>)->Name("index_create")->Apply(forums);
BENCHMARK(naive_match<shape::create>)->Name("naive_create")->Apply(forums);
BENCHMARK(index_match<shape::no_forum_id>)->Name("index_no_forum_id")->Apply(forums);
BENCHMARK(rows_only<shape::update_moved>)->Name("rows_only_update");
BENCHMARK(rows_only<shape::create>)->Name("rows_only_create");

}  // namespace

BENCHMARK_MAIN();
