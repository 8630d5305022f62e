// SPDX-License-Identifier: MIT
// What a token's notifier.read claim grants (docs/security.md).

#include "core/permissions.hpp"

#include "core/notification_rows.hpp"
#include "core/topic.hpp"

#include <gtest/gtest.h>

#include <optional>
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

// Whether a notification of (collection, id) with the rows of `json` may be read.
bool reads(const permissions& p, std::string_view collection, std::string_view id,
           std::string_view json = R"({"seq":1})") {
    notifier::core::lazy_rows rows(json);
    return p.allows_notification(collection, id, rows);
}

TEST(Permissions, AllGrantsEverything) {
    const auto p = permissions::all();
    EXPECT_TRUE(p.everything());
    EXPECT_TRUE(may_subscribe(p, "*"));
    EXPECT_TRUE(may_subscribe(p, "posts"));
    EXPECT_TRUE(may_subscribe(p, "posts/8"));
    EXPECT_TRUE(reads(p, "anything", ""));
    EXPECT_TRUE(reads(p, "anything", "1"));
}

TEST(Permissions, NoEntriesGrantNothing) {
    const auto p = permissions::from_entries({});
    EXPECT_FALSE(p.everything());
    EXPECT_TRUE(p.entries().empty());
    EXPECT_FALSE(may_subscribe(p, "*"));
    EXPECT_FALSE(may_subscribe(p, "posts"));
    EXPECT_FALSE(may_subscribe(p, "posts/7"));
    EXPECT_FALSE(reads(p, "posts", ""));
    EXPECT_FALSE(reads(p, "posts", "7"));
}

TEST(Permissions, StarGrantsEverything) {
    const auto p = permissions::from_entries({"*"});
    EXPECT_TRUE(p.everything());
    EXPECT_TRUE(may_subscribe(p, "*"));
    EXPECT_TRUE(may_subscribe(p, "posts/8"));
    EXPECT_TRUE(reads(p, "x", "y"));
}

TEST(Permissions, CollectionGrantsItselfAndEveryRecord) {
    const auto p = permissions::from_entries({"forums"});
    EXPECT_FALSE(p.everything());
    EXPECT_TRUE(may_subscribe(p, "forums"));
    EXPECT_TRUE(may_subscribe(p, "forums/1"));
    EXPECT_TRUE(may_subscribe(p, "forums/a/b"));
    EXPECT_TRUE(reads(p, "forums", ""));
    EXPECT_TRUE(reads(p, "forums", "99"));
    EXPECT_FALSE(may_subscribe(p, "*"));
    EXPECT_FALSE(may_subscribe(p, "posts"));
    EXPECT_FALSE(reads(p, "posts", "1"));
}

TEST(Permissions, RecordGrantsOnlyThatRecord) {
    const auto p = permissions::from_entries({"posts/7"});
    EXPECT_TRUE(may_subscribe(p, "posts/7"));
    EXPECT_TRUE(reads(p, "posts", "7"));
    EXPECT_FALSE(may_subscribe(p, "posts/8"));
    EXPECT_FALSE(may_subscribe(p, "posts"));
    EXPECT_FALSE(may_subscribe(p, "*"));
    EXPECT_FALSE(may_subscribe(p, "posts/70"));
    EXPECT_FALSE(may_subscribe(p, "posts/7/comments"));  // ids may contain '/': a different record
    EXPECT_FALSE(may_subscribe(p, "other/7"));
    EXPECT_FALSE(reads(p, "posts", "8"));
    EXPECT_FALSE(reads(p, "posts", ""));  // a collection-wide notification is not the record's
    EXPECT_FALSE(reads(p, "other", "7"));
}

TEST(Permissions, NamesAreComparedExactly) {
    const auto p = permissions::from_entries({"posts", "users/Alice"});
    EXPECT_FALSE(may_subscribe(p, "post"));
    EXPECT_FALSE(may_subscribe(p, "posts2"));
    EXPECT_FALSE(may_subscribe(p, "Posts"));
    EXPECT_FALSE(may_subscribe(p, "users/alice"));
    EXPECT_FALSE(may_subscribe(p, "users/Alice "));
    EXPECT_TRUE(may_subscribe(p, "users/Alice"));
    EXPECT_FALSE(reads(p, "post", ""));
    EXPECT_FALSE(reads(p, "posts.", "1"));
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
    EXPECT_FALSE(reads(p, "posts", ""));
    EXPECT_FALSE(reads(p, "", ""));
    EXPECT_FALSE(reads(p, "bad name", "7"));
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

TEST(Permissions, LargeClaimGrantsExactlyItsEntries) {
    // A claim of tens of thousands of entries, checked entry by entry: each
    // check is a lookup, not a scan of the claim (a scan re-parsing every
    // entry made this billions of steps).
    constexpr int records = 40'000, collections = 4'000;
    std::vector<std::string> claim;
    for (int i = 0; i < records; ++i) claim.push_back("r" + std::to_string(i % 100) + "/" + std::to_string(i));
    for (int i = 0; i < collections; ++i) claim.push_back("c" + std::to_string(i));
    claim.push_back("bad name");          // invalid: grants nothing
    claim.push_back(claim.front());       // repeated: counts once
    const auto p = permissions::from_entries(claim);
    EXPECT_FALSE(p.everything());
    EXPECT_EQ(p.entries().size(), std::size_t{records + collections});
    for (int i = 0; i < records; ++i) {
        const std::string c = "r" + std::to_string(i % 100), id = std::to_string(i);
        ASSERT_TRUE(may_subscribe(p, c + "/" + id)) << i;
        ASSERT_TRUE(reads(p, c, id)) << i;
        // The same id in another collection, another id, the whole collection.
        ASSERT_FALSE(may_subscribe(p, "r" + std::to_string((i + 1) % 100) + "/" + id)) << i;
        ASSERT_FALSE(reads(p, c, std::to_string(i + records))) << i;
        ASSERT_FALSE(reads(p, c, "")) << i;
    }
    for (int i = 0; i < collections; ++i) {
        const std::string c = "c" + std::to_string(i);
        ASSERT_TRUE(may_subscribe(p, c)) << i;
        ASSERT_TRUE(may_subscribe(p, c + "/anything")) << i;
        ASSERT_TRUE(reads(p, c, "")) << i;
        ASSERT_FALSE(may_subscribe(p, c + "x")) << i;
    }
    EXPECT_FALSE(may_subscribe(p, "*"));
    EXPECT_FALSE(reads(p, "bad name", ""));
}

TEST(Permissions, RecordAndCollectionOfTheSameNameStayApart) {
    // "a/b" as a record of "a" must not grant a collection "a" nor be
    // confused with a record "a/b/c" or a collection named like the id.
    const auto p = permissions::from_entries({"a/b", "b"});
    EXPECT_TRUE(reads(p, "a", "b"));
    EXPECT_FALSE(reads(p, "a", ""));
    EXPECT_FALSE(reads(p, "a", "b/c"));
    EXPECT_FALSE(reads(p, "ab", ""));
    EXPECT_TRUE(reads(p, "b", "a"));
    EXPECT_FALSE(may_subscribe(p, "a"));
}

TEST(Permissions, CopiesAndMovesKeepTheirIndex) {
    // The index views the entries; short names live inside the string
    // objects, so a copy must index its own strings.
    std::optional<permissions> original = permissions::from_entries({"a", "b/1", "c"});
    const permissions copy = *original;
    permissions assigned = permissions::from_entries({"z"});
    assigned = *original;
    const permissions moved = std::move(*original);
    original.reset();
    for (const permissions* p : {&copy, static_cast<const permissions*>(&assigned), &moved}) {
        EXPECT_TRUE(reads(*p, "a", "9"));
        EXPECT_TRUE(reads(*p, "b", "1"));
        EXPECT_FALSE(reads(*p, "b", "2"));
        EXPECT_TRUE(reads(*p, "c", ""));
        EXPECT_FALSE(reads(*p, "z", ""));
    }
}

// A filtered grant allows its filter and narrower ones, nothing wider.
TEST(Permissions, FilteredGrantAllowsItsFilterAndNarrowerOnes) {
    const auto p = permissions::from_entries({"posts[forum_id=7]", "forums"});
    EXPECT_TRUE(may_subscribe(p, "posts[forum_id=7]"));
    EXPECT_TRUE(may_subscribe(p, "posts[forum_id=7.0]"));
    EXPECT_TRUE(may_subscribe(p, "posts[forum_id=7,pinned=true]"));
    EXPECT_TRUE(may_subscribe(p, "posts[author.id=3,forum_id=7]"));
    EXPECT_FALSE(may_subscribe(p, "posts"));
    EXPECT_FALSE(may_subscribe(p, "posts[forum_id=8]"));
    EXPECT_FALSE(may_subscribe(p, R"(posts[forum_id="7"])"));
    EXPECT_FALSE(may_subscribe(p, "posts[pinned=true]"));
    EXPECT_FALSE(may_subscribe(p, "posts/12"));
    EXPECT_FALSE(may_subscribe(p, "*"));
    // A collection grant covers every filter of it.
    EXPECT_TRUE(may_subscribe(p, "forums[owner=1]"));
    // The implicit subscription: the grants in canonical form.
    EXPECT_EQ(permissions::from_entries({"posts[forum_id=7.0]", "posts[forum_id=7]"}).entries(),
              std::vector<std::string>{"posts[forum_id=7]"});
}

TEST(Permissions, FilteredGrantReadsWhatItsFilterMatches) {
    const auto p = permissions::from_entries({"posts[forum_id=7]"});
    EXPECT_TRUE(reads(p, "posts", "1", R"({"data":{"forum_id":7}})"));
    EXPECT_FALSE(reads(p, "posts", "1", R"({"data":{"forum_id":8}})"));
    // Through old: a post leaving forum 7, or deleted from it.
    EXPECT_TRUE(reads(p, "posts", "1", R"({"data":{"forum_id":8},"old":{"forum_id":7}})"));
    EXPECT_TRUE(reads(p, "posts", "1", R"({"old":{"forum_id":7}})"));
    EXPECT_FALSE(reads(p, "posts", "1", R"({"old":{"forum_id":8}})"));
    // Without the field, the over-delivery rule: readable.
    EXPECT_TRUE(reads(p, "posts", "1", R"({"seq":2})"));
    EXPECT_FALSE(reads(p, "forums", "7", R"({"data":{"forum_id":7}})"));
}

TEST(Permissions, ManyFilteredGrantsAreLookedUpNotScanned) {
    std::vector<std::string> claim;
    for (int i = 0; i < 500; ++i) claim.push_back("posts[forum_id=" + std::to_string(i) + "]");
    claim.push_back("posts[author.id=\"ana\",pinned=true]");
    const auto p = permissions::from_entries(claim);
    EXPECT_TRUE(may_subscribe(p, "posts[forum_id=499]"));
    EXPECT_TRUE(may_subscribe(p, "posts[author.id=\"bo\",forum_id=7]"));  // the grant's condition is not the entry's first
    EXPECT_TRUE(may_subscribe(p, "posts[author.id=\"ana\",pinned=true,score=3]"));
    EXPECT_FALSE(may_subscribe(p, "posts[author.id=\"ana\"]"));
    EXPECT_FALSE(may_subscribe(p, "posts[forum_id=500]"));
    EXPECT_TRUE(reads(p, "posts", "1", R"({"data":{"forum_id":250}})"));
    EXPECT_FALSE(reads(p, "posts", "1", R"({"data":{"forum_id":500,"pinned":false}})"));
    EXPECT_TRUE(reads(p, "posts", "1", R"({"data":{"forum_id":500},"old":{"forum_id":3}})"));
    EXPECT_TRUE(reads(p, "posts", "1", R"({"data":{"forum_id":500,"author":{"id":"ana"},"pinned":true}})"));
    const auto copy = p;  // the copy indexes its own grants
    EXPECT_TRUE(reads(copy, "posts", "1", R"({"data":{"forum_id":250}})"));
    EXPECT_TRUE(may_subscribe(copy, "posts[forum_id=42]"));
}

}  // namespace
