// SPDX-License-Identifier: MIT
// Subscription entries: "*", "collection", "collection/id".

#include "core/topic.hpp"

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

TEST(Topic, ViewsPointIntoTheEntry) {
    const std::string entry = "posts/42";
    const auto t = parse_topic(entry);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->collection.data(), entry.data());
    EXPECT_EQ(t->id.data(), entry.data() + 6);
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
    const topic star{"*", ""};
    EXPECT_TRUE(star.matches("posts", ""));
    EXPECT_TRUE(star.matches("posts", "7"));
    EXPECT_TRUE(star.matches("forums", "x"));

    const topic posts{"posts", ""};
    EXPECT_TRUE(posts.matches("posts", ""));
    EXPECT_TRUE(posts.matches("posts", "7"));
    EXPECT_FALSE(posts.matches("forums", ""));
    EXPECT_FALSE(posts.matches("post", "7"));
    EXPECT_FALSE(posts.matches("postss", "7"));

    const topic post7{"posts", "7"};
    EXPECT_TRUE(post7.matches("posts", "7"));
    EXPECT_FALSE(post7.matches("posts", "8"));
    EXPECT_FALSE(post7.matches("posts", "77"));
    EXPECT_FALSE(post7.matches("posts", ""));
    EXPECT_FALSE(post7.matches("forums", "7"));
}

TEST(Topic, ParsedTopicMatches) {
    const auto t = parse_topic("posts/a/b");
    ASSERT_TRUE(t);
    EXPECT_TRUE(t->matches("posts", "a/b"));
    EXPECT_FALSE(t->matches("posts", "a"));
    const auto s = parse_topic("*");
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->matches("anything", "at all"));
}

}  // namespace
