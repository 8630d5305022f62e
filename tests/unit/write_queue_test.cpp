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

// A scenario: frames made up front (the test holds one reference to each,
// so a frame nobody else owns has a use count of 1), then steps run in order.
struct step {
    enum kind_t { push, consume, drop_unstarted, pin_queued, pin_front, shrink, pending, bytes, frames, empty,
                  owners, gather, view_at } kind;
    std::size_t n = 0;  // a frame's index, a byte or frame count, gather's slots
    std::size_t m = 0;  // owners: the use count; view_at: the frame; else unused
    std::size_t offset = 0;  // view_at: where in the frame the view starts
    std::vector<std::string> text = {};  // pending: one string; gather: the views
};

step push_frame(std::size_t i) { return {step::push, i}; }
step consume(std::size_t n) { return {step::consume, n}; }
step drop_unstarted() { return {step::drop_unstarted}; }
step pin_queued() { return {step::pin_queued}; }
step pin_front(std::size_t n) { return {step::pin_front, n}; }
step shrink() { return {step::shrink}; }
step expect_pending(std::string s) { return {step::pending, 0, 0, 0, {std::move(s)}}; }
step expect_bytes(std::size_t n) { return {step::bytes, n}; }
step expect_frames(std::size_t n) { return {step::frames, n}; }
step expect_empty(bool yes) { return {step::empty, yes ? 1u : 0u}; }
step expect_owners(std::size_t frame, std::size_t count) { return {step::owners, frame, count}; }
step expect_gather(std::size_t slots, std::vector<std::string> views) { return {step::gather, slots, 0, 0, views}; }
// After the last gather: view `slot` points into frame `frame` at `offset`: no copy.
step expect_view_at(std::size_t slot, std::size_t frame, std::size_t offset) {
    return {step::view_at, slot, frame, offset};
}

struct scenario {
    const char* name;
    std::vector<std::string> frames;
    std::vector<step> steps;
};

class WriteQueueScenario : public ::testing::TestWithParam<scenario> {};

TEST_P(WriteQueueScenario, Steps) {
    std::vector<std::shared_ptr<const std::string>> frames;
    for (const auto& f : GetParam().frames) frames.push_back(frame(f));
    write_queue q;
    std::vector<std::string_view> views;
    for (std::size_t i = 0; i < GetParam().steps.size(); ++i) {
        const auto& s = GetParam().steps[i];
        SCOPED_TRACE("step " + std::to_string(i));
        switch (s.kind) {
            case step::push: push(q, frames.at(s.n)); break;
            case step::consume: q.consume(s.n); break;
            case step::drop_unstarted: q.drop_unstarted(); break;
            case step::pin_queued: q.pin_queued(); break;
            case step::pin_front: q.pin_front(s.n); break;
            case step::shrink: q.shrink(); break;
            case step::pending: EXPECT_EQ(pending(q), s.text.at(0)); break;
            case step::bytes: EXPECT_EQ(q.bytes(), s.n); break;
            case step::frames: EXPECT_EQ(q.frames(), s.n); break;
            case step::empty: EXPECT_EQ(q.empty(), s.n == 1); break;
            case step::owners: EXPECT_EQ(frames.at(s.n).use_count(), long(s.m)); break;
            case step::gather:
                views.assign(s.n, {});
                views.resize(q.gather(views));
                EXPECT_EQ(std::vector<std::string>(views.begin(), views.end()), s.text);
                break;
            case step::view_at: EXPECT_EQ(views.at(s.n).data(), frames.at(s.m)->data() + s.offset); break;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(
    WriteQueue, WriteQueueScenario,
    ::testing::Values(
        scenario{"StartsEmpty", {}, {expect_empty(true), expect_bytes(0), expect_frames(0), expect_gather(4, {})}},
        scenario{"PushGatherConsumeWholeFrames",
                 {"aaaa", "bb", "cccccc"},
                 {push_frame(0), push_frame(1), push_frame(2), expect_empty(false), expect_frames(3), expect_bytes(12),
                  expect_gather(8, {"aaaa", "bb", "cccccc"}), expect_view_at(0, 0, 0),
                  consume(4), expect_frames(2), expect_bytes(8), expect_pending("bbcccccc"),
                  consume(8), expect_empty(true), expect_frames(0), expect_bytes(0), expect_gather(8, {})}},
        scenario{"EmptyFrameIsIgnored", {""},
                 {push_frame(0), expect_empty(true), expect_frames(0), expect_owners(0, 1)}},
        // The second consume ends inside the second frame.
        scenario{"PartialWriteInTheMiddleOfAFrame",
                 {"0123456789", "abcdef"},
                 {push_frame(0), push_frame(1), consume(3), expect_frames(2), expect_bytes(13),
                  expect_gather(4, {"3456789", "abcdef"}), expect_view_at(0, 0, 3),
                  consume(9), expect_frames(1), expect_bytes(4), expect_gather(4, {"cdef"}),
                  consume(1), expect_pending("def"), consume(3), expect_empty(true), expect_bytes(0)}},
        // gather() is a view: nothing is consumed.
        scenario{"GatherWithFewerSlotsThanFrames",
                 {"aaa", "bbb", "ccc", "ddd", "eee"},
                 {push_frame(0), push_frame(1), push_frame(2), push_frame(3), push_frame(4), consume(1),
                  expect_gather(2, {"aa", "bbb"}), expect_frames(5), expect_bytes(14),
                  consume(5), expect_gather(2, {"ccc", "ddd"}), expect_gather(1, {"ccc"}), expect_gather(0, {})}},
        scenario{"SharedOwnerCountsEachPush", {"pub"},
                 {push_frame(0), push_frame(0), expect_owners(0, 3), consume(3), expect_owners(0, 2), consume(3),
                  expect_owners(0, 1)}},
        scenario{"DropUnstartedOnIdleQueueDropsEverything", {"aaaa", "bb"},
                 {push_frame(0), push_frame(1), drop_unstarted(), expect_empty(true), expect_frames(0),
                  expect_bytes(0), expect_owners(0, 1), expect_owners(1, 1)}},
        // a written and b half written: b stays, and the close frame can
        // still follow it.
        scenario{"DropUnstartedKeepsPartiallyWrittenFrameOnly",
                 {"aaaa", "bbbb", "cccc", "dddd", "CLOSE"},
                 {push_frame(0), push_frame(1), push_frame(2), push_frame(3), consume(6), expect_owners(0, 1),
                  drop_unstarted(), expect_frames(1), expect_bytes(2), expect_pending("bb"), expect_owners(1, 2),
                  expect_owners(2, 1), expect_owners(3, 1),
                  push_frame(4), expect_pending("bbCLOSE"), expect_bytes(7), consume(7), expect_empty(true),
                  expect_owners(1, 1), expect_owners(4, 1)}},
        // a done, b not started.
        scenario{"DropUnstartedAtFrameBoundaryDropsTheRest", {"aaaa", "bbbb"},
                 {push_frame(0), push_frame(1), consume(4), drop_unstarted(), expect_empty(true), expect_bytes(0),
                  expect_owners(1, 1)}},
        // Still usable afterwards.
        scenario{"ShrinkEmptyQueue", {"abc"},
                 {push_frame(0), consume(3), shrink(), expect_empty(true), expect_bytes(0),
                  push_frame(0), expect_pending("abc"), consume(3), expect_empty(true)}},
        // a written, b partially.
        scenario{"ShrinkNonEmptyQueueChangesNothing", {"aaaa", "bbbb"},
                 {push_frame(0), push_frame(1), consume(5), expect_pending("bbb"), shrink(), expect_pending("bbb"),
                  expect_bytes(3), expect_frames(1), consume(3), expect_empty(true)}},
        scenario{"PinnedFramesSurviveDropUnstarted", {"hello", "welcome", "live"},
                 {push_frame(0), push_frame(1), pin_queued(), push_frame(2), drop_unstarted(),
                  expect_pending("hellowelcome"), expect_frames(2), expect_bytes(12)}},
        // "hel" written: still pinned; then the pinned frame is out.
        scenario{"PinsEndOnceWritten", {"hello", "live", "more"},
                 {push_frame(0), pin_queued(), consume(3), push_frame(1), drop_unstarted(), expect_pending("lo"),
                  consume(2), push_frame(1), push_frame(2), drop_unstarted(), expect_empty(true), expect_bytes(0)}},
        // a written, "bb" of b.
        scenario{"APinReachingIntoAPartialFrameKeepsItWhole", {"aaaa", "bbbb", "cccc"},
                 {push_frame(0), push_frame(1), pin_queued(), push_frame(2), consume(6), drop_unstarted(),
                  expect_pending("bb"), expect_bytes(2)}},
        // pin_front(5) after "aa" covers 3 bytes of b: a and b stay whole,
        // c goes; a pin is never lowered and is capped at what is queued.
        scenario{"PinFrontKeepsEveryFrameTheBytesReachInto", {"aaaa", "bbbb", "cccc", "dddd"},
                 {push_frame(0), push_frame(1), push_frame(2), consume(2), pin_front(5), push_frame(3),
                  drop_unstarted(), expect_pending("aabbbb"), pin_front(2), drop_unstarted(),
                  expect_pending("aabbbb"), pin_front(100), consume(6), expect_empty(true), push_frame(2),
                  drop_unstarted(), expect_empty(true)}}),
    [](const ::testing::TestParamInfo<scenario>& info) { return std::string(info.param.name); });

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

}  // namespace
