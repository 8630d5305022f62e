// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <ctime>

namespace loadgen {

// CLOCK_MONOTONIC in nanoseconds. Publishers stamp "t" with it and receivers
// subtract it, so both sides must use the same clock on the same machine.
inline std::uint64_t now_ns() noexcept {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

// CLOCK_REALTIME minus CLOCK_MONOTONIC, in nanoseconds: converts the
// kernel's receive timestamps (real time) to the clock "t" is stamped with.
// The narrowest of a few bracketed readings; steady over one run.
inline std::int64_t realtime_offset_ns() noexcept {
    std::int64_t best = 0;
    std::uint64_t narrowest = ~std::uint64_t(0);
    for (int i = 0; i < 16; ++i) {
        const std::uint64_t before = now_ns();
        timespec rt;
        clock_gettime(CLOCK_REALTIME, &rt);
        const std::uint64_t after = now_ns();
        const std::int64_t real =
            std::int64_t(rt.tv_sec) * 1'000'000'000ll + std::int64_t(rt.tv_nsec);
        if (after - before < narrowest) {
            narrowest = after - before;
            best = real - std::int64_t(before + (after - before) / 2);
        }
    }
    return best;
}

constexpr std::uint64_t ns_from_s(double s) noexcept {
    return static_cast<std::uint64_t>(s * 1e9);
}

}  // namespace loadgen
