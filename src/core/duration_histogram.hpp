// SPDX-License-Identifier: MIT
#pragma once
// Durations in fixed buckets for a Prometheus histogram. Written by one
// thread (a shard's loop) a few thousand times a second, copied at scrape
// time on the same thread: plain integers, no allocation after construction.

#include <array>
#include <cstdint>
#include <span>

namespace notifier::core {

class duration_histogram {
public:
    /// Upper bounds in seconds (the `le` labels); +Inf follows implicitly.
    static constexpr std::array<double, 14> bounds_seconds{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                           0.01,    0.025,  0.05,    0.1,    0.25,   0.5,    1.0};

    void record(std::uint64_t ns) noexcept {
        std::size_t i = 0;
        while (i < bounds_ns.size() && ns > bounds_ns[i]) ++i;
        ++counts_[i];
        ++count_;
        sum_ns_ += ns;
    }

    /// Adds another histogram's observations (shards merged at scrape time).
    void merge(const duration_histogram& o) noexcept {
        for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
        count_ += o.count_;
        sum_ns_ += o.sum_ns_;
    }

    /// Per bucket, not cumulative; the last one is above every bound.
    std::span<const std::uint64_t> counts() const noexcept { return counts_; }
    std::uint64_t count() const noexcept { return count_; }
    double sum_seconds() const noexcept { return double(sum_ns_) / 1e9; }

private:
    static constexpr std::array<std::uint64_t, 14> bounds_ns{50'000,     100'000,    250'000,     500'000,
                                                             1'000'000,  2'500'000,  5'000'000,   10'000'000,
                                                             25'000'000, 50'000'000, 100'000'000, 250'000'000,
                                                             500'000'000, 1'000'000'000};
    std::array<std::uint64_t, bounds_ns.size() + 1> counts_{};
    std::uint64_t count_ = 0;
    std::uint64_t sum_ns_ = 0;
};

}  // namespace notifier::core
