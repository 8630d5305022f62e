// SPDX-License-Identifier: MIT
#include "publish_log.hpp"

#include <sys/mman.h>

#include <new>

namespace loadgen {

publish_log::publish_log(std::size_t capacity) {
    // Under strict overcommit a huge reservation can fail; settle for less
    // (publishes beyond the capacity are simply not order-checked).
    void* p = MAP_FAILED;
    for (; capacity >= (std::size_t(1) << 20); capacity /= 2) {
        p = mmap(nullptr, capacity * sizeof(std::uint16_t), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p != MAP_FAILED) break;
    }
    if (p == MAP_FAILED) throw std::bad_alloc();
    table_ = static_cast<std::uint16_t*>(p);
    capacity_ = capacity;
}

publish_log::~publish_log() {
    if (table_) munmap(table_, capacity_ * sizeof(std::uint16_t));
}

}  // namespace loadgen
