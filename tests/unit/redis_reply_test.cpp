// SPDX-License-Identifier: MIT
// Decoding Redis' answers and channel messages, without Redis: each reply is
// written in RESP (what Redis sends) and parsed by hiredis' own reader, so
// the trees are the ones the broker gets.

#include "broker/redis/redis_reply.hpp"

#include <hiredis/hiredis.h>

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace notifier::redis;

struct reply_deleter {
    void operator()(redisReply* r) const { freeReplyObject(r); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

reply_ptr parse(std::string_view resp) {
    std::unique_ptr<redisReader, void (*)(redisReader*)> reader(redisReaderCreate(), redisReaderFree);
    redisReaderFeed(reader.get(), resp.data(), resp.size());
    void* r = nullptr;
    EXPECT_EQ(redisReaderGetReply(reader.get(), &r), REDIS_OK) << resp;
    EXPECT_NE(r, nullptr) << "incomplete: " << resp;
    return reply_ptr(static_cast<redisReply*>(r));
}

std::string bulk(std::string_view s) { return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n"; }
std::string array(std::initializer_list<std::string> items) {
    std::string out = "*" + std::to_string(items.size()) + "\r\n";
    for (const auto& i : items) out += i;
    return out;
}
// A stream entry as XRANGE answers it.
std::string stream_entry_resp(std::string_view id, std::initializer_list<std::string_view> fields) {
    std::string f = "*" + std::to_string(fields.size()) + "\r\n";
    for (auto x : fields) f += bulk(x);
    return array({bulk(id), f});
}

// What a decoded entry must be: seq, collection, id, JSON, nonce.
struct expected_entry {
    std::uint64_t seq;
    std::string collection, id, json, nonce;
};

void expect_entry(const stream_entry& got, const expected_entry& want) {
    EXPECT_EQ(got.pub->seq, want.seq);
    EXPECT_EQ(got.pub->collection, want.collection);
    EXPECT_EQ(got.pub->id, want.id);
    EXPECT_EQ(got.pub->frame.substr(got.pub->header_size), want.json);
    EXPECT_EQ(got.nonce, want.nonce);
}

const std::string json1 = R"({"seq":1,"collection":"posts","action":"create","id":"7"})";

struct entry_case {
    const char* name;
    std::string resp;
    std::optional<expected_entry> want;
};

class RedisReplyEntry : public ::testing::TestWithParam<entry_case> {};

TEST_P(RedisReplyEntry, Decodes) {
    const auto r = parse(GetParam().resp);
    const auto got = decode_entry(r.get());
    ASSERT_EQ(got.has_value(), GetParam().want.has_value());
    if (got) expect_entry(*got, *GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Entries, RedisReplyEntry,
    ::testing::Values(
        entry_case{"WithNonce", stream_entry_resp("1-0", {"c", "posts", "i", "7", "j", json1, "n", "ab12"}),
                   expected_entry{1, "posts", "7", json1, "ab12"}},
        entry_case{"WrittenBeforeNonces", stream_entry_resp("1-0", {"c", "posts", "i", "7", "j", json1}),
                   expected_entry{1, "posts", "7", json1, ""}},
        entry_case{"FieldsInAnyOrder", stream_entry_resp("1-0", {"n", "x", "j", json1, "i", "", "c", "posts"}),
                   expected_entry{1, "posts", "", json1, "x"}},
        entry_case{"UnknownFieldsIgnored", stream_entry_resp("1-0", {"c", "posts", "z", "?", "j", json1, "i"}),
                   expected_entry{1, "posts", "", json1, ""}},
        entry_case{"NoJson", stream_entry_resp("1-0", {"c", "posts", "i", "7"}), std::nullopt},
        entry_case{"NoCollection", stream_entry_resp("1-0", {"i", "7", "j", json1}), std::nullopt},
        entry_case{"SeqZero", stream_entry_resp("0-0", {"c", "posts", "j", json1}), std::nullopt},
        entry_case{"IdNotANumber", stream_entry_resp("x-0", {"c", "posts", "j", json1}), std::nullopt},
        entry_case{"FieldsNotAnArray", array({bulk("1-0"), bulk("c")}), std::nullopt},
        entry_case{"ThreeElements", array({bulk("1-0"), array({}), bulk("x")}), std::nullopt},
        entry_case{"IntegerValue", array({bulk("1-0"), array({bulk("c"), ":5\r\n", bulk("j"), bulk(json1)})}),
                   std::nullopt},
        entry_case{"NotAnArray", bulk("1-0"), std::nullopt},
        entry_case{"Nil", "$-1\r\n", std::nullopt},
        entry_case{"Error", "-ERR no\r\n", std::nullopt}),
    [](const auto& info) { return std::string(info.param.name); });

struct message_case {
    const char* name;
    std::string payload;
    std::optional<std::string> epoch;  // nothing: malformed
    std::vector<expected_entry> entries;
};

class RedisChannelMessage : public ::testing::TestWithParam<message_case> {};

TEST_P(RedisChannelMessage, Decodes) {
    const auto got = decode_channel_message(GetParam().payload);
    ASSERT_EQ(got.has_value(), GetParam().epoch.has_value());
    if (!got) return;
    EXPECT_EQ(got->epoch, *GetParam().epoch);
    ASSERT_EQ(got->entries.size(), GetParam().entries.size());
    for (std::size_t k = 0; k < got->entries.size(); ++k) expect_entry(got->entries[k], GetParam().entries[k]);
}

const std::string j2 = R"({"seq":2,"x":1})";
const std::string j3 = R"({"seq":3})";

// One publication as the publish script writes it; `nonce` null: as written
// before nonces.
std::string pub(std::uint64_t seq, std::string_view c, std::string_view i, std::string_view j,
                const char* nonce = nullptr) {
    std::string out = std::to_string(seq) + " " + std::to_string(c.size()) + " " + std::to_string(i.size()) + " " +
                      std::to_string(j.size());
    if (nonce) out += std::string(" ") + nonce;
    return out + "\n" + std::string(c) + std::string(i) + std::string(j);
}

INSTANTIATE_TEST_SUITE_P(
    Messages, RedisChannelMessage,
    ::testing::Values(
        message_case{"RestartAnnouncement", "e1\n", "e1", {}},
        message_case{"OneWithNonce", "e1\n" + pub(2, "a", "b", j2, "n9"), "e1", {{2, "a", "b", j2, "n9"}}},
        message_case{"Two", "e1\n" + pub(2, "a", "", j2, "n9") + pub(3, "b", "c", j3, "n9"), "e1",
                     {{2, "a", "", j2, "n9"}, {3, "b", "c", j3, "n9"}}},
        message_case{"WrittenBeforeNonces", "e1\n" + pub(3, "b", "c", j3), "e1", {{3, "b", "c", j3, ""}}},
        message_case{"NoEpochLine", "e1", std::nullopt, {}},
        message_case{"NoLineEnd", "e1\n3 1 1 9", std::nullopt, {}},
        message_case{"Truncated", "e1\n" + pub(3, "b", "c", j3, "n").substr(0, 14), std::nullopt, {}},
        message_case{"LengthsOverflow", "e1\n3 18446744073709551615 2 0\nbc", std::nullopt, {}},
        message_case{"NotANumber", "e1\n3 x 1 9\nbc" + j3, std::nullopt, {}},
        message_case{"TooFewNumbers", "e1\n3 1 1\nbc", std::nullopt, {}},
        message_case{"SeqZero", "e1\n" + pub(0, "b", "c", j3), std::nullopt, {}},
        message_case{"OneGoodOneBadIsNothing", "e1\n" + pub(3, "b", "c", j3) + "4 1 1 99\nbc", std::nullopt, {}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(RedisReply, ScriptHead) {
    struct row {
        std::string resp;
        std::optional<script_head> want;
    };
    const std::vector<row> rows{
        {array({bulk("e1"), ":42\r\n"}), script_head{"e1", 42}},
        {array({bulk("e1"), bulk("42")}), script_head{"e1", 42}},
        {array({bulk("e1")}), std::nullopt},
        {array({bulk("e1"), ":1\r\n", ":2\r\n"}), std::nullopt},
        {"-NOSCRIPT No matching script\r\n", std::nullopt},
        {":1\r\n", std::nullopt},
    };
    for (const auto& r : rows) {
        const auto got = decode_head(parse(r.resp).get());
        ASSERT_EQ(got.has_value(), r.want.has_value()) << r.resp;
        if (got) {
            EXPECT_EQ(got->epoch, r.want->epoch);
            EXPECT_EQ(got->seq, r.want->seq);
        }
    }
}

TEST(RedisReply, ErrorText) {
    EXPECT_EQ(reply_error(parse("-NOSCRIPT No matching script\r\n").get()), "NOSCRIPT No matching script");
    EXPECT_EQ(reply_error(parse(":1\r\n").get()), "unexpected reply");
    EXPECT_EQ(reply_error(nullptr), "unexpected reply");
}

TEST(RedisReply, SnapshotKeepsItsWellFormedEntries) {
    const auto r = parse(array({bulk("e1"), ":3\r\n",
                                array({stream_entry_resp("2-0", {"c", "posts", "j", j2}),
                                       stream_entry_resp("3-0", {"c", "posts"}),
                                       stream_entry_resp("3-0", {"c", "posts", "j", j3, "n", "q"})})}));
    const auto got = decode_snapshot(r.get());
    ASSERT_TRUE(got);
    EXPECT_EQ(got->epoch, "e1");
    EXPECT_EQ(got->last_seq, 3u);
    ASSERT_EQ(got->entries.size(), 2u);
    expect_entry(got->entries[0], {2, "posts", "", j2, ""});
    expect_entry(got->entries[1], {3, "posts", "", j3, "q"});
    EXPECT_FALSE(decode_snapshot(parse(array({bulk("e1"), ":3\r\n"})).get()));
    EXPECT_TRUE(decode_entries(parse("$-1\r\n").get()).empty());
}

TEST(RedisReply, SubscriptionEvents) {
    using k = subscription_event::kind;
    EXPECT_EQ(decode_subscription_event(parse(array({bulk("subscribe"), bulk("p:pub"), ":1\r\n"})).get()).what,
              k::subscribed);
    const auto message = parse(array({bulk("message"), bulk("p:pub"), bulk("e1\n")}));
    const auto m = decode_subscription_event(message.get());
    EXPECT_EQ(m.what, k::message);
    EXPECT_EQ(m.payload, "e1\n");
    EXPECT_EQ(decode_subscription_event(parse(array({bulk("message"), bulk("p:pub")})).get()).what, k::other);
    EXPECT_EQ(decode_subscription_event(parse(array({bulk("pong"), bulk(""), bulk("")})).get()).what, k::other);
    EXPECT_EQ(decode_subscription_event(nullptr).what, k::other);
}

}  // namespace
