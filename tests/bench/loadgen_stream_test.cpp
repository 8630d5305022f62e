// SPDX-License-Identifier: MIT
// notifier-loadgen's reading of a Server-Sent Events stream: the in-place
// chunked decoder and the event parser, fed the bytes of a notifierd stream
// cut at every position, as reads cut them.
#include "chunked_decoder.hpp"
#include "event_stream_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using loadgen::chunked_decoder;
using loadgen::event_stream_parser;
using loadgen::stream_event;

struct seen_event {
    std::string type, id, data;
    bool operator==(const seen_event&) const = default;
};

std::string chunk(const std::string& data, const std::string& ext = "") {
    char size[32];
    std::snprintf(size, sizeof size, "%zx", data.size());
    return size + ext + "\r\n" + data + "\r\n";
}

// What the load generator does with each read: the kept event text, then
// the new bytes decoded in place after it, then the complete events parsed.
struct stream_reader {
    chunked_decoder chunks;
    event_stream_parser events;
    std::string leftover;
    std::vector<seen_event> seen;

    void read(const std::string& bytes) {
        std::string buf = leftover + bytes;
        const std::size_t end = leftover.size() + chunks.decode(buf.data() + leftover.size(), bytes.size());
        const std::size_t used = events.parse(buf.data(), end, [&](const stream_event& e) {
            seen.push_back({std::string(e.type), std::string(e.id), std::string(e.data)});
            return true;
        });
        leftover.assign(buf.data() + used, end - used);
    }
};

const std::string welcome =
    "event: welcome\nid: 9f2c:41\ndata: {\"type\":\"welcome\",\"protocol\":1,\"epoch\":\"9f2c\",\"seq\":41}\n\n";
const std::string note42 = "id: 9f2c:42\ndata: {\"seq\":42,\"collection\":\"bench\",\"data\":{\"t\":1,\"n\":1}}\n\n";
// Whitespace between tokens may hold a line break: another data line.
const std::string note43 = "id: 9f2c:43\ndata: {\"seq\":43,\ndata: \"collection\":\"bench\"}\n\n";
const std::string ping = ": ping\n\n";
const std::string closing = "event: close\ndata: {\"code\":1001,\"reason\":\"server shutdown\"}\n\n";

const std::vector<seen_event> expected_events = {
    {"welcome", "9f2c:41", "{\"type\":\"welcome\",\"protocol\":1,\"epoch\":\"9f2c\",\"seq\":41}"},
    {"", "9f2c:42", "{\"seq\":42,\"collection\":\"bench\",\"data\":{\"t\":1,\"n\":1}}"},
    {"", "9f2c:43", "{\"seq\":43,\n\"collection\":\"bench\"}"},
    {"close", "", "{\"code\":1001,\"reason\":\"server shutdown\"}"},
};

// One chunk per write, as notifierd sends: the welcome alone, then two
// notifications and a ping together, then the close and the last chunk.
const std::string body = chunk(welcome) + chunk(note42 + ping + note43, ";x=1") + chunk(closing) + "0\r\n\r\n";

TEST(loadgen_stream, every_cut_of_a_chunked_stream_gives_the_same_events) {
    for (std::size_t a = 0; a <= body.size(); ++a) {
        for (std::size_t b = a; b <= body.size(); b += 7) {
            stream_reader r;
            r.read(body.substr(0, a));
            r.read(body.substr(a, b - a));
            r.read(body.substr(b));
            ASSERT_EQ(r.seen, expected_events) << "cut at " << a << " and " << b;
            EXPECT_TRUE(r.chunks.finished());
            EXPECT_FALSE(r.chunks.failed());
            EXPECT_TRUE(r.leftover.empty());
        }
    }
}

TEST(loadgen_stream, byte_by_byte_reads_and_crlf_lines) {
    std::string crlf = "event: welcome\r\ndata:{\"seq\":1}\r\n\r\nid: e:2\r\ndata: {\"seq\":2}\r\n\r\n";
    stream_reader r;
    for (char c : chunk(crlf) + "0\r\n\r\n") r.read(std::string(1, c));
    const std::vector<seen_event> want = {{"welcome", "", "{\"seq\":1}"}, {"", "e:2", "{\"seq\":2}"}};
    EXPECT_EQ(r.seen, want);
    EXPECT_TRUE(r.chunks.finished());
}

TEST(loadgen_stream, an_unfinished_event_is_kept_not_dispatched) {
    stream_reader r;
    r.read(chunk(note42.substr(0, note42.size() - 1)));
    EXPECT_TRUE(r.seen.empty());
    EXPECT_EQ(r.leftover, note42.substr(0, note42.size() - 1));
    r.read(chunk("\n"));
    ASSERT_EQ(r.seen.size(), 1u);
    EXPECT_EQ(r.seen[0].id, "9f2c:42");
}

TEST(loadgen_stream, parsing_stops_where_the_handler_says) {
    event_stream_parser p;
    const std::string text = note42 + closing + note42;
    int calls = 0;
    const std::size_t used = p.parse(text.data(), text.size(), [&](const stream_event& e) {
        ++calls;
        return e.type != "close";
    });
    EXPECT_EQ(calls, 2);
    EXPECT_EQ(used, note42.size() + closing.size());
}

TEST(loadgen_stream, malformed_chunk_framing_fails) {
    for (const std::string bad : {"zz\r\n", "\r\n", "5\r\nhelloXY", "5;\r\nhello\r\n;\r\n", "ffffffffffffff\r\n"}) {
        chunked_decoder d;
        std::string buf = bad;
        d.decode(buf.data(), buf.size());
        EXPECT_TRUE(d.failed()) << bad;
    }
    chunked_decoder d;
    std::string buf = "5;name=value\r\nhello\r\n0\r\n\r\n";
    EXPECT_EQ(d.decode(buf.data(), buf.size()), 5u);
    EXPECT_EQ(buf.substr(0, 5), "hello");
    EXPECT_TRUE(d.finished());
}

}  // namespace
