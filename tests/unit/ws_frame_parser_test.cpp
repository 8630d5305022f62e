// SPDX-License-Identifier: MIT
// The client-frame parser (RFC 6455 section 5): framing, fragmentation,
// control frames, limits and the close codes it asks the session to send.

#include "core/ws_frame_parser.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using notifier::core::ws_event;
using notifier::core::ws_frame_parser;

constexpr int op_cont = 0x0, op_text = 0x1, op_binary = 0x2, op_close = 0x8, op_ping = 0x9, op_pong = 0xA;

struct frame_opts {
    bool fin = true;
    std::uint8_t rsv = 0;  // the three RSV bits, already shifted (0x40, 0x20, 0x10)
    bool masked = true;
    std::array<unsigned char, 4> key{0x37, 0xFA, 0x21, 0x3D};
};

std::string length_header(int opcode, std::uint64_t len, const frame_opts& o) {
    std::string h;
    h.push_back(static_cast<char>((o.fin ? 0x80 : 0) | o.rsv | opcode));
    const unsigned char mask_bit = o.masked ? 0x80 : 0;
    if (len < 126) {
        h.push_back(static_cast<char>(mask_bit | len));
    } else if (len <= 0xFFFF) {
        h.push_back(static_cast<char>(mask_bit | 126));
        h.push_back(static_cast<char>(len >> 8));
        h.push_back(static_cast<char>(len & 0xFF));
    } else {
        h.push_back(static_cast<char>(mask_bit | 127));
        for (int i = 7; i >= 0; --i) h.push_back(static_cast<char>((len >> (8 * i)) & 0xFF));
    }
    return h;
}

/// A client frame as a browser sends it: masked unless told otherwise.
std::string client_frame(int opcode, std::string_view payload, frame_opts o = {}) {
    std::string f = length_header(opcode, payload.size(), o);
    if (o.masked) {
        f.append(reinterpret_cast<const char*>(o.key.data()), 4);
        for (std::size_t i = 0; i < payload.size(); ++i)
            f.push_back(static_cast<char>(payload[i] ^ o.key[i & 3]));
    } else {
        f.append(payload);
    }
    return f;
}

std::string fragment(int opcode, std::string_view payload) {
    frame_opts o;
    o.fin = false;
    return client_frame(opcode, payload, o);
}

std::string close_payload(std::uint16_t code, std::string_view reason = {}) {
    std::string p;
    p.push_back(static_cast<char>(code >> 8));
    p.push_back(static_cast<char>(code & 0xFF));
    p.append(reason);
    return p;
}

struct recorded {
    ws_event::kind type;
    std::string payload;
    std::uint16_t code;
    bool operator==(const recorded&) const = default;
};

void PrintTo(const recorded& r, std::ostream* os) {
    static constexpr const char* names[] = {"text", "ping", "pong", "close", "error"};
    *os << names[int(r.type)] << "(" << r.code << ", \"" << r.payload << "\")";
}

recorded text(std::string payload) { return {ws_event::kind::text, std::move(payload), 0}; }
recorded ping(std::string payload) { return {ws_event::kind::ping, std::move(payload), 0}; }
recorded pong(std::string payload) { return {ws_event::kind::pong, std::move(payload), 0}; }
recorded close(std::uint16_t code, std::string reason = {}) { return {ws_event::kind::close, std::move(reason), code}; }
recorded error(std::uint16_t code) { return {ws_event::kind::error, {}, code}; }
using events = std::vector<recorded>;

/// Feeds byte strings and records every event (payloads copied: views are
/// only valid during the handler call).
struct harness {
    explicit harness(std::size_t max = 64 << 10) : parser(max) {}

    bool feed(std::string_view bytes) {
        std::vector<char> buf(bytes.begin(), bytes.end());
        return parser.feed(std::span<char>(buf), [this](const ws_event& e) {
            events.push_back({e.type, std::string(e.payload), e.code});
            return keep_going;
        });
    }

    ws_frame_parser parser;
    std::vector<recorded> events;
    bool keep_going = true;
};

void expect_error(const harness& h, std::uint16_t code) {
    ASSERT_EQ(h.events.size(), 1u);
    EXPECT_EQ(h.events[0].type, ws_event::kind::error);
    EXPECT_EQ(h.events[0].code, code);
    EXPECT_TRUE(h.parser.stopped());
}

/// Feeds `bytes` and expects exactly one error event with `code`.
void expect_fails_with(std::string_view bytes, std::uint16_t code, std::size_t max = 64 << 10) {
    harness h(max);
    EXPECT_FALSE(h.feed(bytes));
    expect_error(h, code);
}

// One feed and every event it gives. A feed that returns false has stopped
// the parser; one that returns true has consumed whole frames only.
struct feed_case {
    const char* name;
    std::string bytes;
    bool ok;
    events expected;
    std::size_t max = 64 << 10;
};

class WsFrameParserFeed : public ::testing::TestWithParam<feed_case> {};

TEST_P(WsFrameParserFeed, Events) {
    const auto& c = GetParam();
    harness h(c.max);
    EXPECT_EQ(h.feed(c.bytes), c.ok);
    EXPECT_EQ(h.events, c.expected);
    EXPECT_EQ(h.parser.stopped(), !c.ok);
    if (c.ok) EXPECT_EQ(h.parser.buffered(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    WsFrameParser, WsFrameParserFeed,
    ::testing::Values(
        feed_case{"SingleTextFrame", client_frame(op_text, "hello"), true, {text("hello")}},
        feed_case{"EmptyTextFrame", client_frame(op_text, ""), true, {text("")}},
        feed_case{"EmptyFeedIsHarmless", "", true, {}},
        feed_case{"SeveralFramesInOneFeed",
                  client_frame(op_text, "one") + client_frame(op_ping, "ping!") + client_frame(op_text, "two") +
                      client_frame(op_pong, "pong!") + client_frame(op_text, "three"),
                  true,
                  {text("one"), ping("ping!"), text("two"), pong("pong!"), text("three")}},
        feed_case{"FragmentedTextInOneFeed",
                  fragment(op_text, "a") + fragment(op_cont, "") + fragment(op_cont, "b") + client_frame(op_cont, "c"),
                  true,
                  {text("abc")}},
        feed_case{"ControlFrameOf125BytesIsAccepted", client_frame(op_ping, std::string(125, 'p')), true,
                  {ping(std::string(125, 'p'))}},
        feed_case{"ContinuationAfterErrorIsNotReported", client_frame(op_cont, "x") + client_frame(op_text, "never"),
                  false,
                  {error(1002)}},
        feed_case{"MessageOfExactlyMaxIsAccepted", client_frame(op_text, std::string(16, 'm')), true,
                  {text(std::string(16, 'm'))}, 16},
        feed_case{"FragmentedMessageOfExactlyMaxIsAccepted",
                  fragment(op_text, "12345") + fragment(op_cont, "678") + client_frame(op_cont, "90"), true,
                  {text("1234567890")}, 10},
        feed_case{"ControlFramesDoNotCountTowardsMessageSize",
                  fragment(op_text, "ab") + client_frame(op_ping, "a long ping payload") + client_frame(op_cont, "cd"),
                  true,
                  {ping("a long ping payload"), text("abcd")}, 4},
        feed_case{"CloseWithoutPayloadReports1005", client_frame(op_close, ""), false, {close(1005)}},
        feed_case{"CloseWithCodeOnly", client_frame(op_close, close_payload(1000)), false, {close(1000)}},
        feed_case{"CloseReasonOfMaxLength", client_frame(op_close, close_payload(1000, std::string(123, 'r'))), false,
                  {close(1000, std::string(123, 'r'))}},
        feed_case{"CloseInsideFragmentedMessageIsReported",
                  fragment(op_text, "half") + client_frame(op_close, close_payload(1001)), false,
                  {close(1001)}},
        feed_case{"ErrorAfterValidFramesInSameFeed",
                  client_frame(op_text, "ok") + client_frame(op_binary, "no") + client_frame(op_text, "x"), false,
                  {text("ok"), error(1003)}}),
    [](const ::testing::TestParamInfo<feed_case>& info) { return std::string(info.param.name); });

// --- data frames ---

TEST(WsFrameParser, UnmasksEveryPayloadLength) {
    // Lengths around the 8-byte unmasking stride, and the 16/64-bit encodings.
    std::vector<std::size_t> sizes;
    for (std::size_t n = 0; n <= 33; ++n) sizes.push_back(n);
    for (std::size_t n : {125u, 126u, 127u, 1000u, 65535u, 65536u, 70001u}) sizes.push_back(n);
    for (const std::size_t n : sizes) {
        std::string payload;
        for (std::size_t i = 0; i < n; ++i) payload.push_back(static_cast<char>('a' + (i * 7) % 26));
        harness h(1 << 20);
        frame_opts o;
        o.key = {0x01, 0x80, 0xFF, 0x5A};
        EXPECT_TRUE(h.feed(client_frame(op_text, payload, o)));
        ASSERT_EQ(h.events.size(), 1u) << n;
        EXPECT_EQ(h.events[0].type, ws_event::kind::text) << n;
        EXPECT_EQ(h.events[0].payload, payload) << n;
        EXPECT_EQ(h.parser.buffered(), 0u) << n;
    }
}

TEST(WsFrameParser, TextSplitAtEveryByteBoundary) {
    const std::string payload = "caf\xC3\xA9 \xF0\x9F\x98\x80 {\"type\":\"ping\"}";
    const std::string f = client_frame(op_text, payload);
    for (std::size_t cut = 0; cut <= f.size(); ++cut) {
        harness h;
        EXPECT_TRUE(h.feed(std::string_view(f).substr(0, cut))) << cut;
        if (cut < f.size()) {
            EXPECT_TRUE(h.events.empty()) << cut;
            EXPECT_EQ(h.parser.buffered(), cut) << cut;
        }
        EXPECT_TRUE(h.feed(std::string_view(f).substr(cut))) << cut;
        ASSERT_EQ(h.events.size(), 1u) << cut;
        EXPECT_EQ(h.events[0].type, ws_event::kind::text);
        EXPECT_EQ(h.events[0].payload, payload) << cut;
        EXPECT_EQ(h.parser.buffered(), 0u) << cut;
    }
}

TEST(WsFrameParser, TextFedOneByteAtATime) {
    const std::string payload(300, 'z');  // 16-bit length
    const std::string f = client_frame(op_text, payload) + client_frame(op_ping, "p") +
                          fragment(op_text, "ab") + client_frame(op_cont, "cd");
    harness h;
    for (char c : f) EXPECT_TRUE(h.feed(std::string_view(&c, 1)));
    EXPECT_EQ(h.events, (events{text(payload), ping("p"), text("abcd")}));
    EXPECT_EQ(h.parser.buffered(), 0u);
}

TEST(WsFrameParser, TwoFramesSplitAtEveryBoundary) {
    const std::string f = client_frame(op_text, "first") + fragment(op_text, "sec") + client_frame(op_cont, "ond");
    for (std::size_t a = 0; a <= f.size(); ++a) {
        for (std::size_t b = a; b <= f.size(); ++b) {
            harness h;
            EXPECT_TRUE(h.feed(std::string_view(f).substr(0, a)));
            EXPECT_TRUE(h.feed(std::string_view(f).substr(a, b - a)));
            EXPECT_TRUE(h.feed(std::string_view(f).substr(b)));
            ASSERT_EQ(h.events.size(), 2u) << a << " " << b;
            EXPECT_EQ(h.events[0].payload, "first");
            EXPECT_EQ(h.events[1].payload, "second") << a << " " << b;
            EXPECT_EQ(h.parser.buffered(), 0u);
        }
    }
}

TEST(WsFrameParser, CompleteFramesFollowedByPartialOne) {
    harness h;
    const std::string next = client_frame(op_text, "later");
    EXPECT_TRUE(h.feed(client_frame(op_text, "now") + next.substr(0, 3)));
    EXPECT_EQ(h.events, (events{text("now")}));
    EXPECT_EQ(h.parser.buffered(), 3u);
    EXPECT_TRUE(h.feed(next.substr(3)));
    EXPECT_EQ(h.events, (events{text("now"), text("later")}));
    EXPECT_EQ(h.parser.buffered(), 0u);
}

TEST(WsFrameParser, FragmentedTextWithInterleavedPing) {
    harness h;
    EXPECT_TRUE(h.feed(fragment(op_text, "Hel")));
    EXPECT_TRUE(h.events.empty());
    EXPECT_EQ(h.parser.buffered(), 3u);
    EXPECT_TRUE(h.feed(client_frame(op_ping, "are you there")));
    EXPECT_EQ(h.events, (events{ping("are you there")}));
    EXPECT_TRUE(h.feed(fragment(op_cont, "lo ") + client_frame(op_pong, "") + client_frame(op_cont, "world")));
    EXPECT_EQ(h.events, (events{ping("are you there"), pong(""), text("Hello world")}));
    EXPECT_EQ(h.parser.buffered(), 0u);
}

TEST(WsFrameParser, ReassembledMessageDoesNotPolluteNextOne) {
    harness h;
    // Within one feed.
    EXPECT_TRUE(h.feed(fragment(op_text, "abc") + client_frame(op_cont, "def") + fragment(op_text, "x") +
                       client_frame(op_cont, "y") + client_frame(op_text, "z")));
    // Across feeds.
    EXPECT_TRUE(h.feed(fragment(op_text, "12")));
    EXPECT_TRUE(h.feed(client_frame(op_cont, "3")));
    EXPECT_TRUE(h.feed(fragment(op_text, "4")));
    EXPECT_TRUE(h.feed(client_frame(op_cont, "")));
    EXPECT_TRUE(h.feed(client_frame(op_text, "single")));
    std::vector<std::string> texts;
    for (const auto& e : h.events) {
        EXPECT_EQ(e.type, ws_event::kind::text);
        texts.push_back(e.payload);
    }
    EXPECT_EQ(texts, (std::vector<std::string>{"abcdef", "xy", "z", "123", "4", "single"}));
    EXPECT_EQ(h.parser.buffered(), 0u);
}

TEST(WsFrameParser, ReassembledViewIsTheWholeMessageDuringTheCall) {
    ws_frame_parser p(1024);
    std::string bytes = fragment(op_text, "{\"type\":") + client_frame(op_cont, "\"ping\"}");
    std::vector<char> buf(bytes.begin(), bytes.end());
    int calls = 0;
    EXPECT_TRUE(p.feed(std::span<char>(buf), [&](const ws_event& e) {
        ++calls;
        EXPECT_EQ(e.type, ws_event::kind::text);
        EXPECT_EQ(e.payload, R"({"type":"ping"})");
        EXPECT_EQ(e.payload.size(), 15u);
        return true;
    }));
    EXPECT_EQ(calls, 1);
}

// --- protocol errors (1002) ---

TEST(WsFrameParser, UnmaskedFrameIs1002) {
    frame_opts o;
    o.masked = false;
    expect_fails_with(client_frame(op_text, "hello", o), 1002);
    expect_fails_with(client_frame(op_ping, "", o), 1002);
}

TEST(WsFrameParser, ReservedBitsAre1002) {
    for (std::uint8_t rsv : {0x40, 0x20, 0x10, 0x70}) {
        frame_opts o;
        o.rsv = rsv;
        SCOPED_TRACE(int(rsv));
        expect_fails_with(client_frame(op_text, "hi", o), 1002);
        expect_fails_with(client_frame(op_ping, "", o), 1002);
    }
}

TEST(WsFrameParser, UnknownOpcodesAre1002) {
    for (int op : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
        SCOPED_TRACE(op);
        expect_fails_with(client_frame(op, "x"), 1002);
    }
}

TEST(WsFrameParser, BinaryIs1003) {
    expect_fails_with(client_frame(op_binary, "\x01\x02"), 1003);
    expect_fails_with(fragment(op_binary, "\x01"), 1003);
}

TEST(WsFrameParser, BinaryInsideFragmentedTextIs1002) {
    expect_fails_with(fragment(op_text, "a") + client_frame(op_binary, "b"), 1002);
}

TEST(WsFrameParser, ControlFrameAbove125BytesIs1002) {
    expect_fails_with(client_frame(op_ping, std::string(126, 'p')), 1002);
    expect_fails_with(client_frame(op_pong, std::string(126, 'p')), 1002);
    expect_fails_with(client_frame(op_close, close_payload(1000, std::string(124, 'r'))), 1002);
    // Reported from the header alone: the 126 payload bytes never arrive.
    expect_fails_with(length_header(op_ping, 126, {}), 1002);
    expect_fails_with(length_header(op_ping, 70000, {}), 1002);
}

TEST(WsFrameParser, FragmentedControlFrameIs1002) {
    expect_fails_with(fragment(op_ping, "p"), 1002);
    expect_fails_with(fragment(op_pong, "p"), 1002);
    expect_fails_with(fragment(op_close, close_payload(1000)), 1002);
}

TEST(WsFrameParser, ContinuationWithoutStartIs1002) {
    expect_fails_with(client_frame(op_cont, "x"), 1002);
    expect_fails_with(fragment(op_cont, "x"), 1002);
    // After a complete fragmented message, a continuation has nothing to continue.
    harness h;
    EXPECT_FALSE(h.feed(fragment(op_text, "a") + client_frame(op_cont, "b") + client_frame(op_cont, "c")));
    EXPECT_EQ(h.events, (events{text("ab"), error(1002)}));
}

TEST(WsFrameParser, NewTextWhileFragmentedIs1002) {
    expect_fails_with(fragment(op_text, "a") + client_frame(op_text, "b"), 1002);
    expect_fails_with(fragment(op_text, "a") + fragment(op_text, "b"), 1002);
    harness h;
    EXPECT_TRUE(h.feed(fragment(op_text, "a")));
    EXPECT_FALSE(h.feed(client_frame(op_text, "b")));
    expect_error(h, 1002);
}

TEST(WsFrameParser, SixtyFourBitLengthWithMsbSetIs1002) {
    std::string h;
    h.push_back(static_cast<char>(0x81));
    h.push_back(static_cast<char>(0x80 | 127));
    h.push_back(static_cast<char>(0x80));
    h.append(7, '\0');
    expect_fails_with(h, 1002, std::size_t(-1));
    std::string all_ones;
    all_ones.push_back(static_cast<char>(0x81));
    all_ones.push_back(static_cast<char>(0x80 | 127));
    all_ones.append(8, '\xFF');
    expect_fails_with(all_ones, 1002, std::size_t(-1));
}

// --- message size (1009) ---

TEST(WsFrameParser, OversizedSingleFrameIs1009BeforeThePayload) {
    harness h(16);
    // Only the 2-byte header: no mask key, no payload.
    EXPECT_FALSE(h.feed(length_header(op_text, 17, {})));
    expect_error(h, 1009);
}

TEST(WsFrameParser, OversizedSixteenAndSixtyFourBitFramesAre1009BeforeThePayload) {
    {
        harness h(64 << 10);
        EXPECT_FALSE(h.feed(length_header(op_text, (64 << 10) + 1, {})));
        expect_error(h, 1009);
    }
    {
        harness h(1000);
        EXPECT_FALSE(h.feed(length_header(op_text, 1001, {})));
        expect_error(h, 1009);
    }
    {
        // The header arriving in pieces.
        harness h(1000);
        const std::string hdr = length_header(op_text, std::uint64_t(1) << 40, {});
        ASSERT_EQ(hdr.size(), 10u);
        EXPECT_TRUE(h.feed(hdr.substr(0, 5)));
        EXPECT_TRUE(h.events.empty());
        EXPECT_FALSE(h.feed(hdr.substr(5)));
        expect_error(h, 1009);
    }
}

TEST(WsFrameParser, OversizedFragmentedMessageIs1009BeforeThePayload) {
    harness h(10);
    EXPECT_TRUE(h.feed(fragment(op_text, "12345")));
    EXPECT_TRUE(h.feed(fragment(op_cont, "678")));
    EXPECT_TRUE(h.events.empty());
    // 8 bytes so far; a continuation announcing 3 more goes over 10.
    EXPECT_FALSE(h.feed(length_header(op_cont, 3, {})));
    expect_error(h, 1009);
}

TEST(WsFrameParser, MaxAppliesAgainToEachMessage) {
    harness h(4);
    EXPECT_TRUE(h.feed(fragment(op_text, "ab") + client_frame(op_cont, "cd")));
    EXPECT_TRUE(h.feed(fragment(op_text, "ef") + client_frame(op_cont, "gh")));
    EXPECT_TRUE(h.feed(client_frame(op_text, "ijkl")));
    ASSERT_EQ(h.events.size(), 3u);
    EXPECT_EQ(h.events[2].payload, "ijkl");
}

// --- UTF-8 (1007) ---

TEST(WsFrameParser, InvalidUtf8TextIs1007) {
    expect_fails_with(client_frame(op_text, "bad \xFF byte"), 1007);
    expect_fails_with(client_frame(op_text, "\xED\xA0\x80"), 1007);
    expect_fails_with(client_frame(op_text, "truncated \xE2\x82"), 1007);
}

TEST(WsFrameParser, InvalidUtf8InFragmentedTextIs1007) {
    expect_fails_with(fragment(op_text, "ok ") + client_frame(op_cont, "bad \xC0\x80"), 1007);
    // The message ends with an incomplete sequence.
    expect_fails_with(fragment(op_text, "ok ") + client_frame(op_cont, "\xF0\x9F\x98"), 1007);
}

TEST(WsFrameParser, SequenceSpanningFragmentsIsValid) {
    harness h;
    // "é" split between two fragments, "😀" split over three.
    EXPECT_TRUE(h.feed(fragment(op_text, "caf\xC3") + client_frame(op_cont, "\xA9")));
    EXPECT_TRUE(h.feed(fragment(op_text, "\xF0") + fragment(op_cont, "\x9F\x98") + client_frame(op_cont, "\x80!")));
    EXPECT_EQ(h.events, (events{text("caf\xC3\xA9"), text("\xF0\x9F\x98\x80!")}));
}

// --- close frames ---

TEST(WsFrameParser, CloseWithOneBytePayloadIs1002) { expect_fails_with(client_frame(op_close, "\x03"), 1002); }

TEST(WsFrameParser, InvalidCloseCodesAre1002) {
    for (std::uint16_t code : {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535}) {
        SCOPED_TRACE(code);
        expect_fails_with(client_frame(op_close, close_payload(code)), 1002);
        expect_fails_with(client_frame(op_close, close_payload(code, "why")), 1002);
    }
}

TEST(WsFrameParser, ValidCloseCodesReportCodeAndReason) {
    for (std::uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4000, 4008, 4999}) {
        SCOPED_TRACE(code);
        harness h;
        EXPECT_FALSE(h.feed(client_frame(op_close, close_payload(code, "bye \xC3\xA9"))));
        EXPECT_EQ(h.events, (events{close(code, "bye \xC3\xA9")}));
    }
}

TEST(WsFrameParser, CloseReasonInvalidUtf8Is1007) {
    expect_fails_with(client_frame(op_close, close_payload(1000, "\xFF")), 1007);
    expect_fails_with(client_frame(op_close, close_payload(1000, "cut \xC3")), 1007);
}

// --- after stopping ---

TEST(WsFrameParser, NothingIsReportedAfterClose) {
    harness h;
    EXPECT_FALSE(h.feed(client_frame(op_close, close_payload(1000)) + client_frame(op_text, "after")));
    ASSERT_EQ(h.events.size(), 1u);
    EXPECT_EQ(h.events[0].type, ws_event::kind::close);
    EXPECT_FALSE(h.feed(client_frame(op_text, "later")));
    EXPECT_FALSE(h.feed(client_frame(op_ping, "")));
    EXPECT_FALSE(h.feed(""));
    EXPECT_EQ(h.events.size(), 1u);
    EXPECT_TRUE(h.parser.stopped());
    EXPECT_EQ(h.parser.buffered(), 0u);
}

TEST(WsFrameParser, NothingIsReportedAfterError) {
    harness h;
    frame_opts o;
    o.masked = false;
    EXPECT_FALSE(h.feed(client_frame(op_text, "x", o) + client_frame(op_text, "y")));
    expect_error(h, 1002);
    EXPECT_FALSE(h.feed(client_frame(op_text, "later")));
    EXPECT_FALSE(h.feed(client_frame(op_close, "")));
    EXPECT_EQ(h.events.size(), 1u);
    EXPECT_EQ(h.parser.buffered(), 0u);
}

TEST(WsFrameParser, HandlerReturningFalseStops) {
    harness h;
    h.keep_going = false;
    EXPECT_FALSE(h.feed(client_frame(op_text, "first") + client_frame(op_text, "second")));
    ASSERT_EQ(h.events.size(), 1u);
    EXPECT_EQ(h.events[0].payload, "first");
    EXPECT_TRUE(h.parser.stopped());
    h.keep_going = true;
    EXPECT_FALSE(h.feed(client_frame(op_text, "third")));
    EXPECT_EQ(h.events.size(), 1u);
}

TEST(WsFrameParser, HandlerReturningFalseOnBufferedFrameStops) {
    harness h;
    const std::string f = client_frame(op_text, "first") + client_frame(op_text, "second");
    EXPECT_TRUE(h.feed(f.substr(0, 4)));
    h.keep_going = false;
    EXPECT_FALSE(h.feed(f.substr(4)));
    EXPECT_EQ(h.events, (events{text("first")}));
    EXPECT_EQ(h.parser.buffered(), 0u);
}

// --- buffering ---

TEST(WsFrameParser, BufferedCountsPartialFramesAndFragments) {
    harness h;
    EXPECT_EQ(h.parser.buffered(), 0u);
    const std::string f = client_frame(op_text, "hello");
    EXPECT_TRUE(h.feed(f.substr(0, 1)));
    EXPECT_EQ(h.parser.buffered(), 1u);
    EXPECT_TRUE(h.feed(f.substr(1)));
    EXPECT_EQ(h.parser.buffered(), 0u);
    EXPECT_TRUE(h.feed(fragment(op_text, "abc")));
    EXPECT_EQ(h.parser.buffered(), 3u);
    EXPECT_TRUE(h.feed(fragment(op_cont, "de")));
    EXPECT_EQ(h.parser.buffered(), 5u);
    EXPECT_TRUE(h.feed(client_frame(op_cont, "f")));
    EXPECT_EQ(h.parser.buffered(), 0u);
    EXPECT_EQ(h.events, (events{text("hello"), text("abcdef")}));
}

TEST(WsFrameParser, ShrinkKeepsPendingInput) {
    harness h;
    const std::string f = fragment(op_text, "ab") + client_frame(op_cont, "cd");
    EXPECT_TRUE(h.feed(f.substr(0, f.size() - 2)));
    const auto before = h.parser.buffered();
    EXPECT_GT(before, 0u);
    h.parser.shrink();
    EXPECT_EQ(h.parser.buffered(), before);
    EXPECT_TRUE(h.feed(f.substr(f.size() - 2)));
    ASSERT_EQ(h.events.size(), 1u);
    EXPECT_EQ(h.events[0].payload, "abcd");
    h.parser.shrink();
    EXPECT_EQ(h.parser.buffered(), 0u);
    EXPECT_TRUE(h.feed(client_frame(op_text, "again")));
    ASSERT_EQ(h.events.size(), 2u);
    EXPECT_EQ(h.events[1].payload, "again");
}

}  // namespace
