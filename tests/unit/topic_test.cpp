// SPDX-License-Identifier: MIT
// Subscription entries: "*", "collection", "collection/id".

#include "core/topic.hpp"

#include "core/notification_rows.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using notifier::core::parse_topic;
using notifier::core::topic;

TEST(Topic, Star) {
    const auto t = parse_topic("*");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->collection, "*");
    EXPECT_EQ(t->id, "");
}

TEST(Topic, Collection) {
    const auto t = parse_topic("forums");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->collection, "forums");
    EXPECT_EQ(t->id, "");
}

TEST(Topic, CollectionWithEveryAllowedCharacter) {
    const std::string name = "AZaz09_.:-";
    const auto t = parse_topic(name);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->collection, name);
}

TEST(Topic, CollectionAndId) {
    const auto t = parse_topic("posts/7");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->collection, "posts");
    EXPECT_EQ(t->id, "7");
}

TEST(Topic, IdKeepsEverythingAfterTheFirstSlash) {
    const auto t = parse_topic("posts/a/b");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->collection, "posts");
    EXPECT_EQ(t->id, "a/b");
    const auto u = parse_topic("posts//");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->id, "/");
}

TEST(Topic, IdMayBeAnyUtf8) {
    const auto t = parse_topic("users/J\xC3\xA9r\xC3\xB4me \xF0\x9F\x98\x80,*");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->collection, "users");
    EXPECT_EQ(t->id, "J\xC3\xA9r\xC3\xB4me \xF0\x9F\x98\x80,*");
}

TEST(Topic, FilteredEntriesHaveACanonicalName) {
    const auto t = parse_topic("posts[pinned=true,forum_id=7.0]");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->collection, "posts");
    EXPECT_EQ(t->id, "");
    ASSERT_TRUE(t->filter);
    EXPECT_EQ(t->name(), "posts[forum_id=7,pinned=true]");
    EXPECT_EQ(parse_topic("posts/7")->name(), "posts/7");
    EXPECT_EQ(parse_topic("*")->name(), "*");
    // A '/' before the '[' names a record whose id holds brackets.
    const auto r = parse_topic("posts/a[b=1]");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->id, "a[b=1]");
    EXPECT_FALSE(r->filter);
}

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

TEST(Topic, Matches) {
    notifier::core::lazy_rows none(R"({"seq":1})");
    const topic star{"*", ""};
    EXPECT_TRUE(star.matches("posts", "", none));
    EXPECT_TRUE(star.matches("posts", "7", none));
    EXPECT_TRUE(star.matches("forums", "x", none));

    const topic posts{"posts", ""};
    EXPECT_TRUE(posts.matches("posts", "", none));
    EXPECT_TRUE(posts.matches("posts", "7", none));
    EXPECT_FALSE(posts.matches("forums", "", none));
    EXPECT_FALSE(posts.matches("post", "7", none));
    EXPECT_FALSE(posts.matches("postss", "7", none));

    const topic post7{"posts", "7"};
    EXPECT_TRUE(post7.matches("posts", "7", none));
    EXPECT_FALSE(post7.matches("posts", "8", none));
    EXPECT_FALSE(post7.matches("posts", "77", none));
    EXPECT_FALSE(post7.matches("posts", "", none));
    EXPECT_FALSE(post7.matches("forums", "7", none));
}

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
