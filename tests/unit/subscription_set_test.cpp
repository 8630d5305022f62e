// SPDX-License-Identifier: MIT
// A connection's subscriptions and permissions, and the index changes each
// update reports.

#include "core/subscription_set.hpp"

#include "core/notification_rows.hpp"

#include <notifier/notification.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace {

using notifier::core::permissions;
using notifier::core::subscription_set;
using notifier::core::topic;
using strings = std::vector<std::string>;

// What the callbacks reported, as "collection" or "collection/id".
struct recorder {
    strings left, joined;
    subscription_set::topic_fn on_left() {
        return [this](const topic& t) { left.push_back(name(t)); };
    }
    subscription_set::topic_fn on_joined() {
        return [this](const topic& t) { joined.push_back(name(t)); };
    }
    static std::string name(const topic& t) {
        return t.id.empty() ? std::string(t.collection) : std::string(t.collection) + "/" + std::string(t.id);
    }
};

bool matches(const subscription_set& s, const notifier::publication& p) {
    notifier::core::lazy_rows rows(p.json());
    return s.matches(p, rows);
}

bool readable(const subscription_set& s, const notifier::publication& p) {
    notifier::core::lazy_rows rows(p.json());
    return s.readable(p, rows);
}

notifier::publication pub(std::string collection, std::string id = {}) {
    return {.seq = 1, .collection = std::move(collection), .id = std::move(id)};
}

subscription_set make(strings names, bool implicit_all = false, permissions perms = permissions::all(),
                      std::size_t max = 1024) {
    return subscription_set(std::move(names), implicit_all, std::move(perms), max);
}

TEST(SubscriptionSet, SortsAndDeduplicates) {
    const auto s = make({"b", "a/1", "b", "*", "a"});
    EXPECT_EQ(s.names(), (strings{"*", "a", "a/1", "b"}));
    EXPECT_FALSE(s.implicit_all());
}

TEST(SubscriptionSet, DropsInvalidEntries) {
    EXPECT_EQ(make({"ok", "", "bad!", "x/"}).names(), (strings{"ok"}));
}

TEST(SubscriptionSet, Matches) {
    const auto s = make({"forums", "posts/7"});
    EXPECT_TRUE(matches(s, pub("forums")));
    EXPECT_TRUE(matches(s, pub("forums", "3")));
    EXPECT_TRUE(matches(s, pub("posts", "7")));
    EXPECT_FALSE(matches(s, pub("posts", "8")));
    EXPECT_FALSE(matches(s, pub("posts")));
    EXPECT_FALSE(matches(s, pub("users", "7")));
    EXPECT_TRUE(matches(make({"*"}), pub("anything", "1")));
    EXPECT_FALSE(matches(make({}), pub("forums")));
}

TEST(SubscriptionSet, MatchesAfterManyChanges) {
    // The parsed form follows every change (it views the names).
    auto s = make({"a"});
    recorder r;
    strings many;
    for (int i = 0; i < 200; ++i) many.push_back("c" + std::to_string(i));
    ASSERT_FALSE(s.subscribe(many, r.on_left(), r.on_joined()));
    s.unsubscribe({"c5", "a"}, r.on_left());
    EXPECT_FALSE(matches(s, pub("a")));
    EXPECT_FALSE(matches(s, pub("c5")));
    EXPECT_TRUE(matches(s, pub("c199", "x")));
    EXPECT_TRUE(matches(s, pub("c0")));
    auto moved = std::move(s);
    EXPECT_TRUE(matches(moved, pub("c42")));
}

TEST(SubscriptionSet, Readable) {
    const auto all = make({"*"});
    EXPECT_TRUE(readable(all, pub("x", "1")));
    const auto some = make({"forums"}, false, permissions::from_entries({"forums", "posts/7"}));
    EXPECT_TRUE(readable(some, pub("forums", "1")));
    EXPECT_TRUE(readable(some, pub("posts", "7")));
    EXPECT_FALSE(readable(some, pub("posts", "8")));
    EXPECT_FALSE(readable(some, pub("posts")));
}

TEST(SubscriptionSet, WantsIsMatchAndRead) {
    const auto s = make({"posts"}, false, permissions::from_entries({"posts/7"}));
    EXPECT_TRUE(s.wants(pub("posts", "7")));
    EXPECT_FALSE(s.wants(pub("posts", "8")));   // matched, not readable
    EXPECT_FALSE(s.wants(pub("forums", "7")));  // neither
}

TEST(SubscriptionSet, SubscribeAddsAndReportsOnlyNewTopics) {
    auto s = make({"a", "b/1"});
    recorder r;
    EXPECT_FALSE(s.subscribe({"c", "a", "b/2", "c"}, r.on_left(), r.on_joined()));
    EXPECT_EQ(s.names(), (strings{"a", "b/1", "b/2", "c"}));
    EXPECT_TRUE(r.left.empty());
    EXPECT_EQ(r.joined, (strings{"b/2", "c"}));
}

TEST(SubscriptionSet, SubscribeToNothingChangesNothing) {
    auto s = make({"a"});
    recorder r;
    EXPECT_FALSE(s.subscribe({}, r.on_left(), r.on_joined()));
    EXPECT_EQ(s.names(), (strings{"a"}));
    EXPECT_TRUE(r.left.empty() && r.joined.empty());
}

TEST(SubscriptionSet, FirstSubscribeReplacesTheImplicitSet) {
    auto s = make({"*"}, true);
    EXPECT_TRUE(s.implicit_all());
    recorder r;
    EXPECT_FALSE(s.subscribe({"posts"}, r.on_left(), r.on_joined()));
    EXPECT_EQ(s.names(), (strings{"posts"}));
    EXPECT_FALSE(s.implicit_all());
    EXPECT_EQ(r.left, (strings{"*"}));
    EXPECT_EQ(r.joined, (strings{"posts"}));
    // From then on, subscriptions add up.
    EXPECT_FALSE(s.subscribe({"forums"}, r.on_left(), r.on_joined()));
    EXPECT_EQ(s.names(), (strings{"forums", "posts"}));
}

TEST(SubscriptionSet, ImplicitSetOfATokenIsReplacedToo) {
    auto perms = permissions::from_entries({"a", "b"});
    auto s = make(perms.entries(), true, perms);
    recorder r;
    EXPECT_FALSE(s.subscribe({"b", "a/1"}, r.on_left(), r.on_joined()));
    EXPECT_EQ(s.names(), (strings{"a/1", "b"}));
    EXPECT_EQ(r.left, (strings{"a"}));
    EXPECT_EQ(r.joined, (strings{"a/1"}));
}

TEST(SubscriptionSet, ForbiddenIsAllOrNothing) {
    auto s = make({"a"}, false, permissions::from_entries({"a", "b"}));
    recorder r;
    const auto e = s.subscribe({"b", "c/1", "d"}, r.on_left(), r.on_joined());
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, "forbidden");
    EXPECT_EQ(e->message, "not allowed to read \"c/1\"");  // the first refused
    EXPECT_EQ(s.names(), (strings{"a"}));
    EXPECT_TRUE(r.left.empty() && r.joined.empty());
}

TEST(SubscriptionSet, StarIsForbiddenWithoutEverything) {
    auto s = make({}, false, permissions::from_entries({"a"}));
    recorder r;
    const auto e = s.subscribe({"*"}, r.on_left(), r.on_joined());
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, "forbidden");
    EXPECT_EQ(e->message, "not allowed to read \"*\"");
}

TEST(SubscriptionSet, ForbiddenComesBeforeTheLimit) {
    auto s = make({}, false, permissions::from_entries({"a"}), 1);
    recorder r;
    EXPECT_EQ(s.subscribe({"a/1", "a/2", "b"}, r.on_left(), r.on_joined())->code, "forbidden");
}

TEST(SubscriptionSet, TooManySubscriptions) {
    auto s = make({"a", "b"}, false, permissions::all(), 3);
    recorder r;
    const auto e = s.subscribe({"c", "d"}, r.on_left(), r.on_joined());
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, "too_many_subscriptions");
    EXPECT_EQ(e->message, "at most 3 subscriptions per connection");
    EXPECT_EQ(s.names(), (strings{"a", "b"}));
    EXPECT_TRUE(r.left.empty() && r.joined.empty());
    // Duplicates and entries already held do not count twice.
    EXPECT_FALSE(s.subscribe({"a", "c", "c"}, r.on_left(), r.on_joined()));
    EXPECT_EQ(s.names().size(), 3u);
}

TEST(SubscriptionSet, LimitOnAnImplicitSetCountsOnlyTheNewEntries) {
    auto s = make({"a", "b", "c"}, true, permissions::all(), 2);
    recorder r;
    EXPECT_FALSE(s.subscribe({"x", "y"}, r.on_left(), r.on_joined()));
    EXPECT_EQ(s.names(), (strings{"x", "y"}));
}

TEST(SubscriptionSet, LargeSubscribe) {
    auto s = make({});
    recorder r;
    strings many;
    for (int i = 1000; i > 0; --i) many.push_back("c" + std::to_string(i));
    const strings once = many;
    many.insert(many.end(), once.begin(), once.end());  // each twice
    EXPECT_FALSE(s.subscribe(many, r.on_left(), r.on_joined()));
    EXPECT_EQ(s.names().size(), 1000u);
    EXPECT_EQ(r.joined.size(), 1000u);
    EXPECT_TRUE(std::is_sorted(s.names().begin(), s.names().end()));
}

TEST(SubscriptionSet, Unsubscribe) {
    auto s = make({"a", "b", "c/1"});
    recorder r;
    s.unsubscribe({"c/1", "zzz", "a", "a"}, r.on_left());
    EXPECT_EQ(s.names(), (strings{"b"}));
    EXPECT_EQ(r.left, (strings{"c/1", "a"}));  // in the order asked, once each
}

TEST(SubscriptionSet, UnsubscribeACollectionKeepsItsRecords) {
    auto s = make({"a", "a/1"});
    recorder r;
    s.unsubscribe({"a"}, r.on_left());
    EXPECT_EQ(s.names(), (strings{"a/1"}));
    EXPECT_TRUE(matches(s, pub("a", "1")));
    EXPECT_FALSE(matches(s, pub("a", "2")));
}

TEST(SubscriptionSet, UnsubscribeStarEndsImplicitAll) {
    auto s = make({"*"}, true);
    recorder r;
    s.unsubscribe({"*"}, r.on_left());
    EXPECT_TRUE(s.names().empty());
    EXPECT_FALSE(s.implicit_all());
    EXPECT_EQ(r.left, (strings{"*"}));
}

TEST(SubscriptionSet, UnsubscribeOtherEntriesKeepsImplicitAll) {
    auto perms = permissions::from_entries({"a", "b"});
    auto s = make(perms.entries(), true, perms);
    recorder r;
    s.unsubscribe({"a"}, r.on_left());
    EXPECT_EQ(s.names(), (strings{"b"}));
    EXPECT_TRUE(s.implicit_all());
    // Not subscribed to "*": nothing to remove, implicit_all stays.
    s.unsubscribe({"*"}, r.on_left());
    EXPECT_TRUE(s.implicit_all());
}

TEST(SubscriptionSet, RestrictDropsWhatTheTokenNoLongerAllows) {
    auto s = make({"a", "a/1", "b", "c/2"}, false, permissions::from_entries({"a", "b", "c"}));
    recorder r;
    EXPECT_TRUE(s.restrict_to(permissions::from_entries({"a/1", "c"}), r.on_left()));
    EXPECT_EQ(s.names(), (strings{"a/1", "c/2"}));
    EXPECT_EQ(r.left, (strings{"a", "b"}));
    EXPECT_FALSE(readable(s, pub("a", "2")));
    EXPECT_TRUE(readable(s, pub("c", "9")));
    EXPECT_TRUE(matches(s, pub("c", "2")));
    EXPECT_FALSE(matches(s, pub("a", "2")));
}

TEST(SubscriptionSet, RestrictKeepingEverythingIsNoChange) {
    auto s = make({"a", "b/1"}, false, permissions::from_entries({"a"}));
    recorder r;
    EXPECT_FALSE(s.restrict_to(permissions::from_entries({"a", "b"}), r.on_left()));
    EXPECT_EQ(s.names(), (strings{"a", "b/1"}));
    EXPECT_TRUE(r.left.empty());
    notifier::core::lazy_rows rows("{}");
    EXPECT_TRUE(s.perms().allows_notification("b", "2", rows));  // the new token counts
}

TEST(SubscriptionSet, RestrictDropsStarButKeepsImplicitAll) {
    // The implicit "*" of a server without tokens leaves with a narrower
    // token; the next subscribe still replaces rather than adds.
    auto s = make({"*"}, true);
    recorder r;
    EXPECT_TRUE(s.restrict_to(permissions::from_entries({"a"}), r.on_left()));
    EXPECT_TRUE(s.names().empty());
    EXPECT_TRUE(s.implicit_all());
    EXPECT_EQ(r.left, (strings{"*"}));
    EXPECT_FALSE(matches(s, pub("a")));
}

TEST(SubscriptionSet, ShortStringsSurviveChanges) {
    // Short names live inside the string objects (small-string storage):
    // the parsed form must be rebuilt when they move.
    auto s = make({"x", "y", "z"});
    recorder r;
    s.unsubscribe({"x"}, r.on_left());
    EXPECT_TRUE(matches(s, pub("y")));
    EXPECT_TRUE(matches(s, pub("z")));
    EXPECT_FALSE(matches(s, pub("x")));
    ASSERT_TRUE(s.restrict_to(permissions::from_entries({"z"}), r.on_left()));
    EXPECT_TRUE(matches(s, pub("z")));
    EXPECT_FALSE(matches(s, pub("y")));
}

TEST(SubscriptionSet, LargeFrameAgainstALargeClaim) {
    // 64 KiB subscribe frames against a claim of thousands of entries: each
    // distinct entry is checked once, by lookup. Semantics first: every
    // entry within the claim is taken, repeated ones once, and a frame with
    // one entry outside it is refused whole, naming that entry.
    strings claim;
    for (int i = 0; i < 5'000; ++i) claim.push_back("posts/" + std::to_string(i));
    for (int i = 0; i < 500; ++i) claim.push_back("c" + std::to_string(i));
    auto s = make({}, false, permissions::from_entries(claim), 100'000);
    recorder r;
    strings frame;
    for (int round = 0; round < 4; ++round)  // each entry four times
        for (int i = 0; i < 5'000; ++i)
            frame.push_back(i % 2 ? "posts/" + std::to_string(i)
                                  : "c" + std::to_string(i % 500) + "/" + std::to_string(i));
    ASSERT_FALSE(s.subscribe(frame, r.on_left(), r.on_joined()));
    EXPECT_EQ(s.names().size(), 5'000u);
    EXPECT_EQ(r.joined.size(), 5'000u);  // each once
    EXPECT_TRUE(std::is_sorted(r.joined.begin(), r.joined.end()));

    frame.push_back("posts/5000");  // just outside the claim
    frame.push_back("forbidden");
    const auto e = s.subscribe(frame, r.on_left(), r.on_joined());
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, "forbidden");
    EXPECT_EQ(e->message, "not allowed to read \"posts/5000\"");
    EXPECT_EQ(s.names().size(), 5'000u);
    EXPECT_EQ(r.joined.size(), 5'000u);
    EXPECT_TRUE(r.left.empty());
}

TEST(SubscriptionSet, ReportsLeftBeforeJoinedEachOnce) {
    auto s = make({"a", "b", "c"}, true);
    strings events;
    const auto e = s.subscribe(
        {"d", "b", "a/1", "d"}, [&](const topic& t) { events.push_back("-" + recorder::name(t)); },
        [&](const topic& t) { events.push_back("+" + recorder::name(t)); });
    ASSERT_FALSE(e);
    EXPECT_EQ(events, (strings{"-a", "-c", "+a/1", "+d"}));
    EXPECT_EQ(s.names(), (strings{"a/1", "b", "d"}));
}

TEST(SubscriptionSet, TopicsAreTheNamesParsed) {
    auto s = make({"b/2", "a", "*"});
    recorder r;
    const auto check = [&] {
        ASSERT_EQ(s.topics().size(), s.names().size());
        for (std::size_t i = 0; i < s.names().size(); ++i) EXPECT_EQ(recorder::name(s.topics()[i]), s.names()[i]);
    };
    check();
    ASSERT_FALSE(s.subscribe({"c/x/y", "a/1"}, r.on_left(), r.on_joined()));
    check();
    s.unsubscribe({"*", "b/2"}, r.on_left());
    check();
    EXPECT_EQ(s.topics()[0].collection, "a");
    EXPECT_TRUE(s.topics()[0].id.empty());
    EXPECT_EQ(s.topics()[2].id, "x/y");
}

TEST(SubscriptionSet, UnsubscribeManyAtOnce) {
    strings names, half;
    for (int i = 0; i < 2'000; ++i) names.push_back("n" + std::to_string(i));
    for (int i = 0; i < 2'000; i += 2) half.push_back(names[i]);
    auto s = make(names, false, permissions::all(), 10'000);
    recorder r;
    strings ask = half;
    ask.insert(ask.end(), half.begin(), half.end());  // twice
    ask.push_back("unknown");
    s.unsubscribe(ask, r.on_left());
    EXPECT_EQ(r.left, half);  // in the order asked, once each
    EXPECT_EQ(s.names().size(), 1'000u);
    EXPECT_FALSE(matches(s, pub("n0")));
    EXPECT_TRUE(matches(s, pub("n1")));
    EXPECT_TRUE(matches(s, pub("n1999")));
}

}  // namespace
