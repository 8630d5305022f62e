// SPDX-License-Identifier: MIT
#pragma once
// Decoding what Redis answers the broker (hiredis reply trees) and what the
// publish script announces on the channel, into publications. Pure: no
// connection, so every malformed shape is unit-tested and fuzzed. Anything
// that does not have the expected shape decodes to nothing (never a throw).

#include <notifier/publication.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct redisReply;

namespace notifier::redis {

/// One stored publication and the nonce of the batch that wrote it (empty
/// when the writer predates nonces): a seq reused after Redis lost data
/// comes with another nonce (docs/scaling.md).
struct stream_entry {
    publication_ptr pub;
    std::string nonce;
};

/// A string or status reply's text; empty for anything else.
std::string_view reply_string(const redisReply* r);

/// An integer reply, or a string holding digits; 0 for anything else.
std::uint64_t reply_number(const redisReply* r);

/// An error reply's text, else "unexpected reply": what a log line names.
std::string_view reply_error(const redisReply* r);

/// A stream entry `[<seq>-0, [c, <collection>, i, <id>, j, <json>, n, <nonce>]]`;
/// nothing without a seq, collection or JSON.
std::optional<stream_entry> decode_entry(const redisReply* e);

/// An XRANGE answer: its well-formed entries, in the order given.
std::vector<stream_entry> decode_entries(const redisReply* r);

/// The publish script's answer {epoch, seq}: the epoch and, when nothing
/// was published, Redis' newest seq, else the batch's first seq.
struct script_head {
    std::string epoch;
    std::uint64_t seq = 0;
};
std::optional<script_head> decode_head(const redisReply* r);

/// The read script's answer {epoch, seq, entries}.
struct snapshot {
    std::string epoch;
    std::uint64_t last_seq = 0;
    std::vector<stream_entry> entries;
};
std::optional<snapshot> decode_snapshot(const redisReply* r);

/// A channel message: `epoch\n`, then per publication
/// `seq clen ilen jlen[ nonce]\n` and the collection, id and JSON bytes. No
/// publication: a new epoch announced (broker::restart). Nothing when
/// malformed anywhere, so a message is taken whole or not at all.
struct channel_message {
    std::string epoch;
    std::vector<stream_entry> entries;
};
std::optional<channel_message> decode_channel_message(std::string_view m);

/// What arrives on the subscribing connection.
struct subscription_event {
    enum class kind { other, subscribed, message };
    kind what = kind::other;
    std::string_view payload;  ///< the message, for kind::message (points into the reply)
};
subscription_event decode_subscription_event(const redisReply* r);

}  // namespace notifier::redis
