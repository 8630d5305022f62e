// SPDX-License-Identifier: MIT
// The event-stream side of the protocol: events, Last-Event-ID, chunk
// headers, and a publication's event bytes.

#include "core/sse_codec.hpp"

#include <notifier/publication.hpp>

#include <gtest/gtest.h>

namespace {

using namespace notifier::core;

TEST(SseCodec, Events) {
    EXPECT_EQ(encode_sse_welcome("e1", 7, false),
              "event: welcome\nid: e1:7\n"
              "data: {\"type\":\"welcome\",\"protocol\":1,\"epoch\":\"e1\",\"seq\":7,\"resumed\":false}\n\n");
    // Resumed: the client's own cursor stays the last event id.
    EXPECT_EQ(encode_sse_welcome("e1", 9, true),
              "event: welcome\ndata: {\"type\":\"welcome\",\"protocol\":1,\"epoch\":\"e1\",\"seq\":9,\"resumed\":true}\n\n");
    EXPECT_EQ(encode_sse_resync("e2", 3), "event: resync\nid: e2:3\ndata: {\"type\":\"resync\",\"epoch\":\"e2\",\"seq\":3}\n\n");
    EXPECT_EQ(encode_sse_close(4008, "slow consumer"), "event: close\ndata: {\"code\":4008,\"reason\":\"slow consumer\"}\n\n");
    EXPECT_EQ(encode_sse_close(4403, "forbidden", "forbidden", "not allowed to read \"x\""),
              "event: close\ndata: {\"code\":4403,\"reason\":\"forbidden\",\"error\":\"forbidden\","
              "\"message\":\"not allowed to read \\\"x\\\"\"}\n\n");
}

TEST(SseCodec, LastEventId) {
    const auto r = parse_last_event_id("9f2c:41");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->requested);
    EXPECT_EQ(r->since, 41u);
    EXPECT_EQ(r->epoch, "9f2c");
    EXPECT_EQ(parse_last_event_id("a:b:18446744073709551615")->epoch, "a:b");  // the last ':' splits
    for (const char* bad : {"", "41", ":41", "e:", "e:-1", "e:4x", "e:18446744073709551616", "e: 4"})
        EXPECT_FALSE(parse_last_event_id(bad)) << bad;
}

TEST(SseCodec, ChunkHeader) {
    EXPECT_EQ(chunk_header(0), "0\r\n");
    EXPECT_EQ(chunk_header(255), "ff\r\n");
    EXPECT_EQ(chunk_header(65536), "10000\r\n");
}

TEST(SseCodec, APublicationsEventKeepsItsJsonAcrossDataLines) {
    notifier::notification n;
    n.collection = "c";
    n.action = "a";
    n.data = "{\n \"x\": 1,\r\n \"y\":\r2}";
    const auto pub = notifier::make_publication(5, n);
    EXPECT_EQ(pub->sse_tail(),
              ":5\ndata: {\"seq\":5,\"collection\":\"c\",\"action\":\"a\",\"data\":{\n"
              "data:  \"x\": 1,\ndata:  \"y\":\ndata: 2}}\n\n");
    EXPECT_EQ(pub->sse_tail().data(), pub->sse_tail().data());  // built once
}

}  // namespace
