// SPDX-License-Identifier: MIT
#include "core/rate_limiter.hpp"

#include <algorithm>

namespace notifier::core {

rate_limiter::rate_limiter(double per_second, std::size_t burst, time_point now) noexcept
    : per_second_(per_second), burst_(burst), tokens_(static_cast<double>(burst)), refill_(now) {}

rate_limiter::verdict rate_limiter::take(time_point now) noexcept {
    if (now > refill_) {
        const double elapsed = std::chrono::duration<double>(now - refill_).count();
        refill_ = now;
        tokens_ = std::min(static_cast<double>(burst_), tokens_ + elapsed * per_second_);
    }
    if (tokens_ >= 1.0) {
        tokens_ -= 1.0;
        refused_in_a_row_ = 0;
        return verdict::accept;
    }
    // Refused, said once per message; a whole burst of refusals in a row is
    // abuse, not a hiccup.
    return ++refused_in_a_row_ >= burst_ ? verdict::abuse : verdict::refuse;
}

}  // namespace notifier::core
