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

constexpr std::uint64_t ns_from_s(double s) noexcept {
    return static_cast<std::uint64_t>(s * 1e9);
}

}  // namespace loadgen
