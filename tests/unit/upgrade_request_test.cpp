// SPDX-License-Identifier: MIT
// The query of GET /ws: subscriptions, resume point and token.

#include "core/upgrade_request.hpp"
#include "../support/parse_result.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

namespace {

using notifier::core::parse_upgrade_request;
using notifier::core::upgrade_error;
using notifier::core::upgrade_request;
using strings = std::vector<std::string>;

upgrade_request ok(std::string_view target, std::string_view authorization = {}, std::size_t max = 1024) {
    return notifier::test::expect_accepted<upgrade_request>(parse_upgrade_request(target, authorization, max), target);
}

upgrade_error refused(std::string_view target, std::size_t max = 1024) {
    return notifier::test::expect_refused<upgrade_error>(parse_upgrade_request(target, {}, max), target);
}

TEST(UpgradeRequest, NoQueryIsEverythingLive) {
    const auto r = ok("/ws");
    EXPECT_TRUE(r.topics.empty());
    EXPECT_TRUE(r.implicit_all);
    EXPECT_FALSE(r.resume.requested);
    EXPECT_EQ(r.resume.since, 0u);
    EXPECT_EQ(r.resume.epoch, "");
    EXPECT_EQ(r.token, "");
}

TEST(UpgradeRequest, Collections) {
    const auto r = ok("/ws?collections=forums,posts/7,*");
    EXPECT_EQ(r.topics, (strings{"forums", "posts/7", "*"}));
    EXPECT_FALSE(r.implicit_all);
}

TEST(UpgradeRequest, CollectionsKeepOrderAndDuplicates) {
    // The session sorts and deduplicates; the limit counts what was sent.
    EXPECT_EQ(ok("/ws?collections=b,a,b").topics, (strings{"b", "a", "b"}));
    EXPECT_EQ(refused("/ws?collections=a,a,a", 2).code, "too_many_subscriptions");
}

TEST(UpgradeRequest, EmptyCollectionsIsExplicitlyNothing) {
    const auto r = ok("/ws?collections=");
    EXPECT_TRUE(r.topics.empty());
    EXPECT_FALSE(r.implicit_all);
    EXPECT_FALSE(ok("/ws?collections").implicit_all);
}

TEST(UpgradeRequest, RepeatedCollectionsAddUp) {
    EXPECT_EQ(ok("/ws?collections=a&collections=b/1").topics, (strings{"a", "b/1"}));
    EXPECT_EQ(refused("/ws?collections=a,b&collections=c", 2).code, "too_many_subscriptions");
}

TEST(UpgradeRequest, PercentEncodedCollections) {
    // %2C is a comma once decoded: it separates entries as well.
    EXPECT_EQ(ok("/ws?collections=posts%2F7%2Cforums").topics, (strings{"posts/7", "forums"}));
}

TEST(UpgradeRequest, IdsMayContainSlashes) {
    EXPECT_EQ(ok("/ws?collections=files/a/b").topics, (strings{"files/a/b"}));
}

TEST(UpgradeRequest, APlusIsAPlus) {
    const auto r = std::get<notifier::core::upgrade_request>(
        notifier::core::parse_upgrade_request("/ws?collections=users%5Bemail%3D%22a+b%22%5D", "", 10));
    EXPECT_EQ(r.topics, std::vector<std::string>{"users[email=\"a+b\"]"});
}

// Refused targets: always 400, with the code and message the client sees.
struct refusal_case {
    const char* name;
    std::vector<std::string> targets;
    const char *code, *message;
    std::size_t max = 1024;
};

class UpgradeRequestRefused : public ::testing::TestWithParam<refusal_case> {};

TEST_P(UpgradeRequestRefused, Says) {
    for (const auto& target : GetParam().targets) {
        SCOPED_TRACE(target);
        const auto e = refused(target, GetParam().max);
        EXPECT_EQ(e.status, 400u);
        EXPECT_EQ(e.code, GetParam().code);
        EXPECT_EQ(e.message, GetParam().message);
    }
}

INSTANTIATE_TEST_SUITE_P(
    UpgradeRequest, UpgradeRequestRefused,
    ::testing::Values(
        refusal_case{"InvalidEntry", {"/ws?collections=good,bad!name"}, "invalid_name",
                     "invalid subscription \"bad!name\": expected \"*\", a collection [A-Za-z0-9_.:-]{1,128}, "
                     "collection/id or collection[field=value,\u2026]"},
        refusal_case{"TooManySubscriptions", {"/ws?collections=a,b,c"}, "too_many_subscriptions",
                     "at most 2 subscriptions", 2},
        refusal_case{"InvalidSince",
                     {"/ws?since=", "/ws?since", "/ws?since=-1", "/ws?since=1x", "/ws?since=+1", "/ws?since=%201",
                      "/ws?since=18446744073709551616", "/ws?since=1.5"},
                     "invalid_query", "since must be a non-negative integer"},
        refusal_case{"MalformedTarget", {"ws", "", "/ws?a=%zz", "http://host/ws", "/ws#frag"}, "invalid_query",
                     "malformed query string"}),
    [](const ::testing::TestParamInfo<refusal_case>& info) { return std::string(info.param.name); });

TEST(UpgradeRequest, EmptyEntryIsInvalid) {
    EXPECT_EQ(refused("/ws?collections=a,,b").code, "invalid_name");
    EXPECT_EQ(refused("/ws?collections=a,").code, "invalid_name");
    EXPECT_EQ(refused("/ws?collections=posts/").code, "invalid_name");
}

TEST(UpgradeRequest, InvalidEntryIsQuotedShortAndSafe) {
    const std::string longname(1000, '!');
    const auto e = refused("/ws?collections=" + longname);
    EXPECT_EQ(e.code, "invalid_name");
    EXPECT_LT(e.message.size(), 400u);
    // Not UTF-8: a placeholder, never the raw bytes.
    const auto bad = refused("/ws?collections=%FF%FE");
    EXPECT_EQ(bad.code, "invalid_name");
    EXPECT_EQ(bad.message.find('\xff'), std::string::npos);
}

TEST(UpgradeRequest, TooManySubscriptions) {
    EXPECT_EQ(ok("/ws?collections=a,b", {}, 2).topics.size(), 2u);
}

TEST(UpgradeRequest, InvalidNameBeforeTheLimit) {
    // The entries are checked one by one, the count after the parameter.
    EXPECT_EQ(refused("/ws?collections=a,b,c,!", 2).code, "invalid_name");
}

TEST(UpgradeRequest, Resume) {
    const auto r = ok("/ws?since=42&epoch=abc123");
    EXPECT_TRUE(r.resume.requested);
    EXPECT_EQ(r.resume.since, 42u);
    EXPECT_EQ(r.resume.epoch, "abc123");
    EXPECT_TRUE(r.implicit_all);
}

TEST(UpgradeRequest, SinceZeroAndLargest) {
    EXPECT_TRUE(ok("/ws?since=0").resume.requested);
    EXPECT_EQ(ok("/ws?since=18446744073709551615").resume.since, 18446744073709551615u);
}

TEST(UpgradeRequest, EpochAloneIsNoResume) {
    const auto r = ok("/ws?epoch=abc");
    EXPECT_FALSE(r.resume.requested);
    EXPECT_EQ(r.resume.epoch, "abc");
}

TEST(UpgradeRequest, FirstErrorInQueryOrder) {
    EXPECT_EQ(refused("/ws?since=x&collections=!").code, "invalid_query");
    EXPECT_EQ(refused("/ws?collections=!&since=x").code, "invalid_name");
}

TEST(UpgradeRequest, LastSinceAndEpochWin) {
    const auto r = ok("/ws?since=1&epoch=a&since=2&epoch=b");
    EXPECT_EQ(r.resume.since, 2u);
    EXPECT_EQ(r.resume.epoch, "b");
}

TEST(UpgradeRequest, UnknownParametersAreIgnored) {
    const auto r = ok("/ws?_=12345&foo&collections=a&bar=%00");
    EXPECT_EQ(r.topics, (strings{"a"}));
}

// Where the token comes from: the query wins over an Authorization header,
// which counts only as "Bearer <credentials>" (any case), taken as sent.
struct token_case {
    const char *name, *target, *authorization, *token;
};

class UpgradeRequestToken : public ::testing::TestWithParam<token_case> {};

TEST_P(UpgradeRequestToken, Is) { EXPECT_EQ(ok(GetParam().target, GetParam().authorization).token, GetParam().token); }

INSTANTIATE_TEST_SUITE_P(
    UpgradeRequest, UpgradeRequestToken,
    ::testing::Values(token_case{"TokenFromQuery", "/ws?token=abc.def.ghi", "", "abc.def.ghi"},
                      token_case{"QueryWinsOverHeader", "/ws?token=q", "Bearer h", "q"},
                      token_case{"TokenFromBearerHeader", "/ws", "Bearer abc", "abc"},
                      token_case{"BearerLowerCase", "/ws", "bearer abc", "abc"},
                      token_case{"BearerUpperCase", "/ws", "BEARER abc", "abc"},
                      // An empty token parameter falls back to the header.
                      token_case{"EmptyQueryTokenFallsBack", "/ws?token=", "Bearer abc", "abc"},
                      token_case{"BasicIsNoToken", "/ws", "Basic dXNlcjpwYXNz", ""},
                      token_case{"BearerSpaceIsNoToken", "/ws", "Bearer ", ""},
                      token_case{"BearerAloneIsNoToken", "/ws", "Bearer", ""},
                      token_case{"BearerGluedIsNoToken", "/ws", "Bearerabc", ""},
                      token_case{"EmptyHeaderIsNoToken", "/ws", "", ""},
                      token_case{"BearerCredentialsAreTakenAsSent", "/ws", "Bearer  two spaces", " two spaces"}),
    [](const ::testing::TestParamInfo<token_case>& info) { return std::string(info.param.name); });

}  // namespace
