// SPDX-License-Identifier: MIT
// Subscription entries: "*", "collection", "collection/id".

#include "core/topic.hpp"

#include "core/notification_rows.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using notifier::core::parse_topic;
using notifier::core::topic;

// A valid entry and the parts it parses to.
struct parsed_case {
    const char* name;
    std::string text;
    std::string collection;
    std::string id;
    std::string canonical;  // what name() gives back
    bool filtered = false;
};

class TopicParse : public ::testing::TestWithParam<parsed_case> {};

TEST_P(TopicParse, Parts) {
    const auto& c = GetParam();
    const auto t = parse_topic(c.text);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->collection, c.collection);
    EXPECT_EQ(t->id, c.id);
    EXPECT_EQ(t->name(), c.canonical);
    EXPECT_EQ(bool(t->filter), c.filtered);
}

const std::string utf8_id = "J\xC3\xA9r\xC3\xB4me \xF0\x9F\x98\x80,*";

INSTANTIATE_TEST_SUITE_P(
    Topic, TopicParse,
    ::testing::Values(parsed_case{"Star", "*", "*", "", "*"},
                      parsed_case{"Collection", "forums", "forums", "", "forums"},
                      parsed_case{"CollectionWithEveryAllowedCharacter", "AZaz09_.:-", "AZaz09_.:-", "", "AZaz09_.:-"},
                      parsed_case{"CollectionAndId", "posts/7", "posts", "7", "posts/7"},
                      parsed_case{"IdKeepsEverythingAfterTheFirstSlash", "posts/a/b", "posts", "a/b", "posts/a/b"},
                      parsed_case{"IdMayBeASlash", "posts//", "posts", "/", "posts//"},
                      parsed_case{"IdMayBeAnyUtf8", "users/" + utf8_id, "users", utf8_id,
                                  "users/" + utf8_id},
                      parsed_case{"FilteredEntriesHaveACanonicalName", "posts[pinned=true,forum_id=7.0]", "posts", "",
                                  "posts[forum_id=7,pinned=true]", true},
                      // A '/' before the '[' names a record whose id holds brackets.
                      parsed_case{"BracketsAfterASlashAreAnId", "posts/a[b=1]", "posts", "a[b=1]", "posts/a[b=1]"}),
    [](const ::testing::TestParamInfo<parsed_case>& info) { return std::string(info.param.name); });

TEST(Topic, InvalidFilteredEntriesSayWhy) {
    for (const char* bad : {"posts[", "posts[]", "posts[forum_id]", "posts[forum_id=7", "posts[forum_id=7]x",
                            "*[a=1]", "[a=1]", "po sts[a=1]", "posts[a=1,a=2]", "posts[a.b.c.d.e=1]"}) {
        const auto r = notifier::core::parse_entry(bad);
        ASSERT_TRUE(std::holds_alternative<std::string>(r)) << bad;
        EXPECT_NE(std::get<std::string>(r).find("invalid subscription"), std::string::npos) << bad;
    }
}

TEST(Topic, InvalidNames) {
    for (const char* bad : {"", "/", "/7", "posts/", "bad name", "posts!", "p\xC3\xA9", "**", "*/7", "* ",
                            " posts", "posts\n", "a,b", "posts/\xFF", "posts/\xC0\x80", "posts/\xED\xA0\x80"}) {
        EXPECT_FALSE(parse_topic(bad)) << '"' << bad << '"';
    }
}

TEST(Topic, EmptyIdIsInvalid) { EXPECT_FALSE(parse_topic("posts/")); }

TEST(Topic, CollectionLengthLimit) {
    EXPECT_TRUE(parse_topic(std::string(128, 'c')));
    EXPECT_FALSE(parse_topic(std::string(129, 'c')));
    EXPECT_TRUE(parse_topic(std::string(128, 'c') + "/1"));
    EXPECT_FALSE(parse_topic(std::string(129, 'c') + "/1"));
}

TEST(Topic, IdLengthLimitInBytes) {
    EXPECT_TRUE(parse_topic("posts/" + std::string(256, 'i')));
    EXPECT_FALSE(parse_topic("posts/" + std::string(257, 'i')));
    // 128 two-byte characters are 256 bytes; one more ASCII byte is too many.
    std::string id;
    for (int i = 0; i < 128; ++i) id += "\xC3\xA9";
    EXPECT_TRUE(parse_topic("posts/" + id));
    EXPECT_FALSE(parse_topic("posts/" + id + "x"));
}

// Whether a topic built from its parts takes a notification of
// (collection, id) that carries no rows.
struct match_case {
    const char* name;
    topic t;
    const char* collection;
    const char* id;
    bool expected;
};

class TopicMatches : public ::testing::TestWithParam<match_case> {};

TEST_P(TopicMatches, WithoutRows) {
    notifier::core::lazy_rows none(R"({"seq":1})");
    const auto& c = GetParam();
    EXPECT_EQ(c.t.matches(c.collection, c.id, none), c.expected);
}

INSTANTIATE_TEST_SUITE_P(Topic, TopicMatches,
                         ::testing::Values(match_case{"StarCollection", {"*", ""}, "posts", "", true},
                                           match_case{"StarRecord", {"*", ""}, "posts", "7", true},
                                           match_case{"StarOtherCollection", {"*", ""}, "forums", "x", true},
                                           match_case{"CollectionItself", {"posts", ""}, "posts", "", true},
                                           match_case{"CollectionRecord", {"posts", ""}, "posts", "7", true},
                                           match_case{"CollectionOther", {"posts", ""}, "forums", "", false},
                                           match_case{"CollectionPrefix", {"posts", ""}, "post", "7", false},
                                           match_case{"CollectionLonger", {"posts", ""}, "postss", "7", false},
                                           match_case{"RecordItself", {"posts", "7"}, "posts", "7", true},
                                           match_case{"RecordOtherId", {"posts", "7"}, "posts", "8", false},
                                           match_case{"RecordLongerId", {"posts", "7"}, "posts", "77", false},
                                           match_case{"RecordWholeCollection", {"posts", "7"}, "posts", "", false},
                                           match_case{"RecordOtherCollection", {"posts", "7"}, "forums", "7", false}),
                         [](const ::testing::TestParamInfo<match_case>& info) { return std::string(info.param.name); });

TEST(Topic, ParsedTopicMatches) {
    notifier::core::lazy_rows none(R"({"seq":1})");
    const auto t = parse_topic("posts/a/b");
    ASSERT_TRUE(t);
    EXPECT_TRUE(t->matches("posts", "a/b", none));
    EXPECT_FALSE(t->matches("posts", "a", none));
    const auto s = parse_topic("*");
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->matches("anything", "at all", none));
    const auto f = parse_topic("posts[forum_id=7]");
    notifier::core::lazy_rows in(R"({"data":{"forum_id":7}})"), out(R"({"data":{"forum_id":8}})");
    EXPECT_TRUE(f->matches("posts", "1", in));
    EXPECT_FALSE(f->matches("posts", "1", out));
    EXPECT_FALSE(f->matches("forums", "1", in));
    EXPECT_TRUE(f->matches("posts", "1", none));  // neither data nor old
}

}  // namespace
