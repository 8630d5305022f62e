// SPDX-License-Identifier: MIT
#include "core/ws_frame.hpp"

#include "core/utf8.hpp"

namespace notifier::core {

std::size_t encode_frame_header(char* out, ws_opcode op, std::uint64_t size) noexcept {
    out[0] = static_cast<char>(0x80 | static_cast<std::uint8_t>(op));
    if (size < 126) {
        out[1] = static_cast<char>(size);
        return 2;
    }
    if (size <= 0xFFFF) {
        out[1] = 126;
        out[2] = static_cast<char>(size >> 8);
        out[3] = static_cast<char>(size);
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<char>(size >> (56 - 8 * i));
    return 10;
}

std::string make_frame(ws_opcode op, std::string_view payload) {
    char header[max_frame_header];
    const auto n = encode_frame_header(header, op, payload.size());
    std::string frame;
    frame.reserve(n + payload.size());
    frame.append(header, n);
    frame.append(payload);
    return frame;
}

std::string make_close_frame(std::uint16_t code, std::string_view reason) {
    reason = utf8_prefix(reason, 123);  // a close reason must stay valid UTF-8
    std::string payload;
    payload.push_back(static_cast<char>(code >> 8));
    payload.push_back(static_cast<char>(code & 0xFF));
    payload.append(reason);
    return make_frame(ws_opcode::close, payload);
}

}  // namespace notifier::core
