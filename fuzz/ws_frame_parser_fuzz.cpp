// SPDX-License-Identifier: MIT
// Client frames from the network: the parser must never crash, and it must
// report the same events whether bytes arrive at once or one by one.

#include "core/utf8.hpp"
#include "core/ws_frame_parser.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct recorded {
    int kind;
    std::string payload;
    std::uint16_t code;
    bool operator==(const recorded&) const = default;
};

std::vector<recorded> run(std::string input, std::size_t chunk) {
    notifier::core::ws_frame_parser p(4096);
    std::vector<recorded> out;
    bool stopped = false;
    for (std::size_t i = 0; i < input.size() && !stopped; i += chunk) {
        const auto n = std::min(chunk, input.size() - i);
        std::string piece = input.substr(i, n);  // the parser unmasks in place
        const bool more = p.feed(std::span<char>(piece.data(), piece.size()), [&](const notifier::core::ws_event& ev) {
            using k = notifier::core::ws_event::kind;
            if (ev.type == k::text && !notifier::core::is_valid_utf8(ev.payload)) std::abort();
            if (ev.type == k::text && ev.payload.size() > 4096) std::abort();
            if ((ev.type == k::ping || ev.type == k::pong) && ev.payload.size() > 125) std::abort();
            if (ev.type == k::error && ev.code != 1002 && ev.code != 1003 && ev.code != 1007 && ev.code != 1009)
                std::abort();
            out.push_back({static_cast<int>(ev.type), std::string(ev.payload), ev.code});
            return true;
        });
        if (!more) stopped = true;
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    const auto whole = run(input, input.size() ? input.size() : 1);
    const auto bytewise = run(input, 1);
    const auto odd = run(input, 7);
    if (whole != bytewise || whole != odd) std::abort();
    return 0;
}
