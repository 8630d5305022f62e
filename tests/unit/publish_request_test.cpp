// SPDX-License-Identifier: MIT
// The body of POST /publish: one notification or a non-empty array of them.

#include "core/publish_request.hpp"
#include "core/utf8.hpp"
#include "../support/parse_result.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

namespace {

namespace json = boost::json;
using notifier::notification;
using notifier::core::parse_publish_request;
using notifier::core::publish_error;

std::vector<notification> ok(std::string_view body) {
    return notifier::test::expect_accepted<std::vector<notification>>(parse_publish_request(body), body);
}

publish_error refused(std::string_view body) {
    return notifier::test::expect_refused<publish_error>(parse_publish_request(body), body);
}

TEST(PublishRequest, SingleObject) {
    const auto v = ok(R"({"collection":"forums","action":"create","id":"7","data":{"name":"General"}})");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].collection, "forums");
    EXPECT_EQ(v[0].action, "create");
    ASSERT_TRUE(v[0].id);
    EXPECT_EQ(*v[0].id, "7");
    ASSERT_TRUE(v[0].data);
    EXPECT_EQ(*v[0].data, R"({"name":"General"})");
}

TEST(PublishRequest, MinimalObjectHasNoIdNorData) {
    const auto v = ok(R"({"action":"refresh","collection":"forums"})");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0], (notification{"forums", "refresh", std::nullopt, std::nullopt}));
}

TEST(PublishRequest, ArrayKeepsOrder) {
    const auto v = ok(R"([
        {"collection":"a","action":"create","id":"1"},
        {"collection":"b","action":"update","data":[1,2,3]},
        {"collection":"c","action":"delete","id":3}
    ])");
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0], (notification{"a", "create", "1", std::nullopt}));
    EXPECT_EQ(v[1], (notification{"b", "update", std::nullopt, "[1,2,3]"}));
    EXPECT_EQ(v[2], (notification{"c", "delete", "3", std::nullopt}));
}

TEST(PublishRequest, SingleElementArray) {
    const auto v = ok(R"([{"collection":"a","action":"b"}])");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].collection, "a");
}

TEST(PublishRequest, IntegerIdBecomesString) {
    EXPECT_EQ(*ok(R"({"collection":"a","action":"b","id":7})")[0].id, "7");
    EXPECT_EQ(*ok(R"({"collection":"a","action":"b","id":0})")[0].id, "0");
    EXPECT_EQ(*ok(R"({"collection":"a","action":"b","id":-42})")[0].id, "-42");
    EXPECT_EQ(*ok(R"({"collection":"a","action":"b","id":9223372036854775807})")[0].id, "9223372036854775807");
    EXPECT_EQ(*ok(R"({"collection":"a","action":"b","id":-9223372036854775808})")[0].id, "-9223372036854775808");
    EXPECT_EQ(*ok(R"({"collection":"a","action":"b","id":18446744073709551615})")[0].id, "18446744073709551615");
}

TEST(PublishRequest, StringIdKeptVerbatim) {
    const auto v = ok(R"({"collection":"a","action":"b","id":"J\u00e9r\u00f4me/\"42\""})");
    ASSERT_TRUE(v[0].id);
    EXPECT_EQ(*v[0].id, "J\xC3\xA9r\xC3\xB4me/\"42\"");
    EXPECT_EQ(*ok(R"({"collection":"a","action":"b","id":"007"})")[0].id, "007");
}

TEST(PublishRequest, DataIsThePublishersBytes) {
    // Numbers, escapes, key order and inner whitespace exactly as written:
    // nothing is parsed into doubles and written back.
    const char* cases[] = {
        R"({"a": 1, "b": [true, false, null]})",
        R"("text")",
        R"(42)",
        R"(-7)",
        R"(null)",
        R"([])",
        R"({})",
        R"("quote \" backslash \\ newline \n \u00e9")",
        "123456789012345678901234567890",          // beyond 2^64 and a double's precision
        "340282366920938463463374607431768211457",  // beyond 2^128
        "1.0",
        "1e2",
        "-0",
        "1E+400",                                   // beyond a double's range
        "0.10000000000000000000000000000000000001",
        R"({"z":1,"a":2,"z2":{"b":1.50,"a":[1.0,2e0]}})",
        "{\n  \"spaced\" :\t[ 1 , 2 ]\r\n}",
    };
    for (const char* data : cases) {
        SCOPED_TRACE(data);
        for (const char* after : {"}", " }", "\n}", R"(,"id":"x"})"}) {
            const auto v = ok(std::string(R"({"collection":"a","action":"b","data":)") + data + after);
            ASSERT_EQ(v.size(), 1u);
            ASSERT_TRUE(v[0].data);
            EXPECT_EQ(*v[0].data, data);
            EXPECT_TRUE(notifier::is_valid_json(*v[0].data));
        }
        // In a batch too, with whitespace around the elements.
        const auto b = ok(std::string("[ {\"collection\":\"a\",\"action\":\"b\",\"data\": ") + data +
                          " } ,\n{\"data\":" + data + ",\"collection\":\"c\",\"action\":\"d\"}]");
        ASSERT_EQ(b.size(), 2u);
        EXPECT_EQ(*b[0].data, data);
        EXPECT_EQ(*b[1].data, data);
    }
}

TEST(PublishRequest, OldIsAnObjectPassedAsWritten) {
    const auto v = ok(R"({"collection":"posts","action":"update","id":1,"data":{"forum_id":8},"old": {"forum_id":7.0} })");
    ASSERT_TRUE(v[0].old);
    EXPECT_EQ(*v[0].old, R"({"forum_id":7.0})");
    EXPECT_EQ(*v[0].data, R"({"forum_id":8})");
    for (const char* bad : {R"({"collection":"a","action":"b","old":[1]})", R"({"collection":"a","action":"b","old":1})",
                            R"({"collection":"a","action":"b","old":null})"}) {
        SCOPED_TRACE(bad);
        const auto e = refused(bad);
        EXPECT_EQ(e.code, "invalid_notification");
        EXPECT_NE(e.message.find("old"), std::string::npos);
    }
}

TEST(PublishRequest, RepeatedFieldIsRefused) {
    for (const char* body : {R"({"collection":"a","action":"b","data":1,"data":2})",
                             R"({"collection":"a","collection":"b","action":"c"})",
                             R"([{"collection":"a","action":"b"},{"collection":"a","action":"b","id":"1","id":"2"}])"}) {
        SCOPED_TRACE(body);
        const auto e = refused(body);
        EXPECT_EQ(e.code, "invalid_notification");
        EXPECT_NE(e.message.find("more than once"), std::string::npos) << e.message;
    }
}

TEST(PublishRequest, KeysWithEscapesLineUpWithTheirValues) {
    // "d\u0061ta" is "data": its value is still taken from its own span.
    const auto v = ok(R"({"coll\u0065ction":"a","act\u0069on":"b","d\u0061ta":[1.0, "x"]})");
    ASSERT_TRUE(v[0].data);
    EXPECT_EQ(*v[0].data, R"([1.0, "x"])");
    EXPECT_EQ(v[0].collection, "a");
}

TEST(PublishRequest, DataNestedValueRoundTrips) {
    const std::string data = R"({"user":{"name":"Ana","tags":["x","y"],"score":12.5,"ok":true},"n":null})";
    const auto v = ok(R"({"collection":"a","action":"b","data":)" + data + "}");
    ASSERT_TRUE(v[0].data);
    EXPECT_EQ(json::parse(*v[0].data), json::parse(data));
    EXPECT_TRUE(notifier::is_valid_json(*v[0].data));
}

TEST(PublishRequest, InvalidJson) {
    for (const char* body : {"", "   ", "nope", "{", R"({"collection":"a","action":"b")", R"({"collection":"a",})",
                             R"([{"collection":"a","action":"b"})", R"({"collection":"a","action":"b"} {})", "\xFF"}) {
        SCOPED_TRACE(body);
        const auto e = refused(body);
        EXPECT_EQ(e.code, "invalid_json");
        EXPECT_FALSE(e.message.empty());
    }
}

TEST(PublishRequest, NonObjectIsInvalidNotification) {
    for (const char* body : {"null", "1", "true", R"("forums")", "[1]", R"([["a"]])", "[null]"}) {
        SCOPED_TRACE(body);
        EXPECT_EQ(refused(body).code, "invalid_notification");
    }
}

TEST(PublishRequest, MissingFieldsAreInvalidNotification) {
    for (const char* body : {"{}", R"({"collection":"a"})", R"({"action":"b"})", R"({"id":"1","data":1})"}) {
        SCOPED_TRACE(body);
        const auto e = refused(body);
        EXPECT_EQ(e.code, "invalid_notification");
    }
    EXPECT_NE(refused(R"({"collection":"a"})").message.find("action"), std::string::npos);
    EXPECT_NE(refused(R"({"action":"b"})").message.find("collection"), std::string::npos);
}

TEST(PublishRequest, WrongTypesAreInvalidNotification) {
    for (const char* body : {
             R"({"collection":1,"action":"b"})",
             R"({"collection":null,"action":"b"})",
             R"({"collection":["a"],"action":"b"})",
             R"({"collection":"a","action":true})",
             R"({"collection":"a","action":{}})",
             R"({"collection":"a","action":"b","id":1.5})",
             R"({"collection":"a","action":"b","id":true})",
             R"({"collection":"a","action":"b","id":null})",
             R"({"collection":"a","action":"b","id":["1"]})",
             R"({"collection":"a","action":"b","id":{"v":1}})",
         }) {
        SCOPED_TRACE(body);
        EXPECT_EQ(refused(body).code, "invalid_notification");
    }
}

TEST(PublishRequest, InvalidNames) {
    for (const char* body : {
             R"({"collection":"","action":"b"})",
             R"({"collection":"bad name","action":"b"})",
             R"({"collection":"a/b","action":"b"})",
             R"({"collection":"*","action":"b"})",
             R"({"collection":"a","action":""})",
             R"({"collection":"a","action":"bad action"})",
             R"({"collection":"a","action":"b","id":""})",
         }) {
        SCOPED_TRACE(body);
        EXPECT_EQ(refused(body).code, "invalid_name");
    }
    EXPECT_EQ(refused(R"({"collection":")" + std::string(129, 'c') + R"(","action":"b"})").code, "invalid_name");
    EXPECT_EQ(refused(R"({"collection":"a","action":")" + std::string(65, 'a') + R"("})").code, "invalid_name");
    EXPECT_EQ(refused(R"({"collection":"a","action":"b","id":")" + std::string(257, 'i') + R"("})").code,
              "invalid_name");
    // The limits themselves are fine.
    EXPECT_EQ(ok(R"({"collection":")" + std::string(128, 'c') + R"(","action":")" + std::string(64, 'a') +
                 R"(","id":")" + std::string(256, 'i') + R"("})")
                  .size(),
              1u);
}

TEST(PublishRequest, UnknownField) {
    for (const char* body : {
             R"({"collection":"a","action":"b","seq":1})",
             R"({"collection":"a","action":"b","Data":1})",
             R"({"extra":0,"collection":"a","action":"b"})",
             R"({"collection":"a","action":"b","type":"x"})",
         }) {
        SCOPED_TRACE(body);
        EXPECT_EQ(refused(body).code, "unknown_field");
    }
    EXPECT_NE(refused(R"({"collection":"a","action":"b","seq":1})").message.find("seq"), std::string::npos);
}

TEST(PublishRequest, EmptyBatch) {
    const auto e = refused("[]");
    EXPECT_EQ(e.code, "empty_batch");
    EXPECT_EQ(refused(" [ ] ").code, "empty_batch");
}

TEST(PublishRequest, BatchIsAllOrNothingAndNamesTheIndex) {
    const auto e = refused(R"([
        {"collection":"a","action":"create"},
        {"collection":"b","action":"create"},
        {"collection":"bad name","action":"create"},
        {"collection":"d","action":"create"}
    ])");
    EXPECT_EQ(e.code, "invalid_name");
    EXPECT_NE(e.message.find("2"), std::string::npos) << e.message;
    EXPECT_EQ(e.message.find("notification 2"), 0u) << e.message;

    const auto f = refused(R"([{"collection":"a","action":"b"},{"collection":"a","action":"b","x":1}])");
    EXPECT_EQ(f.code, "unknown_field");
    EXPECT_NE(f.message.find("notification 1"), std::string::npos) << f.message;

    const auto g = refused(R"([{"collection":"a","action":"b"},7])");
    EXPECT_EQ(g.code, "invalid_notification");
    EXPECT_NE(g.message.find("notification 1"), std::string::npos) << g.message;

    const auto h = refused(R"([{"action":"b"}])");
    EXPECT_EQ(h.code, "invalid_notification");
    EXPECT_NE(h.message.find("notification 0"), std::string::npos) << h.message;
}

TEST(PublishRequest, SingleObjectErrorHasNoIndex) {
    const auto e = refused(R"({"collection":"bad name","action":"b"})");
    EXPECT_EQ(e.message.find("notification "), std::string::npos) << e.message;
}

TEST(PublishRequest, LargeBatch) {
    std::string body = "[";
    for (int i = 0; i < 1000; ++i) {
        if (i) body += ',';
        body += R"({"collection":"c","action":"a","id":)" + std::to_string(i) + "}";
    }
    body += "]";
    const auto v = ok(body);
    ASSERT_EQ(v.size(), 1000u);
    for (int i = 0; i < 1000; ++i) EXPECT_EQ(*v[i].id, std::to_string(i));
}

TEST(PublishRequest, DeepNestingDoesNotCrash) {
    for (std::size_t depth : {65u, 1000u, 100000u}) {
        const std::string data = std::string(depth, '[') + std::string(depth, ']');
        const auto e = refused(R"({"collection":"a","action":"b","data":)" + data + "}");
        EXPECT_EQ(e.code, "invalid_json") << depth;
        EXPECT_EQ(refused(std::string(depth, '[')).code, "invalid_json") << depth;
    }
}

TEST(PublishRequest, UnknownFieldMessageIsValidUtf8) {
    // A 200-byte key of 2-byte characters after one ASCII byte: cutting it at
    // a byte count lands inside a character.
    std::string key = "x";
    for (int i = 0; i < 100; ++i) key += "\xC3\xA9";
    const auto e = refused(R"({"collection":"a","action":"b",")" + key + R"(":1})");
    EXPECT_EQ(e.code, "unknown_field");
    EXPECT_TRUE(notifier::core::is_valid_utf8(e.message));
}

}  // namespace
