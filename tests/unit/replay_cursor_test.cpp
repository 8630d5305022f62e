// SPDX-License-Identifier: MIT
// The resume state machine: welcome, history pages, resync, live dedupe.

#include "core/replay_cursor.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace {

using notifier::history_page;
using notifier::publication;
using notifier::publication_ptr;
using notifier::core::replay_cursor;
using notifier::core::resume_request;
using status = history_page::status;
using seqs = std::vector<std::uint64_t>;

publication_ptr pub(std::uint64_t seq, std::string collection = "posts") {
    auto p = std::make_shared<publication>();
    p->seq = seq;
    p->collection = std::move(collection);
    return p;
}

history_page page(seqs s, std::uint64_t last_seq, std::string epoch = "e1", status result = status::ok) {
    history_page p;
    p.result = result;
    for (auto n : s) p.pubs.push_back(pub(n));
    p.last_seq = last_seq;
    p.epoch = std::move(epoch);
    return p;
}

history_page refused(status result) { return page({}, 0, "e1", result); }

bool everything(const publication&) { return true; }

seqs seqs_of(const replay_cursor::page_delivery& d) {
    seqs out;
    for (const auto& p : d.queue) out.push_back(p->seq);
    return out;
}

replay_cursor resuming(std::uint64_t since, std::string epoch = "e1") {
    return replay_cursor(resume_request{true, since, std::move(epoch)});
}

// A cursor resuming after `since`, started on a shard at (e1, shard_seq).
replay_cursor started(std::uint64_t since, std::uint64_t shard_seq) {
    auto c = resuming(since);
    c.start("e1", shard_seq);
    return c;
}

// A cursor resuming after `since` on a shard at (e1, shard_seq) that has
// already replayed the first page: mid-replay.
replay_cursor replayed_first_page(std::uint64_t since, std::uint64_t shard_seq, const history_page& first) {
    auto c = started(since, shard_seq);
    c.on_page_status(first, "e1", shard_seq);
    c.on_page(first, "e1", shard_seq, everything);
    return c;
}

// The first page comes back empty, the history ending at history_last and
// the shard at shard_seq: a resumed welcome at the shard's seq, nothing
// queued and no resync yet.
void expect_empty_first_page(replay_cursor& c, std::uint64_t history_last, std::uint64_t shard_seq) {
    const auto p = page({}, history_last);
    const auto st = c.on_page_status(p, "e1", shard_seq);
    ASSERT_TRUE(st.hello);
    EXPECT_TRUE(st.hello->resumed);
    EXPECT_EQ(st.hello->seq, shard_seq);
    EXPECT_FALSE(st.resync_now);
    const auto d = c.on_page(p, "e1", shard_seq, everything);
    EXPECT_TRUE(d.queue.empty());
    EXPECT_FALSE(d.resync_now);
}

TEST(ReplayCursor, WithoutResumeIsLiveAtOnce) {
    replay_cursor c(resume_request{});
    EXPECT_FALSE(c.resuming());
    const auto hello = c.start("e1", 10);
    ASSERT_TRUE(hello);
    EXPECT_EQ(hello->epoch, "e1");
    EXPECT_EQ(hello->seq, 10u);
    EXPECT_FALSE(hello->resumed);
    EXPECT_TRUE(c.welcomed());
    EXPECT_FALSE(c.replaying());
    EXPECT_EQ(c.last_seq(), 10u);
}

TEST(ReplayCursor, LiveDedupesBySeq) {
    replay_cursor c(resume_request{});
    c.start("e1", 10);
    EXPECT_FALSE(c.take_live(9));
    EXPECT_FALSE(c.take_live(10));
    EXPECT_TRUE(c.take_live(11));
    EXPECT_FALSE(c.take_live(11));  // a session subscribed twice gets it once
    EXPECT_TRUE(c.take_live(13));   // gaps are the broker's business
    EXPECT_FALSE(c.take_live(12));
    EXPECT_EQ(c.last_seq(), 13u);
}

TEST(ReplayCursor, ResumeWaitsForTheFirstPage) {
    auto c = resuming(5);
    EXPECT_TRUE(c.resuming());
    EXPECT_FALSE(c.start("e1", 10));
    EXPECT_TRUE(c.replaying());
    EXPECT_FALSE(c.welcomed());
    EXPECT_EQ(c.last_seq(), 5u);
    EXPECT_EQ(c.read_epoch(), "e1");
    // Never caught up before the welcome, even when nothing was missed.
    EXPECT_FALSE(c.caught_up(5));
    EXPECT_FALSE(c.caught_up(0));
    EXPECT_TRUE(c.replaying());
    // Live publications wait: the replay reaches them through the history.
    EXPECT_FALSE(c.take_live(11));
}

TEST(ReplayCursor, ResumedWelcome) {
    auto c = started(5, 10);
    const auto st = c.on_page_status(page({6, 7}, 12, "e1"), "e1", 10);
    ASSERT_TRUE(st.hello);
    EXPECT_EQ(st.hello->epoch, "e1");
    EXPECT_EQ(st.hello->seq, 12u);  // the newer of the history and the shard
    EXPECT_TRUE(st.hello->resumed);
    EXPECT_FALSE(st.resync_now);
    EXPECT_TRUE(c.welcomed());
    EXPECT_TRUE(c.replaying());
}

TEST(ReplayCursor, ResumedWelcomeTakesTheShardsSeqWhenNewer) {
    auto c = started(5, 20);
    const auto st = c.on_page_status(page({6}, 12, "e1"), "shard-epoch", 20);
    ASSERT_TRUE(st.hello);
    EXPECT_EQ(st.hello->seq, 20u);
    EXPECT_EQ(st.hello->epoch, "e1");  // the history's epoch
}

TEST(ReplayCursor, FullReplayThenLive) {
    auto c = started(2, 6);
    const auto p1 = page({3, 4}, 6);
    c.on_page_status(p1, "e1", 6);
    const auto d1 = c.on_page(p1, "e1", 6, everything);
    EXPECT_EQ(seqs_of(d1), (seqs{3, 4}));
    EXPECT_FALSE(d1.resync_now);
    EXPECT_EQ(c.last_seq(), 4u);
    EXPECT_FALSE(c.caught_up(6));
    EXPECT_TRUE(c.replaying());

    const auto p2 = page({5, 6}, 6);
    EXPECT_FALSE(c.on_page_status(p2, "e1", 6).hello);
    EXPECT_EQ(seqs_of(c.on_page(p2, "e1", 6, everything)), (seqs{5, 6}));
    EXPECT_TRUE(c.caught_up(6));
    EXPECT_FALSE(c.replaying());
    EXPECT_FALSE(c.take_live(6));
    EXPECT_TRUE(c.take_live(7));
}

TEST(ReplayCursor, CaughtUpAtOnceWhenNothingWasMissed) {
    auto c = started(10, 10);
    expect_empty_first_page(c, 10, 10);  // empty, but not behind
    EXPECT_TRUE(c.caught_up(10));
}

TEST(ReplayCursor, FilterSkipsButAdvances) {
    auto c = started(0, 4);
    history_page p;
    p.pubs = {pub(1, "a"), pub(2, "b"), pub(3, "a"), pub(4, "c")};
    p.last_seq = 4;
    p.epoch = "e1";
    c.on_page_status(p, "e1", 4);
    const auto d = c.on_page(p, "e1", 4, [](const publication& x) { return x.collection == "a"; });
    EXPECT_EQ(seqs_of(d), (seqs{1, 3}));
    EXPECT_EQ(c.last_seq(), 4u);  // skipped ones count as passed
    EXPECT_TRUE(c.caught_up(4));
}

TEST(ReplayCursor, PageDedupesWhatIsAlreadyPassed) {
    auto c = started(5, 9);
    const auto p = page({4, 5, 6, 7}, 9);
    c.on_page_status(p, "e1", 9);
    EXPECT_EQ(seqs_of(c.on_page(p, "e1", 9, everything)), (seqs{6, 7}));
    EXPECT_EQ(seqs_of(c.on_page(p, "e1", 9, everything)), (seqs{}));
}

struct refused_status : testing::TestWithParam<status> {};

TEST_P(refused_status, FirstPageStartsOverWithAResync) {
    auto c = resuming(5, "old");
    c.start("e2", 30);
    const auto p = refused(GetParam());
    const auto st = c.on_page_status(p, "e2", 30);
    ASSERT_TRUE(st.hello);
    EXPECT_EQ(st.hello->epoch, "e2");  // the shard's, not the page's
    EXPECT_EQ(st.hello->seq, 30u);
    EXPECT_FALSE(st.hello->resumed);
    ASSERT_TRUE(st.resync_now);
    EXPECT_EQ(st.resync_now->epoch, "e2");
    EXPECT_EQ(st.resync_now->seq, 30u);
    EXPECT_FALSE(c.replaying());
    EXPECT_EQ(c.last_seq(), 30u);
    // Nothing from a refused page.
    const auto d = c.on_page(p, "e2", 30, everything);
    EXPECT_TRUE(d.queue.empty());
    EXPECT_FALSE(d.resync_now);
    EXPECT_TRUE(c.take_live(31));
}

TEST_P(refused_status, LaterPageIsAResync) {
    auto c = replayed_first_page(1, 10, page({2, 3}, 10));
    const auto p2 = refused(GetParam());
    const auto st = c.on_page_status(p2, "e1", 12);
    EXPECT_FALSE(st.hello);
    ASSERT_TRUE(st.resync_now);
    EXPECT_EQ(st.resync_now->epoch, "e1");
    EXPECT_EQ(st.resync_now->seq, 12u);
    EXPECT_FALSE(c.replaying());
    EXPECT_EQ(c.last_seq(), 12u);
    EXPECT_TRUE(c.on_page(p2, "e1", 12, everything).queue.empty());
}

INSTANTIATE_TEST_SUITE_P(ReplayCursor, refused_status,
                         testing::Values(status::unknown_epoch, status::gone, status::future));

TEST(ReplayCursor, EmptyPageReadBeforeTheDispatchIsReadAgain) {
    // Read on the intake when the history ended at the cursor; by the time
    // it is answered the shard has dispatched 4..8: no resync, read again.
    auto c = started(3, 3);
    expect_empty_first_page(c, 3, 8);
    EXPECT_TRUE(c.replaying());
    EXPECT_FALSE(c.caught_up(8));
    EXPECT_EQ(c.last_seq(), 3u);
    // The second read sees them.
    const auto again = page({4, 5, 6, 7, 8}, 8);
    c.on_page_status(again, "e1", 8);
    const auto d = c.on_page(again, "e1", 8, everything);
    EXPECT_EQ(seqs_of(d), (seqs{4, 5, 6, 7, 8}));
    EXPECT_FALSE(d.resync_now);
    EXPECT_TRUE(c.caught_up(8));
}

TEST(ReplayCursor, EmptyPageTwiceWhileBehindIsAResync) {
    // Dispatched, yet the history does not have it even when read after.
    auto c = started(3, 8);
    const auto p = page({}, 3);
    c.on_page_status(p, "e1", 8);
    EXPECT_FALSE(c.on_page(p, "e1", 8, everything).resync_now);
    c.on_page_status(p, "e1", 8);
    const auto d = c.on_page(p, "e1", 8, everything);
    EXPECT_TRUE(d.queue.empty());
    ASSERT_TRUE(d.resync_now);
    EXPECT_EQ(d.resync_now->epoch, "e1");
    EXPECT_EQ(d.resync_now->seq, 8u);
    EXPECT_FALSE(c.replaying());
    EXPECT_EQ(c.last_seq(), 8u);
}

TEST(ReplayCursor, EmptyPageFromAHistoryThatHasNewerIsAResyncAtOnce) {
    // The history holds up to 8 and gave nothing after 3: it lacks them.
    auto c = started(3, 8);
    const auto p = page({}, 8);
    c.on_page_status(p, "e1", 8);
    const auto d = c.on_page(p, "e1", 8, everything);
    ASSERT_TRUE(d.resync_now);
    EXPECT_EQ(d.resync_now->seq, 8u);
    EXPECT_FALSE(c.replaying());
}

TEST(ReplayCursor, ProgressForgetsAnEarlierEmptyPage) {
    // One raced read, then progress, then another raced read: each race
    // gets its second read.
    auto c = started(0, 0);
    c.on_page_status(page({}, 0), "e1", 2);
    EXPECT_FALSE(c.on_page(page({}, 0), "e1", 2, everything).resync_now);
    EXPECT_EQ(seqs_of(c.on_page(page({1, 2}, 2), "e1", 2, everything)), (seqs{1, 2}));
    EXPECT_FALSE(c.on_page(page({}, 2), "e1", 5, everything).resync_now);
    EXPECT_TRUE(c.replaying());
    EXPECT_EQ(seqs_of(c.on_page(page({3, 4, 5}, 5), "e1", 5, everything)), (seqs{3, 4, 5}));
    EXPECT_TRUE(c.caught_up(5));
}

TEST(ReplayCursor, PageThatEndsBehindIsNoResync) {
    // Not empty: the next read goes on from where it ended.
    auto c = started(0, 9);
    const auto p = page({1, 2}, 9);
    c.on_page_status(p, "e1", 9);
    const auto d = c.on_page(p, "e1", 9, everything);
    EXPECT_FALSE(d.resync_now);
    EXPECT_TRUE(c.replaying());
    EXPECT_EQ(c.last_seq(), 2u);
}

TEST(ReplayCursor, ReadsStayInTheClientsEpoch) {
    auto c = resuming(0, "client");
    c.start("shard", 5);
    const auto p = page({1}, 5, "client");
    c.on_page_status(p, "shard", 5);
    c.on_page(p, "shard", 5, everything);
    EXPECT_EQ(c.read_epoch(), "client");
}

TEST(ReplayCursor, JumpToEndsTheReplay) {
    auto c = replayed_first_page(1, 10, page({2}, 10));
    c.jump_to(50);
    EXPECT_FALSE(c.replaying());
    EXPECT_EQ(c.last_seq(), 50u);
    EXPECT_FALSE(c.take_live(50));
    EXPECT_TRUE(c.take_live(51));
}

TEST(ReplayCursor, JumpToMayGoBack) {
    // A new epoch starts its seqs where the broker says, even lower.
    replay_cursor c(resume_request{});
    c.start("e1", 100);
    c.jump_to(3);
    EXPECT_TRUE(c.take_live(4));
}

TEST(ReplayCursor, StopEndsTheReplay) {
    auto c = started(1, 10);
    c.stop();
    EXPECT_FALSE(c.replaying());
    EXPECT_EQ(c.last_seq(), 1u);
}

TEST(ReplayCursor, PageAfterAResetStillDelivers) {
    // A read in flight when the shard reset: its page still counts from the
    // reset's seq.
    auto c = replayed_first_page(1, 10, page({2}, 10));
    c.jump_to(5);
    const auto p2 = page({3, 4, 5, 6}, 10);
    EXPECT_FALSE(c.on_page_status(p2, "e2", 10).resync_now);
    EXPECT_EQ(seqs_of(c.on_page(p2, "e2", 10, everything)), (seqs{6}));
}

}  // namespace
