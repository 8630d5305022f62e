// SPDX-License-Identifier: MIT
#pragma once
// Encoding server-to-client WebSocket frames (RFC 6455 section 5.2).
// Server frames are never masked (section 5.1).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace notifier::core {

enum class ws_opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

/// Largest header a server frame needs.
inline constexpr std::size_t max_frame_header = 10;

/// Writes a final-fragment header for a payload of `size` bytes into `out`;
/// returns its length (2, 4 or 10).
std::size_t encode_frame_header(char* out, ws_opcode op, std::uint64_t size) noexcept;

/// A complete frame (header + payload).
std::string make_frame(ws_opcode op, std::string_view payload);

/// A close frame: 2-byte code then the reason (truncated to fit 125 bytes).
std::string make_close_frame(std::uint16_t code, std::string_view reason);

}  // namespace notifier::core
