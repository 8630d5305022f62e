// SPDX-License-Identifier: MIT
#include "core/error_json.hpp"
#include "core/sse_codec.hpp"

#include "core/json_escape.hpp"
#include "core/protocol_codec.hpp"

#include <charconv>
#include <cstdio>

namespace notifier::core {

namespace {

std::string id_line(std::string_view epoch, std::uint64_t seq) {
    return "id: " + std::string(epoch) + ":" + std::to_string(seq) + "\n";
}

}  // namespace

std::string encode_sse_welcome(std::string_view epoch, std::uint64_t seq, bool resumed) {
    std::string s = "event: welcome\n";
    if (!resumed) s += id_line(epoch, seq);
    s += "data: " + encode_welcome(epoch, seq, resumed) + "\n\n";
    return s;
}

std::string encode_sse_resync(std::string_view epoch, std::uint64_t seq) {
    return "event: resync\n" + id_line(epoch, seq) + "data: " + encode_resync(epoch, seq) + "\n\n";
}

std::string encode_sse_close(std::uint16_t code, std::string_view reason, std::string_view error,
                             std::string_view message) {
    std::string s = "event: close\ndata: {\"code\":" + std::to_string(code) + ",\"reason\":";
    append_json_string(s, reason);
    if (!error.empty()) {
        s += ',';
        append_error_fields(s, "error", error, message);
    }
    s += "}\n\n";
    return s;
}

std::optional<resume_request> parse_last_event_id(std::string_view v) {
    const auto colon = v.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    const auto digits = v.substr(colon + 1);
    std::uint64_t seq = 0;
    const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
    if (digits.empty() || r.ec != std::errc{} || r.ptr != digits.data() + digits.size()) return std::nullopt;
    return resume_request{true, seq, std::string(v.substr(0, colon))};
}

std::string chunk_header(std::size_t size) {
    char buf[24];
    const int n = std::snprintf(buf, sizeof buf, "%zx\r\n", size);
    return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace notifier::core
