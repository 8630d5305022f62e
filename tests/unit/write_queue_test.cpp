// SPDX-License-Identifier: MIT
// A session's outbound queue: gather-write views, partial writes, dropping
// unstarted frames and releasing the frames' owners.

#include "core/write_queue.hpp"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

using notifier::core::write_queue;

std::shared_ptr<const std::string> frame(std::string s) { return std::make_shared<const std::string>(std::move(s)); }

void push(write_queue& q, const std::shared_ptr<const std::string>& f) { q.push(f, *f); }

/// Everything gather() reports, concatenated (with room for every frame).
std::string pending(const write_queue& q) {
    std::vector<std::string_view> out(q.frames() + 1);
    const auto n = q.gather(out);
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += out[i];
    return s;
}

TEST(WriteQueue, StartsEmpty) {
    write_queue q;
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.bytes(), 0u);
    EXPECT_EQ(q.frames(), 0u);
    std::array<std::string_view, 4> out;
    EXPECT_EQ(q.gather(out), 0u);
}

TEST(WriteQueue, PushGatherConsumeWholeFrames) {
    write_queue q;
    auto a = frame("aaaa"), b = frame("bb"), c = frame("cccccc");
    push(q, a);
    push(q, b);
    push(q, c);
    EXPECT_FALSE(q.empty());
    EXPECT_EQ(q.frames(), 3u);
    EXPECT_EQ(q.bytes(), 12u);

    std::array<std::string_view, 8> out;
    ASSERT_EQ(q.gather(out), 3u);
    EXPECT_EQ(out[0], "aaaa");
    EXPECT_EQ(out[1], "bb");
    EXPECT_EQ(out[2], "cccccc");
    // Views point at the owners' bytes: no copy.
    EXPECT_EQ(out[0].data(), a->data());

    q.consume(4);
    EXPECT_EQ(q.frames(), 2u);
    EXPECT_EQ(q.bytes(), 8u);
    EXPECT_EQ(pending(q), "bbcccccc");

    q.consume(8);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.frames(), 0u);
    EXPECT_EQ(q.bytes(), 0u);
    EXPECT_EQ(q.gather(out), 0u);
}

TEST(WriteQueue, EmptyFrameIsIgnored) {
    write_queue q;
    auto e = frame("");
    push(q, e);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.frames(), 0u);
    EXPECT_EQ(e.use_count(), 1);
}

TEST(WriteQueue, PartialWriteInTheMiddleOfAFrame) {
    write_queue q;
    auto a = frame("0123456789"), b = frame("abcdef");
    push(q, a);
    push(q, b);

    q.consume(3);
    EXPECT_EQ(q.frames(), 2u);
    EXPECT_EQ(q.bytes(), 13u);
    std::array<std::string_view, 4> out;
    ASSERT_EQ(q.gather(out), 2u);
    EXPECT_EQ(out[0], "3456789");
    EXPECT_EQ(out[0].data(), a->data() + 3);
    EXPECT_EQ(out[1], "abcdef");

    // A write that ends inside the second frame.
    q.consume(9);
    EXPECT_EQ(q.frames(), 1u);
    EXPECT_EQ(q.bytes(), 4u);
    ASSERT_EQ(q.gather(out), 1u);
    EXPECT_EQ(out[0], "cdef");

    q.consume(1);
    EXPECT_EQ(pending(q), "def");
    q.consume(3);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.bytes(), 0u);
}

TEST(WriteQueue, ByteByByteConsume) {
    write_queue q;
    auto a = frame("abc"), b = frame("de"), c = frame("f");
    push(q, a);
    push(q, b);
    push(q, c);
    const std::string all = "abcdef";
    for (std::size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(pending(q), all.substr(i)) << i;
        EXPECT_EQ(q.bytes(), all.size() - i) << i;
        q.consume(1);
    }
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.bytes(), 0u);
}

TEST(WriteQueue, GatherWithFewerSlotsThanFrames) {
    write_queue q;
    std::vector<std::shared_ptr<const std::string>> frames;
    for (int i = 0; i < 5; ++i) {
        frames.push_back(frame(std::string(3, char('a' + i))));
        push(q, frames.back());
    }
    q.consume(1);
    std::array<std::string_view, 2> out;
    ASSERT_EQ(q.gather(out), 2u);
    EXPECT_EQ(out[0], "aa");
    EXPECT_EQ(out[1], "bbb");
    // gather() is a view: nothing was consumed.
    EXPECT_EQ(q.frames(), 5u);
    EXPECT_EQ(q.bytes(), 14u);

    q.consume(out[0].size() + out[1].size());
    ASSERT_EQ(q.gather(out), 2u);
    EXPECT_EQ(out[0], "ccc");
    EXPECT_EQ(out[1], "ddd");

    std::array<std::string_view, 1> one;
    ASSERT_EQ(q.gather(one), 1u);
    EXPECT_EQ(one[0], "ccc");

    std::span<std::string_view> none;
    EXPECT_EQ(q.gather(none), 0u);
}

TEST(WriteQueue, OwnersReleasedAfterConsume) {
    write_queue q;
    auto a = frame("aaaa"), b = frame("bbbb");
    std::weak_ptr<const std::string> wa = a, wb = b;
    push(q, a);
    push(q, b);
    a.reset();
    b.reset();
    EXPECT_FALSE(wa.expired());
    EXPECT_FALSE(wb.expired());

    q.consume(2);  // partially written: still needed
    EXPECT_FALSE(wa.expired());
    q.consume(2);  // fully written
    EXPECT_TRUE(wa.expired());
    EXPECT_FALSE(wb.expired());
    q.consume(4);
    EXPECT_TRUE(wb.expired());
}

TEST(WriteQueue, SharedOwnerCountsEachPush) {
    write_queue q;
    auto shared = frame("pub");
    push(q, shared);
    push(q, shared);
    EXPECT_EQ(shared.use_count(), 3);
    q.consume(3);
    EXPECT_EQ(shared.use_count(), 2);
    q.consume(3);
    EXPECT_EQ(shared.use_count(), 1);
}

TEST(WriteQueue, DropUnstartedOnIdleQueueDropsEverything) {
    write_queue q;
    auto a = frame("aaaa"), b = frame("bb");
    push(q, a);
    push(q, b);
    q.drop_unstarted();
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.frames(), 0u);
    EXPECT_EQ(q.bytes(), 0u);
    EXPECT_EQ(a.use_count(), 1);
    EXPECT_EQ(b.use_count(), 1);
}

TEST(WriteQueue, DropUnstartedKeepsPartiallyWrittenFrameOnly) {
    write_queue q;
    auto a = frame("aaaa"), b = frame("bbbb"), c = frame("cccc"), d = frame("dddd");
    push(q, a);
    push(q, b);
    push(q, c);
    push(q, d);
    q.consume(6);  // a written, b half written
    EXPECT_EQ(a.use_count(), 1);
    q.drop_unstarted();
    EXPECT_EQ(q.frames(), 1u);
    EXPECT_EQ(q.bytes(), 2u);
    EXPECT_EQ(pending(q), "bb");
    EXPECT_EQ(b.use_count(), 2);
    EXPECT_EQ(c.use_count(), 1);
    EXPECT_EQ(d.use_count(), 1);

    // The close frame can still follow the partial frame.
    auto close = frame("CLOSE");
    push(q, close);
    EXPECT_EQ(pending(q), "bbCLOSE");
    EXPECT_EQ(q.bytes(), 7u);
    q.consume(7);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(b.use_count(), 1);
    EXPECT_EQ(close.use_count(), 1);
}

TEST(WriteQueue, DropUnstartedAtFrameBoundaryDropsTheRest) {
    write_queue q;
    auto a = frame("aaaa"), b = frame("bbbb");
    push(q, a);
    push(q, b);
    q.consume(4);  // a done, b not started
    q.drop_unstarted();
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.bytes(), 0u);
    EXPECT_EQ(b.use_count(), 1);
}

TEST(WriteQueue, ManyFramesReuseStorage) {
    write_queue q;
    std::size_t expected_bytes = 0;
    std::string expected;
    std::vector<std::shared_ptr<const std::string>> keep;
    // Interleave pushes and partial consumes so the written prefix gets
    // reclaimed while frames are still pending.
    for (int i = 0; i < 1000; ++i) {
        auto f = frame(std::to_string(i) + ";");
        keep.push_back(f);
        push(q, f);
        expected += *f;
        expected_bytes += f->size();
        if (i % 3 == 0) {
            const std::size_t n = std::min<std::size_t>(expected_bytes, 5);
            q.consume(n);
            expected.erase(0, n);
            expected_bytes -= n;
        }
        ASSERT_EQ(q.bytes(), expected_bytes) << i;
    }
    EXPECT_EQ(pending(q), expected);
    q.consume(expected_bytes);
    EXPECT_TRUE(q.empty());
    for (const auto& f : keep) EXPECT_EQ(f.use_count(), 1);
}

TEST(WriteQueue, ShrinkEmptyQueue) {
    write_queue q;
    auto a = frame("abc");
    push(q, a);
    q.consume(3);
    q.shrink();
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.bytes(), 0u);
    // Still usable afterwards.
    push(q, a);
    EXPECT_EQ(pending(q), "abc");
    q.consume(3);
    EXPECT_TRUE(q.empty());
}

TEST(WriteQueue, ShrinkNonEmptyQueueChangesNothing) {
    write_queue q;
    auto a = frame("aaaa"), b = frame("bbbb");
    push(q, a);
    push(q, b);
    q.consume(5);  // a written, b partially
    const std::string before = pending(q);
    ASSERT_EQ(before, "bbb");
    q.shrink();
    EXPECT_EQ(pending(q), before);
    EXPECT_EQ(q.bytes(), 3u);
    EXPECT_EQ(q.frames(), 1u);
    q.consume(3);
    EXPECT_TRUE(q.empty());
}

TEST(WriteQueue, PinnedFramesSurviveDropUnstarted) {
    write_queue q;
    auto a = frame("hello"), b = frame("welcome"), c = frame("live");
    push(q, a);
    push(q, b);
    q.pin_queued();
    push(q, c);
    q.drop_unstarted();
    EXPECT_EQ(pending(q), "hellowelcome");
    EXPECT_EQ(q.frames(), 2u);
    EXPECT_EQ(q.bytes(), 12u);
}

TEST(WriteQueue, PinsEndOnceWritten) {
    write_queue q;
    auto a = frame("hello"), b = frame("live"), c = frame("more");
    push(q, a);
    q.pin_queued();
    q.consume(3);  // "hel" written: still pinned
    push(q, b);
    q.drop_unstarted();
    EXPECT_EQ(pending(q), "lo");
    q.consume(2);  // the pinned frame is out
    push(q, b);
    push(q, c);
    q.drop_unstarted();
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.bytes(), 0u);
}

TEST(WriteQueue, APinReachingIntoAPartialFrameKeepsItWhole) {
    write_queue q;
    auto a = frame("aaaa"), b = frame("bbbb"), c = frame("cccc");
    push(q, a);
    push(q, b);
    q.pin_queued();
    push(q, c);
    q.consume(6);  // a written, "bb" of b
    q.drop_unstarted();
    EXPECT_EQ(pending(q), "bb");
    EXPECT_EQ(q.bytes(), 2u);
}

TEST(WriteQueue, PinFrontKeepsEveryFrameTheBytesReachInto) {
    write_queue q;
    auto a = frame("aaaa"), b = frame("bbbb"), c = frame("cccc"), d = frame("dddd");
    push(q, a);
    push(q, b);
    push(q, c);
    q.consume(2);
    q.pin_front(5);  // "aa" and 3 bytes of b: a and b stay whole, c goes
    push(q, d);
    q.drop_unstarted();
    EXPECT_EQ(pending(q), "aabbbb");
    q.pin_front(2);  // never lowers a pin
    q.drop_unstarted();
    EXPECT_EQ(pending(q), "aabbbb");
    q.pin_front(100);  // capped at what is queued
    q.consume(6);
    EXPECT_TRUE(q.empty());
    push(q, c);
    q.drop_unstarted();
    EXPECT_TRUE(q.empty());
}

}  // namespace
