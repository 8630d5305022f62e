// SPDX-License-Identifier: MIT
// The notification rules and the shared, serialized-once publication.

#include <notifier/errors.hpp>
#include <notifier/notification.hpp>
#include <notifier/publication.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace {

namespace json = boost::json;
using notifier::errc;
using notifier::notification;

// --- field rules ---

// A field rule and the values it must take and refuse.
struct rule_case {
    const char* name;
    bool (*valid)(std::string_view);
    std::vector<std::string> good, bad;
};

using NotificationFieldRule = ::testing::TestWithParam<rule_case>;

TEST_P(NotificationFieldRule, TakesGoodRefusesBad) {
    for (const auto& v : GetParam().good) EXPECT_TRUE(GetParam().valid(v)) << '"' << v << '"';
    for (const auto& v : GetParam().bad) EXPECT_FALSE(GetParam().valid(v)) << '"' << v << '"';
}

// "a<c>b" for every punctuation and space character a collection refuses.
std::vector<std::string> collections_with_bad_chars() {
    std::vector<std::string> out;
    for (char c : std::string(" /*,!\"#$%&'()+;<=>?@[\\]^`{|}~\t\n")) out.push_back(std::string("a") + c + "b");
    for (const char* v : {"", "caf\xC3\xA9", "\x7f"}) out.push_back(v);
    out.emplace_back("a\0b", 3);
    return out;
}

// 128 two-byte characters: 256 bytes, the id limit, which is in bytes.
const std::string two_byte_id = [] {
    std::string s;
    for (int i = 0; i < 128; ++i) s += "\xC3\xA9";
    return s;
}();

INSTANTIATE_TEST_SUITE_P(
    NotificationRules, NotificationFieldRule,
    ::testing::Values(
        rule_case{"CollectionCharset", notifier::is_valid_collection, {"forums", "ABCXYZabcxyz0189_.:-", "a", "-"},
                  collections_with_bad_chars()},
        rule_case{"CollectionLength", notifier::is_valid_collection, {std::string(128, 'c')}, {std::string(129, 'c')}},
        rule_case{"ActionCharsetAndLength", notifier::is_valid_action,
                  {"create", "user.signed-up:v2_x", std::string(64, 'a')},
                  {"", "bad action", "a/b", "\xC3\xA9", std::string(65, 'a')}},
        rule_case{"Id", notifier::is_valid_id,
                  {"7", "any text / with \"quotes\", spaces and \\", "J\xC3\xA9r\xC3\xB4me \xF0\x9F\x98\x80",
                   std::string(1, '\0'), std::string(256, 'i'), two_byte_id},
                  {"", std::string(257, 'i'), "\xFF", "abc\xC3", "\xED\xA0\x80", two_byte_id + "x"}}),
    [](const ::testing::TestParamInfo<rule_case>& info) { return std::string(info.param.name); });

TEST(NotificationRules, Json) {
    for (const char* good : {"0", "-1.5e3", "true", "false", "null", "\"s\"", "[]", "{}", R"({"a":[1,{"b":null}]})",
                             " \n\t{\"a\":1}\r\n ", R"("caf\u00e9 \ud83d\ude00")", "\"caf\xC3\xA9\""}) {
        EXPECT_TRUE(notifier::is_valid_json(good)) << good;
    }
    for (const char* bad : {"", " ", "{", "}", "[1,]", "{\"a\":1,}", "{a:1}", "'s'", "1 2", "{} {}", "[] x", "tru",
                            "nul", "NaN", "01", "\"unterminated", "\"bad \xFF utf8\"", "/* c */ 1", "1 // c",
                            "{\"a\" 1}", "\"\x01\""}) {
        EXPECT_FALSE(notifier::is_valid_json(bad)) << bad;
    }
}

TEST(NotificationRules, JsonDeepNestingDoesNotCrash) {
    EXPECT_TRUE(notifier::is_valid_json(std::string(32, '[') + std::string(32, ']')));
    for (std::size_t depth : {1000u, 100000u}) {
        EXPECT_FALSE(notifier::is_valid_json(std::string(depth, '[') + std::string(depth, ']'))) << depth;
        EXPECT_FALSE(notifier::is_valid_json(std::string(depth, '['))) << depth;
    }
}

TEST(NotificationRules, Validate) {
    EXPECT_FALSE(notifier::validate({"forums", "create", std::nullopt, std::nullopt}));
    EXPECT_FALSE(notifier::validate({"forums", "create", "7", R"({"name":"General"})"}));
    EXPECT_EQ(notifier::validate({"", "create", std::nullopt, std::nullopt}), errc::invalid_collection);
    EXPECT_EQ(notifier::validate({std::string(129, 'c'), "create", std::nullopt, std::nullopt}),
              errc::invalid_collection);
    EXPECT_EQ(notifier::validate({"forums", "", std::nullopt, std::nullopt}), errc::invalid_action);
    EXPECT_EQ(notifier::validate({"forums", "bad action", std::nullopt, std::nullopt}), errc::invalid_action);
    EXPECT_EQ(notifier::validate({"forums", "create", "", std::nullopt}), errc::invalid_id);
    EXPECT_EQ(notifier::validate({"forums", "create", std::string(257, 'i'), std::nullopt}), errc::invalid_id);
    EXPECT_EQ(notifier::validate({"forums", "create", "\xFF", std::nullopt}), errc::invalid_id);
    EXPECT_EQ(notifier::validate({"forums", "create", std::nullopt, ""}), errc::invalid_data);
    EXPECT_EQ(notifier::validate({"forums", "create", std::nullopt, "{"}), errc::invalid_data);
    EXPECT_EQ(notifier::validate({"forums", "create", std::nullopt, "1 2"}), errc::invalid_data);
}

TEST(NotificationRules, ValidateReportsTheFirstViolation) {
    EXPECT_EQ(notifier::validate({"", "", "", "{"}), errc::invalid_collection);
    EXPECT_EQ(notifier::validate({"c", "", "", "{"}), errc::invalid_action);
    EXPECT_EQ(notifier::validate({"c", "a", "", "{"}), errc::invalid_id);
    EXPECT_EQ(notifier::validate({"c", "a", "1", "{"}), errc::invalid_data);
}

TEST(NotificationRules, ErrorCategory) {
    const std::error_code ec = errc::invalid_collection;
    EXPECT_EQ(&ec.category(), &notifier::error_category());
    EXPECT_STREQ(ec.category().name(), "notifier");
    EXPECT_FALSE(ec.message().empty());
    for (int e = int(errc::invalid_collection); e <= int(errc::invalid_old); ++e)
        EXPECT_NE(notifier::make_error_code(errc(e)).message(), "unknown notifier error") << e;
}

// --- publications ---

/// Decodes the frame header of a final unmasked text frame; returns its size.
std::size_t check_text_header(const std::string& frame, std::size_t payload) {
    EXPECT_GE(frame.size(), 2u);
    if (frame.size() < 2) return 0;
    EXPECT_EQ(static_cast<unsigned char>(frame[0]), 0x81);
    const auto b1 = static_cast<unsigned char>(frame[1]);
    EXPECT_EQ(b1 & 0x80, 0) << "server frames are not masked";
    std::size_t header = 2;
    std::uint64_t len = b1 & 0x7F;
    if (len == 126) {
        header = 4;
        len = (std::uint64_t(static_cast<unsigned char>(frame[2])) << 8) | static_cast<unsigned char>(frame[3]);
        EXPECT_GE(len, 126u) << "minimal length encoding";
    } else if (len == 127) {
        header = 10;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<unsigned char>(frame[2 + i]);
        EXPECT_GT(len, 0xFFFFu) << "minimal length encoding";
    }
    EXPECT_EQ(len, payload);
    EXPECT_EQ(frame.size(), header + payload);
    return header;
}

TEST(Publication, FullNotificationJson) {
    const auto p = notifier::make_publication(12, {"forums", "create", "7", R"({"name":"General"})"});
    ASSERT_TRUE(p);
    EXPECT_EQ(p->json(), R"({"seq":12,"collection":"forums","action":"create","id":"7","data":{"name":"General"}})");
    EXPECT_EQ(p->seq, 12u);
    EXPECT_EQ(p->collection, "forums");
    EXPECT_EQ(p->id, "7");
}

TEST(Publication, OptionalFieldsOmitted) {
    EXPECT_EQ(notifier::make_publication(1, {"c", "a", std::nullopt, std::nullopt})->json(),
              R"({"seq":1,"collection":"c","action":"a"})");
    EXPECT_EQ(notifier::make_publication(2, {"c", "a", "x", std::nullopt})->json(),
              R"({"seq":2,"collection":"c","action":"a","id":"x"})");
    EXPECT_EQ(notifier::make_publication(3, {"c", "a", std::nullopt, "[1,2]"})->json(),
              R"({"seq":3,"collection":"c","action":"a","data":[1,2]})");
    EXPECT_EQ(notifier::make_publication(4, {"c", "a", std::nullopt, "null"})->json(),
              R"({"seq":4,"collection":"c","action":"a","data":null})");
    const auto p = notifier::make_publication(5, {"c", "a", std::nullopt, std::nullopt});
    EXPECT_EQ(p->id, "");
}

TEST(Publication, DataIsEmbeddedVerbatim) {
    const std::string data = " { \"a\" : [ 1 , 2 ] } ";
    const auto p = notifier::make_publication(9, {"c", "a", std::nullopt, data});
    EXPECT_EQ(p->json(), std::string(R"({"seq":9,"collection":"c","action":"a","data":)") + data + "}");
    const auto v = json::parse(p->json());
    EXPECT_EQ(v.at("data"), json::parse(data));
}

TEST(Publication, OldFollowsDataVerbatim) {
    notifier::notification n{"posts", "update", "1", R"({"forum_id":8})"};
    n.old = R"({"forum_id":7, "title":"x"})";
    EXPECT_FALSE(notifier::validate(n));
    EXPECT_EQ(notifier::make_publication(5, n)->json(),
              R"({"seq":5,"collection":"posts","action":"update","id":"1","data":{"forum_id":8},)"
              R"("old":{"forum_id":7, "title":"x"}})");
    // A delete: old without data.
    notifier::notification d{"posts", "delete", "1", std::nullopt};
    d.old = R"({"forum_id":7})";
    EXPECT_EQ(notifier::make_publication(6, d)->json(),
              R"({"seq":6,"collection":"posts","action":"delete","id":"1","old":{"forum_id":7}})");
}

TEST(NotificationRules, OldMustBeOneObject) {
    notifier::notification n{"posts", "update", "1", std::nullopt};
    for (const char* bad : {"[1]", "1", "\"x\"", "null", "{", "{} {}", "", " "}) {
        SCOPED_TRACE(bad);
        n.old = bad;
        EXPECT_EQ(notifier::validate(n), errc::invalid_old);
    }
    for (const char* good : {"{}", " {\"a\":1} ", "{\"a\":{\"b\":[1]}}"}) {
        SCOPED_TRACE(good);
        n.old = good;
        EXPECT_FALSE(notifier::validate(n));
    }
}

TEST(Publication, IdIsEscaped) {
    const std::string id = "a \"quoted\" \\ id\n\t\x01 caf\xC3\xA9 \xF0\x9F\x98\x80 </script>";
    const auto p = notifier::make_publication(3, {"c", "a", id, std::nullopt});
    EXPECT_EQ(p->id, id);
    for (char c : p->json()) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << int(c);
    boost::system::error_code ec;
    const auto v = json::parse(p->json(), ec);
    ASSERT_FALSE(ec) << p->json();
    EXPECT_EQ(v.at("id").as_string(), id);
    EXPECT_EQ(p->json(),
              R"({"seq":3,"collection":"c","action":"a","id":"a \"quoted\" \\ id\n\t\u0001 caf)"
              "\xC3\xA9 \xF0\x9F\x98\x80 </script>\"}");
}

TEST(Publication, LargeSeq) {
    const auto p = notifier::make_publication(18446744073709551615ULL, {"c", "a", std::nullopt, std::nullopt});
    EXPECT_EQ(p->json(), R"({"seq":18446744073709551615,"collection":"c","action":"a"})");
    EXPECT_EQ(json::parse(p->json()).at("seq").to_number<std::uint64_t>(), 18446744073709551615ULL);
}

TEST(Publication, RoundTripsThroughBoostJson) {
    const notification n{"users.v2", "update:name", "42/x", R"({"name":"Ana","tags":["a","b"],"n":-3,"ok":false})"};
    const auto p = notifier::make_publication(77, n);
    boost::system::error_code ec;
    const auto v = json::parse(p->json(), ec);
    ASSERT_FALSE(ec);
    const auto& o = v.as_object();
    ASSERT_EQ(o.size(), 5u);
    // Field order is part of the contract: seq, collection, action, id, data.
    const char* keys[] = {"seq", "collection", "action", "id", "data"};
    std::size_t i = 0;
    for (const auto& kv : o) EXPECT_EQ(kv.key(), keys[i++]);
    EXPECT_EQ(o.at("seq").to_number<std::uint64_t>(), 77u);
    EXPECT_EQ(o.at("collection"), "users.v2");
    EXPECT_EQ(o.at("action"), "update:name");
    EXPECT_EQ(o.at("id"), "42/x");
    EXPECT_EQ(o.at("data"), json::parse(*n.data));
}

TEST(Publication, FrameHeaderSmallPayload) {
    const auto p = notifier::make_publication(1, {"c", "a", std::nullopt, std::nullopt});
    ASSERT_LT(p->json().size(), 126u);
    EXPECT_EQ(p->header_size, 2u);
    EXPECT_EQ(check_text_header(p->frame, p->json().size()), p->header_size);
    EXPECT_EQ(p->frame.substr(p->header_size), p->json());
}

TEST(Publication, FrameHeaderAtEveryLengthBoundary) {
    // Grow the data so the JSON is exactly 125, 126, 65535, 65536 bytes.
    const std::string prefix = R"({"seq":1,"collection":"c","action":"a","data":")";
    const std::string suffix = "\"}";
    for (std::size_t target : {125u, 126u, 127u, 65535u, 65536u, 100000u}) {
        const std::size_t fill = target - prefix.size() - suffix.size();
        const std::string data = "\"" + std::string(fill, 'd') + "\"";
        const auto p = notifier::make_publication(1, {"c", "a", std::nullopt, data});
        ASSERT_EQ(p->json().size(), target);
        const std::size_t expected_header = target < 126 ? 2 : target <= 0xFFFF ? 4 : 10;
        EXPECT_EQ(p->header_size, expected_header) << target;
        EXPECT_EQ(check_text_header(p->frame, target), expected_header) << target;
        EXPECT_EQ(p->json().substr(0, prefix.size()), prefix);
        EXPECT_TRUE(json::parse(p->json()).is_object()) << target;
    }
}

TEST(Publication, IndependentInstances) {
    // Each publication owns its bytes; a later one does not alter an earlier one.
    const auto a = notifier::make_publication(1, {"first", "a", std::nullopt, R"("aaaaaaaaaaaaaaaaaaaa")"});
    const std::string a_json(a->json());
    const auto b = notifier::make_publication(2, {"second", "b", "x", std::nullopt});
    EXPECT_EQ(a->json(), a_json);
    EXPECT_NE(a.get(), b.get());
    EXPECT_EQ(b->json(), R"({"seq":2,"collection":"second","action":"b","id":"x"})");
}

}  // namespace
