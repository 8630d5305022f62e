// SPDX-License-Identifier: MIT
// The Redis broker's ordering without Redis: channel messages, catch-up
// answers and stream reads go through a fake stream reader, and every
// decision the sequencer hands on is written to a log that each scenario
// compares whole. The cases include what the cluster tests met on a real
// Redis: an older snapshot, a trimmed stream, a reconnect in the middle of a
// fill, and a seq numbered twice after Redis lost data.

#include "broker/redis/redis_sequencer.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace notifier::redis;

stream_entry entry(std::uint64_t seq, std::string nonce) {
    const std::string json = "{\"seq\":" + std::to_string(seq) + ",\"collection\":\"c\",\"action\":\"a\"}";
    return {notifier::make_publication_from_json(seq, "c", "", json), std::move(nonce)};
}

// A stream_reader and sequencer_events that remember everything, with a
// stream (seq → nonce) standing for what Redis holds.
struct harness : stream_reader, sequencer_events {
    redis_sequencer seq{*this, *this};
    std::vector<std::string> log;
    std::map<std::uint64_t, std::string> stream;
    bool connected = true;
    struct head_request {
        head_answer done;
    };
    struct range_request {
        std::uint64_t from, to;
        range_answer done;
    };
    std::deque<head_request> heads;
    std::deque<range_request> ranges;

    void read_head(std::uint64_t seen, std::string_view nonce, head_answer done) override {
        log.push_back("head? seen=" + std::to_string(seen) + " nonce=" + std::string(nonce));
        heads.push_back({std::move(done)});
    }
    bool read_range(std::uint64_t from, std::uint64_t to, range_answer done) override {
        if (!connected) return false;
        log.push_back("read " + std::to_string(from) + ".." + std::to_string(to));
        ranges.push_back({from, to, std::move(done)});
        return true;
    }
    void on_deliver(std::span<const notifier::publication_ptr> run) override {
        log.push_back("deliver " + std::to_string(run.front()->seq) + ".." + std::to_string(run.back()->seq));
    }
    void on_new_epoch(std::string_view epoch, std::uint64_t s) override {
        log.push_back("epoch " + std::string(epoch) + "@" + std::to_string(s));
    }
    void on_history_gap(std::string_view epoch, std::uint64_t s) override {
        log.push_back("gap " + std::string(epoch) + "@" + std::to_string(s));
    }
    void on_warning(std::string_view event, std::string_view) override { log.push_back("warn " + std::string(event)); }

    // --- steps ---
    void message(std::string epoch, std::vector<std::pair<std::uint64_t, std::string>> entries) {
        channel_message m{std::move(epoch), {}};
        for (auto& [s, n] : entries) m.entries.push_back(entry(s, n));
        seq.on_message(std::move(m));
    }
    void head(std::string epoch, std::uint64_t s) {
        ASSERT_FALSE(heads.empty());
        auto r = std::move(heads.front());
        heads.pop_front();
        r.done({std::move(epoch), s});
    }
    // Answers the oldest read from `stream`.
    void answer_range() {
        ASSERT_FALSE(ranges.empty());
        auto r = std::move(ranges.front());
        ranges.pop_front();
        std::vector<stream_entry> got;
        for (auto it = stream.lower_bound(r.from); it != stream.end() && it->first <= r.to; ++it)
            got.push_back(entry(it->first, it->second));
        r.done(std::move(got));
    }
    // The connection went away before the oldest read was answered.
    void lose_range() {
        ASSERT_FALSE(ranges.empty());
        auto r = std::move(ranges.front());
        ranges.pop_front();
        r.done(std::nullopt);
    }
    void fill_stream(std::uint64_t from, std::uint64_t to, const std::string& nonce) {
        for (auto s = from; s <= to; ++s) stream[s] = nonce;
    }
};

struct scenario {
    const char* name;
    std::function<void(harness&)> steps;
    std::vector<std::string> expected;
};

class RedisSequencer : public ::testing::TestWithParam<scenario> {};

TEST_P(RedisSequencer, Log) {
    harness h;
    h.seq.start("e1", 0);
    GetParam().steps(h);
    EXPECT_EQ(h.log, GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Scenarios, RedisSequencer,
    ::testing::Values(
        scenario{"InOrderIsDeliveredAsRuns",
                 [](harness& h) {
                     h.message("e1", {{1, "a"}, {2, "a"}});
                     h.message("e1", {{3, "b"}});
                 },
                 {"deliver 1..2", "deliver 3..3"}},
        scenario{"AGapIsFilledFromTheStreamFirst",
                 [](harness& h) {
                     h.fill_stream(1, 2, "a");
                     h.message("e1", {{3, "b"}});
                     h.answer_range();
                 },
                 {"read 1..2", "deliver 1..2", "deliver 3..3"}},
        scenario{"WhatAFillDeliveredIsNotDeliveredAgain",
                 [](harness& h) {
                     h.fill_stream(1, 1, "a");
                     h.message("e1", {{2, "b"}});
                     h.answer_range();
                     h.message("e1", {{1, "a"}});
                     h.message("e1", {{2, "b"}, {3, "c"}});
                 },
                 {"read 1..1", "deliver 1..1", "deliver 2..2", "deliver 3..3"}},
        scenario{"ATrimmedStreamMeansAResyncInTheSameEpoch",
                 [](harness& h) {
                     h.fill_stream(3, 3, "a");  // 1 and 2 trimmed away
                     h.message("e1", {{4, "b"}});
                     h.answer_range();
                 },
                 {"read 1..3", "warn redis_history_gap", "gap e1@3", "deliver 4..4"}},
        scenario{"CatchUpReadsWhatAnOutageMissed",
                 [](harness& h) {
                     h.message("e1", {{1, "a"}});
                     h.fill_stream(2, 4, "b");
                     h.seq.catch_up();
                     h.head("e1", 4);
                     h.answer_range();
                 },
                 {"deliver 1..1", "head? seen=1 nonce=a", "read 2..4", "deliver 2..4"}},
        scenario{"RedisWithoutItsDataOrFromAnOlderSnapshotStartsANewEpoch",
                 [](harness& h) {
                     h.message("e1", {{1, "a"}, {2, "a"}});
                     h.seq.catch_up();
                     h.head("e2", 0);  // the script saw seq < 2 (or no epoch)
                     h.message("e1", {{3, "b"}});  // late, from the epoch left
                     h.message("e2", {{1, "c"}});
                 },
                 {"deliver 1..2", "head? seen=2 nonce=a", "epoch e2@0", "deliver 1..1"}},
        scenario{"AReusedSeqOnTheChannelStartsANewEpoch",
                 // Redis came back from an older snapshot (seq 0) and a node
                 // that knew no better numbered 1, 2, 3 again.
                 [](harness& h) {
                     h.message("e1", {{1, "a"}, {2, "a"}});
                     h.message("e1", {{1, "b"}, {2, "b"}, {3, "b"}});
                     h.message("e1", {{4, "b"}});  // held back: the epoch is about to go
                     h.head("e2", 0);              // the script found nonce b at 2
                     h.message("e2", {{1, "c"}});
                 },
                 {"deliver 1..2", "warn redis_seq_reused", "head? seen=2 nonce=a", "epoch e2@0", "deliver 1..1"}},
        scenario{"AReusedSeqRedisCanNoLongerCompareResyncsThisNode",
                 [](harness& h) {
                     h.message("e1", {{1, "a"}, {2, "a"}});
                     h.seq.catch_up();                    // asked before the reuse showed
                     h.message("e1", {{2, "b"}});
                     h.head("e1", 2);                     // that older answer changes nothing
                     h.head("e1", 9);                     // entry 2 trimmed: no new epoch
                     h.message("e1", {{10, "b"}});
                 },
                 {"deliver 1..2", "head? seen=2 nonce=a", "warn redis_seq_reused", "head? seen=2 nonce=a",
                  "gap e1@9", "deliver 10..10"}},
        scenario{"EntriesWithoutANonceAreNotCompared",
                 [](harness& h) {
                     h.message("e1", {{1, ""}});
                     h.message("e1", {{1, "x"}, {2, "x"}});
                     h.message("e1", {{2, ""}});
                 },
                 {"deliver 1..1", "deliver 2..2"}},
        scenario{"AReconnectInTheMiddleOfAFillStartsItAgain",
                 [](harness& h) {
                     h.fill_stream(1, 2, "a");
                     h.message("e1", {{3, "b"}});
                     h.lose_range();
                     h.connected = false;
                     h.message("e1", {{4, "b"}});  // cannot read: waits
                     h.connected = true;
                     h.seq.catch_up();  // reconnected
                     h.head("e1", 4);
                     h.answer_range();
                 },
                 {"read 1..2", "head? seen=0 nonce=", "read 1..2", "deliver 1..2", "deliver 3..4"}},
        scenario{"AHeadAnswerDuringAFillIsReadAfterIt",
                 [](harness& h) {
                     h.fill_stream(1, 5, "a");
                     h.message("e1", {{3, "a"}});
                     h.seq.catch_up();
                     h.head("e1", 5);
                     h.answer_range();
                     h.answer_range();
                 },
                 {"read 1..2", "head? seen=0 nonce=", "deliver 1..2", "deliver 3..3", "read 4..5", "deliver 4..5"}},
        scenario{"AFillAnsweredAfterANewEpochIsDropped",
                 [](harness& h) {
                     h.fill_stream(1, 2, "a");
                     h.message("e1", {{3, "a"}});
                     h.message("e2", {{1, "b"}});
                     h.answer_range();
                 },
                 {"read 1..2", "epoch e2@0", "deliver 1..1"}},
        scenario{"ARestartAnnouncementStartsAnEpochAndTheOldOneStaysLeft",
                 [](harness& h) {
                     h.message("e1", {{1, "a"}});
                     h.message("e2", {});
                     h.message("e1", {{2, "a"}});
                     h.message("e2", {{1, "b"}});
                 },
                 {"deliver 1..1", "epoch e2@0", "deliver 1..1"}},
        scenario{"ANewEpochSeenMidStreamStartsBeforeItsFirstSeq",
                 [](harness& h) { h.message("e2", {{7, "a"}, {8, "a"}}); },
                 {"epoch e2@6", "deliver 7..8"}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(RedisSequencer, RemembersTheEpochsItLeft) {
    harness h;
    h.seq.start("e1", 4);
    h.message("e1", {{5, "a"}});
    h.seq.adopt("e2", 0);
    EXPECT_EQ(h.seq.epoch(), "e2");
    EXPECT_EQ(h.seq.left_at("e1"), 5u);
    EXPECT_FALSE(h.seq.left_at("e3"));
    EXPECT_EQ(h.seq.last_nonce(), "");
}

}  // namespace
