// SPDX-License-Identifier: MIT
#include "spread_plan.hpp"

#include "options.hpp"

#include <cstdio>

namespace loadgen {

spread_plan::spread_plan(const options& o)
    : collection_(o.collection), template_(o.subscribe_template), forums_(o.spread), old_offset_(o.spread_old) {
    if (forums_ > 0) {
        accepted_ = std::make_unique<std::atomic<std::uint64_t>[]>(std::size_t(forums_));
        for (int i = 0; i < forums_; ++i) accepted_[i].store(0, std::memory_order_relaxed);
    }
}

double spread_plan::deliveries_per_publish(int clients) const noexcept {
    if (forums_ == 0) return double(clients);
    return double(clients) * (old_offset_ > 0 ? 2.0 : 1.0) / double(forums_);
}

std::size_t spread_plan::body(char* out, std::size_t capacity, std::uint64_t t, std::uint64_t n) const noexcept {
    int len;
    if (forums_ == 0) {
        len = std::snprintf(out, capacity, "{\"collection\":\"%s\",\"action\":\"tick\",\"data\":{\"t\":%llu,\"n\":%llu}}",
                            collection_.c_str(), static_cast<unsigned long long>(t), static_cast<unsigned long long>(n));
    } else {
        const auto f = static_cast<unsigned long long>(data_forum(n));
        len = std::snprintf(out, capacity,
                            "{\"collection\":\"%s\",\"action\":\"tick\",\"id\":\"%llu\",\"data\":{\"t\":%llu,\"n\":%llu,"
                            "\"forum_id\":%llu}",
                            collection_.c_str(), f, static_cast<unsigned long long>(t),
                            static_cast<unsigned long long>(n), f);
        if (len > 0 && std::size_t(len) < capacity && old_offset_ > 0)
            len += std::snprintf(out + len, capacity - std::size_t(len), ",\"old\":{\"forum_id\":%llu}",
                                 static_cast<unsigned long long>(old_forum(n)));
        if (len > 0 && std::size_t(len) < capacity) len += std::snprintf(out + len, capacity - std::size_t(len), "}");
    }
    return len > 0 && std::size_t(len) < capacity ? std::size_t(len) : 0;
}

void spread_plan::accepted(std::uint64_t n) noexcept {
    if (forums_ == 0) return;
    accepted_[data_forum(n)].fetch_add(1, std::memory_order_relaxed);
    if (old_offset_ > 0 && old_forum(n) != data_forum(n))
        accepted_[old_forum(n)].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t spread_plan::expected(int forum, std::uint64_t published) const noexcept {
    if (forum < 0 || forums_ == 0) return published;
    return accepted_[std::size_t(forum)].load(std::memory_order_relaxed);
}

std::string spread_plan::query(std::size_t index) const {
    if (template_.empty()) return {};
    const std::string i = std::to_string(forums_ > 0 ? index % std::size_t(forums_) : index);
    std::string entries;
    for (std::size_t p = 0; p < template_.size();) {
        if (template_.compare(p, 3, "{i}") == 0) {
            entries += i;
            p += 3;
        } else {
            entries += template_[p++];
        }
    }
    // RFC 3986 section 2.3: unreserved characters as they are; ',' and '/'
    // are allowed in a query and keep the list readable in logs.
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out = "collections=";
    for (unsigned char c : entries) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~' || c == ',' || c == '/') {
            out += char(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

}  // namespace loadgen
