// SPDX-License-Identifier: MIT
#include "core/random_epoch.hpp"

#include <random>

namespace notifier::core {

std::string random_epoch() {
    std::random_device rd;
    std::uniform_int_distribution<unsigned> hex(0, 15);
    std::string s(16, '0');
    for (auto& c : s) c = "0123456789abcdef"[hex(rd)];
    return s;
}

}  // namespace notifier::core
