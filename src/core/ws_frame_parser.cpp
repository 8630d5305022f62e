// SPDX-License-Identifier: MIT
#include "core/ws_frame_parser.hpp"

#include "core/utf8.hpp"

#include <cstring>

namespace notifier::core {

namespace {

void unmask(char* p, std::size_t n, const unsigned char key[4]) noexcept {
    std::uint64_t k8;
    unsigned char k[8] = {key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]};
    std::memcpy(&k8, k, 8);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, p + i, 8);
        w ^= k8;
        std::memcpy(p + i, &w, 8);
    }
    for (; i < n; ++i) p[i] = static_cast<char>(p[i] ^ key[i & 3]);
}

bool is_valid_close_code(std::uint16_t c) noexcept {
    // RFC 6455 section 7.4: 1004-1006 and 1015 must not appear on the wire;
    // 1012-1014 are registered since; 3000-4999 belong to libraries and apps.
    return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
}

}  // namespace

ws_frame_parser::step ws_frame_parser::parse_one(char* p, std::size_t n, std::size_t& used,
                                                 ws_event& ev) {
    if (reassembled_) {
        message_.clear();
        reassembled_ = false;
    }
    if (n < 2) return step::need_more;
    const auto b0 = static_cast<unsigned char>(p[0]);
    const auto b1 = static_cast<unsigned char>(p[1]);
    const bool fin = b0 & 0x80;
    const auto op = b0 & 0x0F;
    if (b0 & 0x70) return fail(ev, close_code::protocol_error);  // no extension was negotiated
    if (!(b1 & 0x80)) return fail(ev, close_code::protocol_error);  // client frames must be masked (5.1)
    const bool control = op & 0x08;
    switch (op) {
        case 0x0:
            if (!in_message_) return fail(ev, close_code::protocol_error);
            break;
        case 0x1:
            if (in_message_) return fail(ev, close_code::protocol_error);
            break;
        case 0x2:
            if (in_message_) return fail(ev, close_code::protocol_error);
            return fail(ev, close_code::unsupported_data);
        case 0x8: case 0x9: case 0xA:
            break;
        default:
            return fail(ev, close_code::protocol_error);
    }
    std::uint64_t len = b1 & 0x7F;
    std::size_t header = 2;
    if (control && (!fin || len > 125)) return fail(ev, close_code::protocol_error);
    if (len == 126) {
        if (n < 4) return step::need_more;
        len = (std::uint64_t(static_cast<unsigned char>(p[2])) << 8) | static_cast<unsigned char>(p[3]);
        header = 4;
    } else if (len == 127) {
        if (n < 10) return step::need_more;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<unsigned char>(p[2 + i]);
        if (len >> 63) return fail(ev, close_code::protocol_error);
        header = 10;
    }
    // Refuse oversized messages before buffering them.
    if (!control && len + message_.size() > max_message_) return fail(ev, close_code::message_too_big);
    if (n < header + 4 + len) return step::need_more;
    unsigned char key[4];
    std::memcpy(key, p + header, 4);
    char* payload = p + header + 4;
    unmask(payload, len, key);
    used = header + 4 + len;
    const std::string_view body(payload, len);

    switch (op) {
        case 0x8: {
            if (len == 1) return fail(ev, close_code::protocol_error);
            auto code = static_cast<std::uint16_t>(close_code::no_status_received);
            std::string_view reason;
            if (len >= 2) {
                code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                                  static_cast<unsigned char>(payload[1]));
                if (!is_valid_close_code(code)) return fail(ev, close_code::protocol_error);
                reason = body.substr(2);
                if (!is_valid_utf8(reason)) return fail(ev, close_code::invalid_payload);
            }
            ev = ws_event{ws_event::kind::close, reason, code};
            return step::event;
        }
        case 0x9:
            ev = ws_event{ws_event::kind::ping, body, 0};
            return step::event;
        case 0xA:
            ev = ws_event{ws_event::kind::pong, body, 0};
            return step::event;
        default:
            break;
    }
    if (fin && !in_message_) {
        if (!is_valid_utf8(body)) return fail(ev, close_code::invalid_payload);
        ev = ws_event{ws_event::kind::text, body, 0};
        return step::event;
    }
    in_message_ = true;
    message_.append(body);
    if (!fin) return step::consumed;
    in_message_ = false;
    if (!is_valid_utf8(message_)) return fail(ev, close_code::invalid_payload);
    // The view stays valid during the handler call; cleared on the next frame.
    ev = ws_event{ws_event::kind::text, message_, 0};
    reassembled_ = true;
    return step::event;
}

}  // namespace notifier::core
