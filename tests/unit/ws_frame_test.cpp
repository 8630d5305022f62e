// SPDX-License-Identifier: MIT
// Server-to-client frame encoding (RFC 6455 section 5.2).

#include "core/utf8.hpp"
#include "core/ws_frame.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace notifier::core;

std::vector<unsigned char> header_bytes(ws_opcode op, std::uint64_t size) {
    char buf[max_frame_header + 4];
    std::fill(std::begin(buf), std::end(buf), '\x55');
    const auto n = encode_frame_header(buf, op, size);
    EXPECT_LE(n, max_frame_header);
    // Nothing written past the returned length.
    for (std::size_t i = n; i < sizeof buf; ++i) EXPECT_EQ(buf[i], '\x55') << "byte " << i;
    return {reinterpret_cast<unsigned char*>(buf), reinterpret_cast<unsigned char*>(buf) + n};
}

using bytes = std::vector<unsigned char>;

TEST(WsFrameHeader, EmptyPayload) { EXPECT_EQ(header_bytes(ws_opcode::text, 0), (bytes{0x81, 0x00})); }

TEST(WsFrameHeader, SevenBitLength) {
    EXPECT_EQ(header_bytes(ws_opcode::text, 1), (bytes{0x81, 0x01}));
    EXPECT_EQ(header_bytes(ws_opcode::text, 125), (bytes{0x81, 125}));
}

TEST(WsFrameHeader, SixteenBitLength) {
    EXPECT_EQ(header_bytes(ws_opcode::text, 126), (bytes{0x81, 126, 0x00, 126}));
    EXPECT_EQ(header_bytes(ws_opcode::text, 256), (bytes{0x81, 126, 0x01, 0x00}));
    EXPECT_EQ(header_bytes(ws_opcode::text, 65535), (bytes{0x81, 126, 0xFF, 0xFF}));
}

TEST(WsFrameHeader, SixtyFourBitLength) {
    EXPECT_EQ(header_bytes(ws_opcode::text, 65536), (bytes{0x81, 127, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}));
    EXPECT_EQ(header_bytes(ws_opcode::text, 0x0102030405060708ULL),
              (bytes{0x81, 127, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}));
}

TEST(WsFrameHeader, OpcodesAreFinalAndUnmasked) {
    EXPECT_EQ(header_bytes(ws_opcode::binary, 3), (bytes{0x82, 0x03}));
    EXPECT_EQ(header_bytes(ws_opcode::close, 2), (bytes{0x88, 0x02}));
    EXPECT_EQ(header_bytes(ws_opcode::ping, 0), (bytes{0x89, 0x00}));
    EXPECT_EQ(header_bytes(ws_opcode::pong, 4), (bytes{0x8A, 0x04}));
    // The mask bit is never set, whatever the size.
    for (std::uint64_t size : {0ULL, 125ULL, 126ULL, 65535ULL, 65536ULL}) {
        EXPECT_EQ(header_bytes(ws_opcode::text, size)[1] & 0x80, 0) << size;
    }
}

TEST(WsFrame, HeaderSizeBoundaries) {
    struct {
        std::size_t payload;
        std::size_t header;
    } cases[] = {{0, 2}, {125, 2}, {126, 4}, {65535, 4}, {65536, 10}, {70000, 10}};
    for (const auto& c : cases) {
        const std::string payload(c.payload, 'x');
        const std::string f = make_frame(ws_opcode::text, payload);
        ASSERT_EQ(f.size(), c.header + c.payload) << c.payload;
        EXPECT_EQ(f.substr(c.header), payload) << c.payload;
        char h[max_frame_header];
        EXPECT_EQ(encode_frame_header(h, ws_opcode::text, c.payload), c.header);
        EXPECT_EQ(f.substr(0, c.header), std::string(h, c.header));
    }
}

TEST(WsFrame, ExactBytesOfSmallFrame) {
    EXPECT_EQ(make_frame(ws_opcode::text, R"({"type":"pong"})"), std::string("\x81\x0F") + R"({"type":"pong"})");
    EXPECT_EQ(make_frame(ws_opcode::ping, ""), std::string("\x89\x00", 2));
}

TEST(WsFrame, ExactBytesOf126ByteFrame) {
    const std::string payload(126, 'a');
    const std::string f = make_frame(ws_opcode::text, payload);
    EXPECT_EQ(f.substr(0, 4), std::string("\x81\x7E\x00\x7E", 4));
}

TEST(WsFrame, ExactBytesOf65536ByteFrame) {
    const std::string payload(65536, 'a');
    const std::string f = make_frame(ws_opcode::text, payload);
    EXPECT_EQ(f.substr(0, 10), std::string("\x81\x7F\x00\x00\x00\x00\x00\x01\x00\x00", 10));
}

TEST(WsCloseFrame, CodeAndReason) {
    const std::string f = make_close_frame(1001, "server shutdown");
    const std::string expected = std::string("\x88\x11\x03\xE9", 4) + "server shutdown";
    EXPECT_EQ(f, expected);
}

TEST(WsCloseFrame, CodeOnly) { EXPECT_EQ(make_close_frame(1000, ""), std::string("\x88\x02\x03\xE8", 4)); }

TEST(WsCloseFrame, AppCode) {
    const std::string f = make_close_frame(4008, "slow consumer");
    ASSERT_GE(f.size(), 4u);
    EXPECT_EQ(static_cast<unsigned char>(f[2]), 4008 >> 8);
    EXPECT_EQ(static_cast<unsigned char>(f[3]), 4008 & 0xFF);
    EXPECT_EQ(f.substr(4), "slow consumer");
}

TEST(WsCloseFrame, ReasonOfExactly123BytesIsKept) {
    const std::string reason(123, 'r');
    const std::string f = make_close_frame(1000, reason);
    ASSERT_EQ(f.size(), 2u + 125u);
    EXPECT_EQ(static_cast<unsigned char>(f[1]), 125);
    EXPECT_EQ(f.substr(4), reason);
}

TEST(WsCloseFrame, LongReasonIsTruncatedToFitControlFrame) {
    const std::string reason(300, 'r');
    const std::string f = make_close_frame(1000, reason);
    // A control frame payload is at most 125 bytes (RFC 6455 section 5.5).
    ASSERT_EQ(f.size(), 2u + 125u);
    EXPECT_EQ(static_cast<unsigned char>(f[0]), 0x88);
    EXPECT_EQ(static_cast<unsigned char>(f[1]), 125);
    EXPECT_EQ(f.substr(4), reason.substr(0, 123));
}

TEST(WsCloseFrame, TruncatedReasonStaysValidUtf8) {
    // 62 two-byte characters: 124 bytes, one more than fits.
    std::string reason;
    for (int i = 0; i < 62; ++i) reason += "\xC3\xA9";
    const std::string f = make_close_frame(1000, reason);
    ASSERT_GE(f.size(), 4u);
    EXPECT_LE(f.size(), 2u + 125u);
    EXPECT_TRUE(is_valid_utf8(std::string_view(f).substr(4)));
    EXPECT_EQ(f.substr(4), reason.substr(0, 122));
}

}  // namespace
