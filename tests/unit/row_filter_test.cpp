// SPDX-License-Identifier: MIT
// Filtered subscriptions: grammar, canonical form, JSON equality and the
// over-delivery rule on data and old.

#include "core/row_filter.hpp"

#include "core/notification_rows.hpp"
#include "core/topic.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using notifier::core::notification_rows;
using notifier::core::parse_entry;
using notifier::core::row_filter;
using notifier::core::topic;

row_filter ok(std::string_view text) {
    auto r = row_filter::parse(text);
    if (auto* err = std::get_if<std::string>(&r)) ADD_FAILURE() << text << ": " << *err;
    return std::get<row_filter>(std::move(r));
}

std::string refused(std::string_view text) {
    auto r = row_filter::parse(text);
    if (std::holds_alternative<row_filter>(r)) {
        ADD_FAILURE() << text << " was accepted as " << std::get<row_filter>(r).canonical();
        return {};
    }
    return std::get<std::string>(r);
}

bool on(const row_filter& f, std::string_view data) {
    return f.matches(notification_rows::parse(R"({"seq":1,"data":)" + std::string(data) + "}"));
}

// A notification with `data` and `old` given as JSON text (empty: absent).
bool on(const row_filter& f, std::string_view data, std::string_view old) {
    std::string n = R"({"seq":1)";
    if (!data.empty()) n += R"(,"data":)" + std::string(data);
    if (!old.empty()) n += R"(,"old":)" + std::string(old);
    return f.matches(notification_rows::parse(n + "}"));
}

TEST(RowFilter, CanonicalFormSortsAndSpellsValuesOneWay) {
    EXPECT_EQ(ok("forum_id=7").canonical(), "forum_id=7");
    EXPECT_EQ(ok("pinned=true,forum_id=7.0").canonical(), "forum_id=7,pinned=true");
    EXPECT_EQ(ok("a=1e2,b=-2.50,c=null,d=false").canonical(), "a=100,b=-2.5,c=null,d=false");
    EXPECT_EQ(ok(R"(s="\u0061\"b")").canonical(), R"(s="a\"b")");
    EXPECT_EQ(ok("author.id=3").canonical(), "author.id=3");
    EXPECT_EQ(ok("z=1,a.b.c.d=2").canonical(), "a.b.c.d=2,z=1");
    EXPECT_EQ(ok(R"(t="a,b]=c")").canonical(), R"(t="a,b]=c")");
    EXPECT_EQ(ok("n=18446744073709551615").canonical(), "n=18446744073709551615");
    EXPECT_EQ(ok("x=-0").canonical(), "x=0");
    // Other numbers as ECMAScript writes them (JSON.stringify in a browser).
    EXPECT_EQ(ok("x=1.5e-7").canonical(), "x=1.5e-7");
    EXPECT_EQ(ok("x=0.000001").canonical(), "x=0.000001");
    EXPECT_EQ(ok("x=1e21").canonical(), "x=1e+21");
    EXPECT_EQ(ok("x=1e20").canonical(), "x=100000000000000000000");
    EXPECT_EQ(ok("x=-2.5E-10").canonical(), "x=-2.5e-10");
    EXPECT_EQ(ok("x=1.25e300").canonical(), "x=1.25e+300");
    EXPECT_EQ(ok("x=123.456").canonical(), "x=123.456");
    // Integral values up to 2^64, however written, as exact digits.
    EXPECT_EQ(ok("x=9.223372036854775808e18").canonical(), "x=9223372036854775808");
    EXPECT_EQ(ok("x=-9.223372036854775808e18").canonical(), "x=-9223372036854775808");
    // Long and extreme numbers: the canonical form is its own canonical form.
    for (const char* n : {"135066666666666666666666666666666666666666666666666666666666666666666666666660",
                          "0.1000000000000000055511151231257827021181583404541015625", "4.9e-324", "1.7976931348623157e308",
                          "123456789.987654321e-30"}) {
        SCOPED_TRACE(n);
        const auto once = ok(std::string("x=") + n).canonical();
        EXPECT_EQ(ok(once).canonical(), once);
    }
}

TEST(RowFilter, InvalidFiltersAreRefusedWithAReason) {
    for (const char* bad : {"", "=7", "a", "a=", "a=,b=1", "a=1,", "a==1", "a= 1", "a=1 ", "a=7\n", "a=\r\"x\"", "a=[1]", "a={}",
                            "a=\"x", "a='x'", "a=nope", "a=1e999", "a=1e-400", "a.b.c.d.e=1", "a..b=1", ".a=1", "a.=1",
                            "a b=1", "a=1,a=2", "a=\"x\"y"}) {
        SCOPED_TRACE(bad);
        EXPECT_FALSE(refused(bad).empty());
    }
    EXPECT_NE(refused(std::string(65, 'f') + "=1").find("[A-Za-z0-9_-]{1,64}"), std::string::npos);
    EXPECT_NE(refused("a=1,a=2").find("twice"), std::string::npos);
    std::string many;
    for (int i = 0; i < 17; ++i) many += (i ? ",f" : "f") + std::to_string(i) + "=1";
    EXPECT_NE(refused(many).find("at most 16"), std::string::npos);
}

TEST(RowFilter, EqualityIsJsonEquality) {
    const auto f = ok("n=7");
    EXPECT_TRUE(on(f, R"({"n":7})"));
    EXPECT_TRUE(on(f, R"({"n":7.0})"));
    EXPECT_TRUE(on(f, R"({"n":70e-1})"));
    EXPECT_FALSE(on(f, R"({"n":"7"})"));  // no coercion
    EXPECT_FALSE(on(f, R"({"n":7.5})"));
    EXPECT_FALSE(on(f, R"({"n":true})"));
    EXPECT_TRUE(on(ok(R"(s="7")"), R"({"s":"7"})"));
    EXPECT_FALSE(on(ok(R"(s="7")"), R"({"s":7})"));
    EXPECT_TRUE(on(ok("b=false"), R"({"b":false})"));
    EXPECT_FALSE(on(ok("b=false"), R"({"b":null})"));
    EXPECT_TRUE(on(ok("z=null"), R"({"z":null})"));
    // Exact beyond a double's 53 bits.
    EXPECT_TRUE(on(ok("n=9007199254740993"), R"({"n":9007199254740993})"));
    EXPECT_FALSE(on(ok("n=9007199254740993"), R"({"n":9007199254740992})"));
    EXPECT_TRUE(on(ok("n=18446744073709551615"), R"({"n":18446744073709551615})"));
}

TEST(RowFilter, AllConditionsMustHold) {
    const auto f = ok("forum_id=7,pinned=true");
    EXPECT_TRUE(on(f, R"({"forum_id":7,"pinned":true,"title":"x"})"));
    EXPECT_FALSE(on(f, R"({"forum_id":7,"pinned":false})"));
    EXPECT_FALSE(on(f, R"({"forum_id":8,"pinned":true})"));
}

TEST(RowFilter, NestedPaths) {
    const auto f = ok("author.id=3");
    EXPECT_TRUE(on(f, R"({"author":{"id":3}})"));
    EXPECT_FALSE(on(f, R"({"author":{"id":4}})"));
    EXPECT_FALSE(on(f, R"({"author.id":3,"author":{"id":4}})"));  // a path, not a dotted key
    const auto deep = ok("a.b.c.d=\"x\"");
    EXPECT_TRUE(on(deep, R"({"a":{"b":{"c":{"d":"x"}}}})"));
    EXPECT_FALSE(on(deep, R"({"a":{"b":{"c":{"d":"y"}}}})"));
}

TEST(RowFilter, AnUnknownFieldHoldsSoNothingIsMissed) {
    const auto f = ok("forum_id=7,author.id=3");
    EXPECT_TRUE(on(f, R"({"title":"no forum_id at all"})"));
    EXPECT_TRUE(on(f, R"({"forum_id":7})"));  // author absent
    EXPECT_TRUE(on(f, R"({"forum_id":7,"author":"not an object"})"));
    EXPECT_FALSE(on(f, R"({"forum_id":8})"));  // what is known is false
    EXPECT_TRUE(on(f, R"([1,2,3])"));          // not an object: nothing is known
    EXPECT_TRUE(on(f, R"("text")"));
}

TEST(RowFilter, DataOrOldTheOverDeliveryRule) {
    const auto f = ok("forum_id=7");
    const std::string moved_out = R"({"id":1,"forum_id":8})";
    const std::string was_in = R"({"id":1,"forum_id":7})";
    const std::string elsewhere = R"({"id":1,"forum_id":9})";
    // A post moved from forum 7 to forum 8 reaches forum 7's subscribers...
    EXPECT_TRUE(on(f, moved_out, was_in));
    // ...and forum 8's.
    EXPECT_TRUE(on(ok("forum_id=8"), moved_out, was_in));
    // Not forum 9's.
    EXPECT_FALSE(on(ok("forum_id=9"), moved_out, was_in));
    // A delete carries old only.
    EXPECT_TRUE(on(f, "", was_in));
    EXPECT_FALSE(on(f, "", elsewhere));
    // Neither data nor old: every filter of the collection matches.
    EXPECT_TRUE(on(f, "", ""));
    // An update that moves the row out, published without old: the old side
    // cannot be seen (documented: the publisher must send old).
    EXPECT_FALSE(on(f, moved_out, ""));
}

TEST(RowFilter, RowsAreReadLikeFilterValues) {
    // Long numbers read exactly on both sides, whatever their spelling.
    EXPECT_TRUE(on(ok("x=0.1000000000000000055511151231257827021181583404541015625"), R"({"x":0.1})"));
    EXPECT_TRUE(on(ok("x=123456789.987654321e-30"), R"({"x":1.23456789987654321e-22})"));
    EXPECT_TRUE(on(ok("x=1e19"), R"({"x":10000000000000000000})"));
    EXPECT_TRUE(on(ok("x=9.223372036854775808e18"), R"({"x":9223372036854775808})"));
    EXPECT_FALSE(on(ok("x=18446744073709551615"), R"({"x":1.8446744073709551615e19})"));
    // Escapes decoded on both sides.
    EXPECT_TRUE(on(ok(R"(s="a\u0022b")"), R"({"s":"a\"b"})"));
    EXPECT_TRUE(on(ok(R"(s="\u00e9")"), "{\"s\":\"\xC3\xA9\"}"));
    // Beyond a double's range: equal to nothing.
    EXPECT_FALSE(on(ok("a=0"), R"({"a":1e-400})"));
    EXPECT_EQ(*notification_rows::parse(R"({"data":{"a":1e400}})").data.find("a"), notifier::core::opaque_value);
    // An array or an object equals no scalar.
    EXPECT_FALSE(on(ok("a=1"), R"({"a":[1]})"));
    EXPECT_FALSE(on(ok("a=1"), R"({"a":{"b":1}})"));
    EXPECT_FALSE(on(ok("a.b.c.d=1"), R"({"a":{"b":{"c":{"d":{"e":1}}}}})"));
    // A name given twice: the last counts, as in JSON.parse.
    EXPECT_TRUE(on(ok("a=2"), R"({"a":1,"a":2})"));
    EXPECT_FALSE(on(ok("a=1"), R"({"a":1,"a":2})"));
    EXPECT_FALSE(on(ok("a.b=1"), R"({"a":{"b":1},"a":{"b":2}})"));
    EXPECT_TRUE(on(ok("a.b=1"), R"({"a":{"b":1},"a":"x"})"));  // not reachable: holds
    EXPECT_FALSE(on(ok("a=\"x\""), R"({"a":"x","a":{"b":1}})"));
    // Members a filter cannot name are skipped with what they hold.
    EXPECT_TRUE(on(ok("a.b=1"), R"({"a.b":2,"x y":{"a":{"b":2}},"a":{"b":1}})"));
    // Deep nesting beyond the paths is looked over, not into.
    std::string deep = "1";
    for (int i = 0; i < 60; ++i) deep = R"({"k":)" + deep + "}";
    EXPECT_TRUE(on(ok("k.k.k.z=1"), deep));
    EXPECT_FALSE(on(ok("k.k.k.k=1"), deep));
}

TEST(RowFilter, NotificationRowsSidesAndFields) {
    const auto r = notification_rows::parse(
        R"({"seq":3,"collection":"posts","data":{"n":7.50,"s":"x","t":true,"z":null,"o":{"p":[1,{"q":2}]}},"old":[1]})");
    EXPECT_TRUE(r.data.present);
    EXPECT_TRUE(r.data.object);
    EXPECT_TRUE(r.old.present);
    EXPECT_FALSE(r.old.object);
    ASSERT_TRUE(r.data.find("n"));
    EXPECT_EQ(*r.data.find("n"), "7.5");
    EXPECT_EQ(*r.data.find("s"), "\"x\"");
    EXPECT_EQ(*r.data.find("t"), "true");
    EXPECT_EQ(*r.data.find("z"), "null");
    EXPECT_EQ(*r.data.find("o"), notifier::core::opaque_value);
    EXPECT_EQ(*r.data.find("o.p"), notifier::core::opaque_value);
    EXPECT_FALSE(r.data.find("o.p.q"));
    EXPECT_FALSE(r.data.find("seq"));
    // data_omitted: a data that is there but unknown, which every filter holds on.
    const auto omitted =
        notification_rows::parse(R"({"seq":3,"collection":"posts","data_omitted":true,"old":{"forum_id":7}})");
    EXPECT_TRUE(omitted.data.present);
    EXPECT_FALSE(omitted.data.object);
    EXPECT_TRUE(ok("forum_id=8").matches(omitted));
    const auto none = notification_rows::parse(R"({"seq":3,"collection":"posts"})");
    EXPECT_FALSE(none.data.present);
    EXPECT_FALSE(none.old.present);
    EXPECT_FALSE(notification_rows::parse("not json").data.present);
}

TEST(RowPaths, WantsLeadsBelowCovers) {
    notifier::core::row_paths p;
    p.add("author.id");
    p.add("forum_id");
    p.add("forum_id");
    p.add("author-x");
    EXPECT_TRUE(p.wants("forum_id"));
    EXPECT_FALSE(p.wants("author"));
    EXPECT_TRUE(p.leads_below("author"));  // past "author-x", which sorts between
    EXPECT_FALSE(p.leads_below("author.id"));
    EXPECT_FALSE(p.leads_below("forum"));
    notifier::core::row_paths q;
    q.add("forum_id");
    EXPECT_TRUE(p.covers(q));
    EXPECT_FALSE(q.covers(p));
    p.remove("forum_id");
    EXPECT_TRUE(p.wants("forum_id"));  // counted: added twice
    p.remove("forum_id");
    EXPECT_FALSE(p.wants("forum_id"));
    EXPECT_FALSE(p.covers(q));
}

TEST(RowPaths, ReadingForSomePathsKeepsTheirValuesAndNothingElse) {
    notifier::core::row_paths only;
    only.add("a.b");
    only.add("n");
    const std::string json = R"({"data":{"a":{"b":1,"c":2},"n":7.0,"x":{"y":1},"z":"t"},"old":{"a":{"b":1},"a":"gone"}})";
    const auto some = notification_rows::parse(json, &only);
    const auto all = notification_rows::parse(json);
    EXPECT_EQ(*some.data.find("a.b"), "1");
    EXPECT_EQ(*some.data.find("n"), "7");
    EXPECT_FALSE(some.data.find("a.c"));
    EXPECT_FALSE(some.data.find("z"));
    EXPECT_FALSE(some.data.find("x.y"));
    // A repeated name still hides what the earlier one held.
    EXPECT_FALSE(some.old.find("a.b"));
    EXPECT_FALSE(all.old.find("a.b"));
    EXPECT_EQ(some.data.fields.size(), 2u);
    // lazy_rows reads again in full when a caller wants more.
    notifier::core::lazy_rows rows(json);
    EXPECT_FALSE(rows.get(&only).data.find("z"));
    EXPECT_EQ(*rows.get().data.find("z"), "\"t\"");
}

TEST(FilteredEntry, SplitsCollectionAndFilter) {
    auto r = parse_entry("posts[pinned=true,forum_id=7]");
    ASSERT_TRUE(std::holds_alternative<topic>(r));
    const auto& e = std::get<topic>(r);
    EXPECT_EQ(e.collection, "posts");
    ASSERT_TRUE(e.filter);
    EXPECT_EQ(e.name(), "posts[forum_id=7,pinned=true]");

    auto plain = parse_entry("posts");
    ASSERT_TRUE(std::holds_alternative<topic>(plain));
    EXPECT_FALSE(std::get<topic>(plain).filter);
    EXPECT_EQ(std::get<topic>(plain).name(), "posts");

    for (const char* bad : {"posts[", "posts[a=1", "posts[]", "posts[a=1]x", "posts[a=1]]"}) {
        SCOPED_TRACE(bad);
        EXPECT_TRUE(std::holds_alternative<std::string>(parse_entry(bad)));
    }
}

}  // namespace
