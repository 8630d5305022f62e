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

// A notification of (collection, id) carrying the rows of json.
struct note {
    const char* collection;
    const char* id;
    const char* json = R"({"seq":1})";
};

// A claim and what it must allow and refuse; an empty list checks nothing.
struct grant_case {
    const char* name;
    std::vector<std::string> claim;
    bool all = false;  // permissions::all() instead of the claim
    std::optional<bool> everything = {};
    std::optional<std::vector<std::string>> entries = {};
    std::vector<const char*> may = {}, may_not = {};
    std::vector<note> reads = {}, reads_not = {};
};

class PermissionsGrant : public ::testing::TestWithParam<grant_case> {};

TEST_P(PermissionsGrant, AllowsExactlyWhatItShould) {
    const auto& c = GetParam();
    const auto p = c.all ? permissions::all() : permissions::from_entries(c.claim);
    if (c.everything) EXPECT_EQ(p.everything(), *c.everything);
    if (c.entries) EXPECT_EQ(p.entries(), *c.entries);
    for (const char* e : c.may) EXPECT_TRUE(may_subscribe(p, e)) << e;
    for (const char* e : c.may_not) EXPECT_FALSE(may_subscribe(p, e)) << e;
    for (const auto& n : c.reads) EXPECT_TRUE(reads(p, n.collection, n.id, n.json)) << n.collection << "/" << n.id;
    for (const auto& n : c.reads_not) EXPECT_FALSE(reads(p, n.collection, n.id, n.json)) << n.collection << "/" << n.id;
}

INSTANTIATE_TEST_SUITE_P(
    Permissions, PermissionsGrant,
    ::testing::Values(
        grant_case{.name = "AllGrantsEverything", .all = true, .everything = true,
                   .may = {"*", "posts", "posts/8"}, .reads = {{"anything", ""}, {"anything", "1"}}},
        grant_case{.name = "NoEntriesGrantNothing", .everything = false, .entries = std::vector<std::string>{},
                   .may_not = {"*", "posts", "posts/7"}, .reads_not = {{"posts", ""}, {"posts", "7"}}},
        grant_case{.name = "StarGrantsEverything", .claim = {"*"}, .everything = true, .may = {"*", "posts/8"},
                   .reads = {{"x", "y"}}},
        grant_case{.name = "CollectionGrantsItselfAndEveryRecord", .claim = {"forums"}, .everything = false,
                   .may = {"forums", "forums/1", "forums/a/b"}, .may_not = {"*", "posts"},
                   .reads = {{"forums", ""}, {"forums", "99"}}, .reads_not = {{"posts", "1"}}},
        // Ids may contain '/': "posts/7/comments" is a different record; a
        // collection-wide notification is not the record's.
        grant_case{.name = "RecordGrantsOnlyThatRecord", .claim = {"posts/7"}, .may = {"posts/7"},
                   .may_not = {"posts/8", "posts", "*", "posts/70", "posts/7/comments", "other/7"},
                   .reads = {{"posts", "7"}}, .reads_not = {{"posts", "8"}, {"posts", ""}, {"other", "7"}}},
        grant_case{.name = "NamesAreComparedExactly", .claim = {"posts", "users/Alice"}, .may = {"users/Alice"},
                   .may_not = {"post", "posts2", "Posts", "users/alice", "users/Alice "},
                   .reads_not = {{"post", ""}, {"posts.", "1"}}},
        grant_case{.name = "SeveralEntriesAddUp", .claim = {"posts/7", "posts/9", "forums"},
                   .may = {"posts/7", "posts/9", "forums/3"}, .may_not = {"posts/8", "posts"}},
        // A record entry next to its collection is harmless.
        grant_case{.name = "RecordNextToItsCollection", .claim = {"posts/7", "posts"}, .may = {"posts/8"}},
        grant_case{.name = "InvalidEntriesGrantNothing",
                   .claim = {"", "posts/", "/7", "bad name", "bad name/7", "a*", "**", "p\xff", std::string(129, 'c'),
                             "ok/" + std::string(257, 'i')},
                   .everything = false, .entries = std::vector<std::string>{}, .may_not = {"posts", "ok"},
                   .reads_not = {{"posts", ""}, {"", ""}, {"bad name", "7"}}},
        grant_case{.name = "InvalidEntriesDoNotSpoilValidOnes", .claim = {"bad name", "forums", ""},
                   .entries = std::vector<std::string>{"forums"}, .may = {"forums"}},
        grant_case{.name = "EntriesAreSortedAndUnique", .claim = {"posts/7", "forums", "posts/7", "alpha", "forums"},
                   .entries = std::vector<std::string>{"alpha", "forums", "posts/7"}},
        grant_case{.name = "StarAmongOthersIsEverything", .claim = {"posts/7", "*"}, .everything = true,
                   .may = {"anything/else"}},
        // "a/b" as a record of "a" must not grant a collection "a" nor be
        // confused with a record "a/b/c" or a collection named like the id.
        grant_case{.name = "RecordAndCollectionOfTheSameNameStayApart", .claim = {"a/b", "b"}, .may_not = {"a"},
                   .reads = {{"a", "b"}, {"b", "a"}}, .reads_not = {{"a", ""}, {"a", "b/c"}, {"ab", ""}}},
        // A filtered grant allows its filter and narrower ones, nothing
        // wider; a collection grant covers every filter of it.
        grant_case{.name = "FilteredGrantAllowsItsFilterAndNarrowerOnes", .claim = {"posts[forum_id=7]", "forums"},
                   .may = {"posts[forum_id=7]", "posts[forum_id=7.0]", "posts[forum_id=7,pinned=true]",
                           "posts[author.id=3,forum_id=7]", "forums[owner=1]"},
                   .may_not = {"posts", "posts[forum_id=8]", R"(posts[forum_id="7"])", "posts[pinned=true]",
                               "posts/12", "*"}},
        // The implicit subscription: the grants in canonical form.
        grant_case{.name = "FilteredGrantsInCanonicalForm", .claim = {"posts[forum_id=7.0]", "posts[forum_id=7]"},
                   .entries = std::vector<std::string>{"posts[forum_id=7]"}},
        // Through old: a post leaving forum 7, or deleted from it. Without
        // the field, the over-delivery rule: readable.
        grant_case{.name = "FilteredGrantReadsWhatItsFilterMatches", .claim = {"posts[forum_id=7]"},
                   .reads = {{"posts", "1", R"({"data":{"forum_id":7}})"},
                             {"posts", "1", R"({"data":{"forum_id":8},"old":{"forum_id":7}})"},
                             {"posts", "1", R"({"old":{"forum_id":7}})"},
                             {"posts", "1", R"({"seq":2})"}},
                   .reads_not = {{"posts", "1", R"({"data":{"forum_id":8}})"},
                                 {"posts", "1", R"({"old":{"forum_id":8}})"},
                                 {"forums", "7", R"({"data":{"forum_id":7}})"}}}),
    [](const ::testing::TestParamInfo<grant_case>& info) { return std::string(info.param.name); });

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
