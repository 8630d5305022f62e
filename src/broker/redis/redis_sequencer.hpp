// SPDX-License-Identifier: MIT
#pragma once
// Turns what a node hears from Redis (channel messages, catch-up answers,
// stream reads) into the broker_handler's promise: publications in seq
// order, each once, no gap within an epoch, and a reset when history was
// lost. Pure: it reads through a stream_reader, so it is unit-tested against
// a fake one. Single-threaded (the hub's intake loop).

#include "broker/redis/redis_reply.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace notifier::redis {

/// How the sequencer reads Redis. Answers may come later, or never when
/// the request could not be completed (the reader retries or reconnects,
/// and the sequencer is asked to catch up again).
class stream_reader {
public:
    using head_answer = std::function<void(script_head)>;
    /// nullopt: the connection went away before an answer.
    using range_answer = std::function<void(std::optional<std::vector<stream_entry>>)>;

    virtual ~stream_reader() = default;

    /// Redis' epoch and newest seq, after the publish script checked that
    /// Redis still holds what this node saw: seq `seen` at least, with
    /// `nonce` at that seq (when known); a new epoch otherwise.
    virtual void read_head(std::uint64_t seen, std::string_view nonce, head_answer done) = 0;

    /// The stream's entries from..to (inclusive). False when it cannot be
    /// asked now (no answer then).
    virtual bool read_range(std::uint64_t from, std::uint64_t to, range_answer done) = 0;
};

/// What the sequencer decided, for the broker to hand on.
class sequencer_events {
public:
    virtual ~sequencer_events() = default;
    /// Consecutive seqs following the previous delivery.
    virtual void on_deliver(std::span<const publication_ptr> run) = 0;
    /// A new epoch starting after `seq`: publish answers of other epochs fail.
    virtual void on_new_epoch(std::string_view epoch, std::uint64_t seq) = 0;
    /// Same epoch, but what came before `seq` cannot be delivered: clients resync.
    virtual void on_history_gap(std::string_view epoch, std::uint64_t seq) = 0;
    virtual void on_warning(std::string_view event, std::string_view detail) = 0;
};

class redis_sequencer {
public:
    redis_sequencer(stream_reader& reader, sequencer_events& events) : reader_(reader), events_(events) {}

    /// Where Redis stood when the node started (nothing delivered yet).
    void start(std::string epoch, std::uint64_t seq);

    /// A decoded channel message.
    void on_message(channel_message m);

    /// Asks Redis where it stands and reads what this node missed: after a
    /// reconnect, and when a seq turned out reused.
    void catch_up();

    /// A new epoch this node learnt of first-hand (broker::restart).
    void adopt(std::string epoch, std::uint64_t seq) { new_epoch(std::move(epoch), seq); }

    const std::string& epoch() const noexcept { return epoch_; }
    std::uint64_t last_seq() const noexcept { return last_seq_; }
    /// The nonce of the entry at last_seq(); empty when unknown.
    const std::string& last_nonce() const noexcept { return last_nonce_; }
    /// The last seq delivered in an epoch this node left; nothing if it did not.
    std::optional<std::uint64_t> left_at(std::string_view epoch) const;

private:
    void on_head(std::uint64_t token, script_head h);
    void on_range(std::uint64_t token, std::uint64_t from, std::uint64_t to,
                  std::optional<std::vector<stream_entry>> got);
    void new_epoch(std::string e, std::uint64_t seq);
    void process();
    void fill(std::uint64_t from, std::uint64_t to);
    void seq_reused();
    void deliver(std::vector<stream_entry>& run);

    stream_reader& reader_;
    sequencer_events& events_;
    std::string epoch_;
    std::uint64_t last_seq_ = 0;  // delivered
    std::string last_nonce_;      // of the entry at last_seq_
    std::uint64_t known_seq_ = 0; // Redis' seq as last read: filled up to once pending is through
    std::deque<stream_entry> pending;  // from the channel, waiting for a gap to be filled
    bool filling_ = false;
    std::uint64_t fill_token_ = 0;  // answers to older fills are stale
    std::uint64_t head_token_ = 0;
    // A seq came back with another nonce: nothing is delivered until Redis
    // answered a head read sent after that (lost_token_ is the last before).
    bool lost_ = false;
    std::uint64_t lost_token_ = 0;
    // Epochs this node left, with the last seq it delivered in each: their
    // messages may still be in flight on the channel and must not take the
    // node back, and a publish answered late from one of them is settled.
    std::deque<std::pair<std::string, std::uint64_t>> left_;
};

}  // namespace notifier::redis
