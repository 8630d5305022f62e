// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace loadgen {

// The few fields the load generator needs from a notification. Found by a
// substring scan instead of a JSON parse: at a million messages per second
// a parser would cost more than everything else together.
struct scanned_fields {
    std::uint64_t t = 0;
    std::uint64_t n = 0;
    std::uint64_t seq = 0;
    bool has_t = false;
    bool has_n = false;
    bool has_seq = false;
};

namespace detail {

inline const char* parse_uint(const char* p, const char* end, std::uint64_t& out, bool& ok) noexcept {
    while (p < end && (*p == ' ' || *p == '\t')) ++p;
    std::uint64_t v = 0;
    const char* start = p;
    while (p < end && unsigned(*p - '0') < 10u) v = v * 10 + unsigned(*p++ - '0');
    ok = p != start;
    out = v;
    return p;
}

}  // namespace detail

// Looks for the keys "t", "n" and "seq" at any depth. Keys are located by
// their ':' (a notification has few of them, far fewer than quotes) and
// checked backwards; inside a JSON string a quote is always escaped, so
// `"t":` can only be a key. Values are unsigned decimal integers.
inline scanned_fields scan_message(const char* p, std::size_t len) noexcept {
    scanned_fields r;
    const char* const begin = p;
    const char* const end = p + len;
    const char* c = p;
    while ((c = static_cast<const char*>(std::memchr(c, ':', std::size_t(end - c)))) != nullptr) {
        std::size_t before = std::size_t(c - begin);
        ++c;
        if (before < 3 || c[-2] != '"') continue;
        char k = c[-3];
        if (c[-4] == '"') {
            if (k == 't') c = detail::parse_uint(c, end, r.t, r.has_t);
            else if (k == 'n') c = detail::parse_uint(c, end, r.n, r.has_n);
            if (r.has_t && r.has_n && r.has_seq) break;
        } else if (before >= 5 && k == 'q' && c[-4] == 'e' && c[-5] == 's' && c[-6] == '"') {
            c = detail::parse_uint(c, end, r.seq, r.has_seq);
        }
    }
    return r;
}

// True when the message has a "type" member with the given value (control
// frames of the notifier protocol; notifications never carry "type").
inline bool message_type_is(const char* p, std::size_t len, const char* type) noexcept {
    static constexpr char key[] = "\"type\":\"";
    const char* k = static_cast<const char*>(memmem(p, len, key, sizeof key - 1));
    if (!k) return false;
    k += sizeof key - 1;
    std::size_t tl = std::strlen(type);
    return std::size_t(p + len - k) > tl && std::memcmp(k, type, tl) == 0 && k[tl] == '"';
}

inline bool has_type_member(const char* p, std::size_t len) noexcept {
    return memmem(p, len, "\"type\":", 7) != nullptr;
}

}  // namespace loadgen
