// What a token's notifier.read claim grants (docs/security.md).

#include "core/permissions.hpp"
#include "core/topic.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using notifier::core::parse_topic;
using notifier::core::permissions;

// Whether a subscription entry is within the permissions.
bool may_subscribe(const permissions& p, std::string_view entry) {
    const auto t = parse_topic(entry);
    if (!t) {
        ADD_FAILURE() << "not a valid entry: " << entry;
        return false;
    }
    return p.allows(*t);
}

TEST(Permissions, AllGrantsEverything) {
    const auto p = permissions::all();
    EXPECT_TRUE(p.everything());
    EXPECT_TRUE(may_subscribe(p, "*"));
    EXPECT_TRUE(may_subscribe(p, "posts"));
    EXPECT_TRUE(may_subscribe(p, "posts/8"));
    EXPECT_TRUE(p.allows_notification("anything", ""));
    EXPECT_TRUE(p.allows_notification("anything", "1"));
}

TEST(Permissions, NoEntriesGrantNothing) {
    const auto p = permissions::from_entries({});
    EXPECT_FALSE(p.everything());
    EXPECT_TRUE(p.entries().empty());
    EXPECT_FALSE(may_subscribe(p, "*"));
    EXPECT_FALSE(may_subscribe(p, "posts"));
    EXPECT_FALSE(may_subscribe(p, "posts/7"));
    EXPECT_FALSE(p.allows_notification("posts", ""));
    EXPECT_FALSE(p.allows_notification("posts", "7"));
}

TEST(Permissions, StarGrantsEverything) {
    const auto p = permissions::from_entries({"*"});
    EXPECT_TRUE(p.everything());
    EXPECT_TRUE(may_subscribe(p, "*"));
    EXPECT_TRUE(may_subscribe(p, "posts/8"));
    EXPECT_TRUE(p.allows_notification("x", "y"));
}

TEST(Permissions, CollectionGrantsItselfAndEveryRecord) {
    const auto p = permissions::from_entries({"forums"});
    EXPECT_FALSE(p.everything());
    EXPECT_TRUE(may_subscribe(p, "forums"));
    EXPECT_TRUE(may_subscribe(p, "forums/1"));
    EXPECT_TRUE(may_subscribe(p, "forums/a/b"));
    EXPECT_TRUE(p.allows_notification("forums", ""));
    EXPECT_TRUE(p.allows_notification("forums", "99"));
    EXPECT_FALSE(may_subscribe(p, "*"));
    EXPECT_FALSE(may_subscribe(p, "posts"));
    EXPECT_FALSE(p.allows_notification("posts", "1"));
}

TEST(Permissions, RecordGrantsOnlyThatRecord) {
    const auto p = permissions::from_entries({"posts/7"});
    EXPECT_TRUE(may_subscribe(p, "posts/7"));
    EXPECT_TRUE(p.allows_notification("posts", "7"));
    EXPECT_FALSE(may_subscribe(p, "posts/8"));
    EXPECT_FALSE(may_subscribe(p, "posts"));
    EXPECT_FALSE(may_subscribe(p, "*"));
    EXPECT_FALSE(may_subscribe(p, "posts/70"));
    EXPECT_FALSE(may_subscribe(p, "posts/7/comments"));  // ids may contain '/': a different record
    EXPECT_FALSE(may_subscribe(p, "other/7"));
    EXPECT_FALSE(p.allows_notification("posts", "8"));
    EXPECT_FALSE(p.allows_notification("posts", ""));  // a collection-wide notification is not the record's
    EXPECT_FALSE(p.allows_notification("other", "7"));
}

TEST(Permissions, NamesAreComparedExactly) {
    const auto p = permissions::from_entries({"posts", "users/Alice"});
    EXPECT_FALSE(may_subscribe(p, "post"));
    EXPECT_FALSE(may_subscribe(p, "posts2"));
    EXPECT_FALSE(may_subscribe(p, "Posts"));
    EXPECT_FALSE(may_subscribe(p, "users/alice"));
    EXPECT_FALSE(may_subscribe(p, "users/Alice "));
    EXPECT_TRUE(may_subscribe(p, "users/Alice"));
    EXPECT_FALSE(p.allows_notification("post", ""));
    EXPECT_FALSE(p.allows_notification("posts.", "1"));
}

TEST(Permissions, SeveralEntriesAddUp) {
    const auto p = permissions::from_entries({"posts/7", "posts/9", "forums"});
    EXPECT_TRUE(may_subscribe(p, "posts/7"));
    EXPECT_TRUE(may_subscribe(p, "posts/9"));
    EXPECT_FALSE(may_subscribe(p, "posts/8"));
    EXPECT_FALSE(may_subscribe(p, "posts"));
    EXPECT_TRUE(may_subscribe(p, "forums/3"));
    // A record entry next to its collection is harmless.
    const auto q = permissions::from_entries({"posts/7", "posts"});
    EXPECT_TRUE(may_subscribe(q, "posts/8"));
}

TEST(Permissions, InvalidEntriesGrantNothing) {
    const auto p = permissions::from_entries({"", "posts/", "/7", "bad name", "bad name/7", "a*", "**", "p\xff",
                                              std::string(129, 'c'), "ok/" + std::string(257, 'i')});
    EXPECT_FALSE(p.everything());
    EXPECT_TRUE(p.entries().empty());
    EXPECT_FALSE(may_subscribe(p, "posts"));
    EXPECT_FALSE(may_subscribe(p, "ok"));
    EXPECT_FALSE(p.allows_notification("posts", ""));
    EXPECT_FALSE(p.allows_notification("", ""));
    EXPECT_FALSE(p.allows_notification("bad name", "7"));
}

TEST(Permissions, InvalidEntriesDoNotSpoilValidOnes) {
    const auto p = permissions::from_entries({"bad name", "forums", ""});
    EXPECT_EQ(p.entries(), std::vector<std::string>{"forums"});
    EXPECT_TRUE(may_subscribe(p, "forums"));
}

TEST(Permissions, EntriesAreSortedAndUnique) {
    const auto p = permissions::from_entries({"posts/7", "forums", "posts/7", "alpha", "forums"});
    EXPECT_EQ(p.entries(), (std::vector<std::string>{"alpha", "forums", "posts/7"}));
}

TEST(Permissions, StarAmongOthersIsEverything) {
    const auto p = permissions::from_entries({"posts/7", "*"});
    EXPECT_TRUE(p.everything());
    EXPECT_TRUE(may_subscribe(p, "anything/else"));
}

}  // namespace
