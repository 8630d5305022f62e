// SPDX-License-Identifier: MIT
#pragma once

#include <bit>
#include <cstdint>
#include <vector>

namespace loadgen {

// Log-linear histogram of microsecond values (HdrHistogram layout): exact
// below 1024 us, then 512 linear sub-buckets per power of two, i.e. < 0.2 %
// relative error, fixed ~115 KiB whatever the sample count. record() is a
// handful of instructions because it runs once per received message.
class latency_histogram {
public:
    latency_histogram();

    void record(std::uint64_t us) noexcept {
        if (us > max_trackable) us = max_trackable;
        ++counts_[index_of(us)];
        ++count_;
        if (us > max_) max_ = us;
    }

    /// Adds another histogram's samples (one per receiving thread).
    void merge(const latency_histogram& other) noexcept {
        for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
        count_ += other.count_;
        if (other.max_ > max_) max_ = other.max_;
    }

    std::uint64_t count() const noexcept { return count_; }
    std::uint64_t max() const noexcept { return max_; }
    // Value at quantile q in [0, 1]; the upper edge of the matching bucket
    // (clamped to the max seen), 0 when empty.
    std::uint64_t quantile(double q) const noexcept;

private:
    static constexpr int sub_bits = 10;
    static constexpr std::uint64_t sub_count = 1ull << sub_bits;     // 1024
    static constexpr std::uint64_t half_count = sub_count / 2;       // 512
    static constexpr std::uint64_t max_trackable = (1ull << 40) - 1;  // ~12.7 days

    static std::size_t index_of(std::uint64_t v) noexcept {
        if (v < sub_count) return std::size_t(v);
        int shift = std::bit_width(v) - sub_bits;  // >= 1
        return std::size_t(std::uint64_t(shift) * half_count + (v >> shift));
    }
    static std::uint64_t upper_edge(std::size_t i) noexcept;

    std::vector<std::uint64_t> counts_;
    std::uint64_t count_ = 0;
    std::uint64_t max_ = 0;
};

}  // namespace loadgen
