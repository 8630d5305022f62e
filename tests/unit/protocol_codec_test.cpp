// SPDX-License-Identifier: MIT
// Client frames in, server control frames out (docs/protocol.md).

#include "core/protocol_codec.hpp"
#include "core/utf8.hpp"
#include "../support/parse_result.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace {

namespace json = boost::json;
using notifier::core::client_message;
using notifier::core::parse_client_message;
using notifier::core::protocol_error;

client_message ok(std::string_view text) {
    return notifier::test::expect_accepted<client_message>(parse_client_message(text), text);
}

protocol_error refused(std::string_view text) {
    return notifier::test::expect_refused<protocol_error>(parse_client_message(text), text);
}

using strings = std::vector<std::string>;

// --- client frames ---

TEST(ProtocolCodec, Ping) {
    const auto m = ok(R"({"type":"ping"})");
    EXPECT_EQ(m.type, client_message::kind::ping);
    EXPECT_TRUE(m.collections.empty());
    EXPECT_EQ(ok(" \n{ \"type\" : \"ping\" }\t").type, client_message::kind::ping);
}

TEST(ProtocolCodec, Subscribe) {
    const auto m = ok(R"({"type":"subscribe","collections":["posts","forums/3","*","posts/a/b"]})");
    EXPECT_EQ(m.type, client_message::kind::subscribe);
    EXPECT_EQ(m.collections, (strings{"posts", "forums/3", "*", "posts/a/b"}));
}

TEST(ProtocolCodec, SubscribeFieldOrderDoesNotMatter) {
    const auto m = ok(R"({"collections":["posts"],"type":"subscribe"})");
    EXPECT_EQ(m.type, client_message::kind::subscribe);
    EXPECT_EQ(m.collections, strings{"posts"});
}

TEST(ProtocolCodec, SubscribeEmptyList) {
    const auto m = ok(R"({"type":"subscribe","collections":[]})");
    EXPECT_EQ(m.type, client_message::kind::subscribe);
    EXPECT_TRUE(m.collections.empty());
}

TEST(ProtocolCodec, Unsubscribe) {
    const auto m = ok(R"({"type":"unsubscribe","collections":["posts"]})");
    EXPECT_EQ(m.type, client_message::kind::unsubscribe);
    EXPECT_EQ(m.collections, strings{"posts"});
}

TEST(ProtocolCodec, EscapedEntryIsDecoded) {
    const auto m = ok(R"({"type":"subscribe","collections":["users/J\u00e9r\u00f4me","posts/\"q\""]})");
    EXPECT_EQ(m.collections, (strings{"users/J\xC3\xA9r\xC3\xB4me", "posts/\"q\""}));
}

TEST(ProtocolCodec, ManyEntriesOutgrowTheStackBuffer) {
    std::string text = R"({"type":"subscribe","collections":[)";
    strings expected;
    for (int i = 0; i < 500; ++i) {
        if (i) text += ',';
        expected.push_back("collection_" + std::to_string(i) + "/" + std::string(20, 'x'));
        text += '"' + expected.back() + '"';
    }
    text += "]}";
    const auto m = ok(text);
    EXPECT_EQ(m.collections, expected);
}

TEST(ProtocolCodec, InvalidJson) {
    for (const char* text : {"", "not json", "{", R"({"type":"ping")", R"({"type":"ping"}})", "{'type':'ping'}",
                             R"({"type":"ping"} x)", "\xFF"}) {
        SCOPED_TRACE(text);
        const auto e = refused(text);
        EXPECT_EQ(e.code, "invalid_json");
        EXPECT_FALSE(e.message.empty());
    }
}

TEST(ProtocolCodec, NonObjectIsInvalidJson) {
    for (const char* text : {"[]", R"(["ping"])", "null", "1", "true", R"("ping")"}) {
        SCOPED_TRACE(text);
        EXPECT_EQ(refused(text).code, "invalid_json");
    }
}

TEST(ProtocolCodec, InvalidMessage) {
    for (const char* text : {
             "{}",
             R"({"collections":["posts"]})",
             R"({"type":1})",
             R"({"type":null})",
             R"({"type":["ping"]})",
             R"({"type":"subscribe"})",
             R"({"type":"unsubscribe"})",
             R"({"type":"subscribe","collections":"posts"})",
             R"({"type":"subscribe","collections":null})",
             R"({"type":"subscribe","collections":{"a":"posts"}})",
             R"({"type":"subscribe","collections":[1]})",
             R"({"type":"subscribe","collections":["posts",null]})",
             R"({"type":"unsubscribe","collections":[["posts"]]})",
         }) {
        SCOPED_TRACE(text);
        const auto e = refused(text);
        EXPECT_EQ(e.code, "invalid_message");
        EXPECT_FALSE(e.message.empty());
    }
}

TEST(ProtocolCodec, UnknownType) {
    for (const char* text : {R"({"type":"pong"})", R"({"type":""})", R"({"type":"PING"})",
                             R"({"type":"publish","collections":[]})"}) {
        SCOPED_TRACE(text);
        EXPECT_EQ(refused(text).code, "unknown_type");
    }
}

TEST(ProtocolCodec, UnknownField) {
    for (const char* text : {
             R"({"type":"ping","extra":1})",
             R"({"type":"ping","collections":["posts"]})",
             R"({"type":"subscribe","collections":["posts"],"since":3})",
             R"({"id":1,"type":"unsubscribe","collections":["posts"]})",
         }) {
        SCOPED_TRACE(text);
        const auto e = refused(text);
        EXPECT_EQ(e.code, "unknown_field");
    }
    EXPECT_NE(refused(R"({"type":"ping","extra":1})").message.find("extra"), std::string::npos);
}

TEST(ProtocolCodec, InvalidName) {
    for (const char* text : {
             R"({"type":"subscribe","collections":["bad name"]})",
             R"({"type":"subscribe","collections":[""]})",
             R"({"type":"subscribe","collections":["posts/"]})",
             R"({"type":"subscribe","collections":["/7"]})",
             R"({"type":"subscribe","collections":["posts","ok","not ok!"]})",
             R"({"type":"unsubscribe","collections":["**"]})",
         }) {
        SCOPED_TRACE(text);
        const auto e = refused(text);
        EXPECT_EQ(e.code, "invalid_name");
        EXPECT_FALSE(e.message.empty());
    }
    const std::string long_collection = R"({"type":"subscribe","collections":[")" + std::string(129, 'c') + R"("]})";
    EXPECT_EQ(refused(long_collection).code, "invalid_name");
    const std::string long_id = R"({"type":"subscribe","collections":["posts/)" + std::string(257, 'i') + R"("]})";
    EXPECT_EQ(refused(long_id).code, "invalid_name");
    EXPECT_NE(refused(R"({"type":"subscribe","collections":["not ok!"]})").message.find("not ok!"), std::string::npos);
}

TEST(ProtocolCodec, ErrorMessageIsValidUtf8ForLongNonAsciiEntry) {
    // An id over 256 bytes made of 2-byte characters, offset by one ASCII
    // byte so a byte-count cut of the quoted entry lands inside a character.
    std::string id = "x";
    for (int i = 0; i < 200; ++i) id += "\xC3\xA9";
    const auto e = refused(R"({"type":"subscribe","collections":["posts/)" + id + R"("]})");
    EXPECT_EQ(e.code, "invalid_name");
    // Cut to 300 bytes, never inside a character: the error frame is a text
    // frame, which must be valid UTF-8 (RFC 6455 section 8.1).
    EXPECT_TRUE(notifier::core::is_valid_utf8(e.message));
}

TEST(ProtocolCodec, DeepNestingDoesNotCrash) {
    for (std::size_t depth : {17u, 64u, 1000u, 100000u}) {
        const std::string arrays = std::string(depth, '[') + std::string(depth, ']');
        EXPECT_EQ(refused(arrays).code, "invalid_json") << depth;
        std::string objects;
        for (std::size_t i = 0; i < depth; ++i) objects += R"({"a":)";
        objects += "1" + std::string(depth, '}');
        EXPECT_NE(refused(objects).code, "") << depth;
        const std::string in_field = R"({"type":"subscribe","collections":)" + std::string(depth, '[') +
                                     std::string(depth, ']') + "}";
        const auto code = refused(in_field).code;
        EXPECT_TRUE(code == "invalid_json" || code == "invalid_message") << depth << " " << code;
        // Unterminated.
        EXPECT_EQ(refused(std::string(depth, '[')).code, "invalid_json") << depth;
    }
}

// --- server frames ---

json::object parse_object(const std::string& s) {
    boost::system::error_code ec;
    json::value v = json::parse(s, ec);
    EXPECT_FALSE(ec) << s << ": " << ec.message();
    if (ec || !v.is_object()) {
        ADD_FAILURE() << "not a JSON object: " << s;
        return {};
    }
    return v.as_object();
}

TEST(ProtocolCodec, EncodeWelcome) {
    const auto s = notifier::core::encode_welcome("9f2c0a1b2c3d4e5f", 41, true);
    EXPECT_EQ(s, R"({"type":"welcome","protocol":1,"epoch":"9f2c0a1b2c3d4e5f","seq":41,"resumed":true})");
    const auto o = parse_object(s);
    EXPECT_EQ(o.size(), 5u);
    EXPECT_EQ(o.at("type"), "welcome");
    EXPECT_EQ(o.at("protocol").as_int64(), notifier::core::protocol_version);
    EXPECT_EQ(o.at("epoch"), "9f2c0a1b2c3d4e5f");
    EXPECT_EQ(o.at("seq").to_number<std::uint64_t>(), 41u);
    EXPECT_EQ(o.at("resumed"), true);

    const auto f = parse_object(notifier::core::encode_welcome("e", 0, false));
    EXPECT_EQ(f.at("resumed"), false);
    EXPECT_EQ(f.at("seq").to_number<std::uint64_t>(), 0u);
}

TEST(ProtocolCodec, EncodeWelcomeLargeSeq) {
    const auto o = parse_object(notifier::core::encode_welcome("e", 18446744073709551615ULL, false));
    EXPECT_EQ(o.at("seq").to_number<std::uint64_t>(), 18446744073709551615ULL);
}

TEST(ProtocolCodec, EncodeResync) {
    const auto s = notifier::core::encode_resync("abc", 7);
    EXPECT_EQ(s, R"({"type":"resync","epoch":"abc","seq":7})");
    const auto o = parse_object(s);
    EXPECT_EQ(o.size(), 3u);
    EXPECT_EQ(o.at("type"), "resync");
    EXPECT_EQ(o.at("epoch"), "abc");
    EXPECT_EQ(o.at("seq").to_number<std::uint64_t>(), 7u);
}

TEST(ProtocolCodec, EncodeSubscribed) {
    EXPECT_EQ(notifier::core::encode_subscribed({}, 0), R"({"type":"subscribed","collections":[],"seq":0})");
    const strings cols{"*", "forums", "posts/7", "users/J\xC3\xA9r\xC3\xB4me", "x/\"quoted\"\\"};
    const auto s = notifier::core::encode_subscribed(cols, 18446744073709551615u);
    const auto o = parse_object(s);
    EXPECT_EQ(o.size(), 3u);
    EXPECT_EQ(o.at("seq").to_number<std::uint64_t>(), 18446744073709551615u);
    EXPECT_EQ(o.at("type"), "subscribed");
    const auto& arr = o.at("collections").as_array();
    ASSERT_EQ(arr.size(), cols.size());
    for (std::size_t i = 0; i < cols.size(); ++i) EXPECT_EQ(arr[i].as_string(), cols[i]);
}

TEST(ProtocolCodec, EncodeErrorEscapes) {
    std::string message = "bad \"entry\" \\ with\ttab\nnewline\r\b\f and \x01\x1f control, caf\xC3\xA9";
    const auto s = notifier::core::encode_error("invalid_name", message);
    EXPECT_TRUE(notifier::core::is_valid_utf8(s));
    // Raw control characters never appear in the JSON text.
    for (char c : s) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << int(c);
    const auto o = parse_object(s);
    EXPECT_EQ(o.size(), 3u);
    EXPECT_EQ(o.at("type"), "error");
    EXPECT_EQ(o.at("code"), "invalid_name");
    EXPECT_EQ(o.at("message").as_string(), message);
}

TEST(ProtocolCodec, EncodeErrorEveryControlCharacter) {
    std::string message;
    for (int c = 0; c < 0x20; ++c) message.push_back(static_cast<char>(c));
    message += "\x7f\"\\/";
    const auto o = parse_object(notifier::core::encode_error("x", message));
    EXPECT_EQ(o.at("message").as_string(), message);
}

TEST(ProtocolCodec, EncodeErrorForEveryRefusal) {
    // What the session sends back for a refused frame is one valid error frame.
    for (const char* text : {"nope", "[]", "{}", R"({"type":"x"})", R"({"type":"ping","a\"b":1})",
                             R"({"type":"subscribe","collections":["a\"b"]})"}) {
        SCOPED_TRACE(text);
        const auto e = refused(text);
        const auto o = parse_object(notifier::core::encode_error(e.code, e.message));
        EXPECT_EQ(o.at("type"), "error");
        EXPECT_EQ(o.at("code").as_string(), e.code);
        EXPECT_EQ(o.at("message").as_string(), e.message);
    }
}

TEST(ProtocolCodec, Pong) {
    EXPECT_EQ(notifier::core::pong_json, R"({"type":"pong"})");
    const auto o = parse_object(std::string(notifier::core::pong_json));
    EXPECT_EQ(o.at("type"), "pong");
}

// --- request references ---

TEST(ProtocolCodec, RefIsKeptAsJsonText) {
    EXPECT_EQ(ok(R"({"type":"ping","ref":"a"})").ref, R"("a")");
    EXPECT_EQ(ok(R"({"type":"ping","ref":""})").ref, R"("")");
    EXPECT_EQ(ok(R"({"type":"ping","ref":7})").ref, "7");
    EXPECT_EQ(ok(R"({"type":"ping","ref":-7})").ref, "-7");
    EXPECT_EQ(ok(R"({"type":"ping","ref":0})").ref, "0");
    EXPECT_EQ(ok(R"({"type":"ping","ref":18446744073709551615})").ref, "18446744073709551615");
    EXPECT_EQ(ok(R"({"type":"ping","ref":-9223372036854775808})").ref, "-9223372036854775808");
    EXPECT_EQ(ok(R"({"type":"ping","ref":"q\"\\\u00e9\n"})").ref, "\"q\\\"\\\\\xC3\xA9\\n\"");
    EXPECT_EQ(ok(R"({"type":"ping"})").ref, "");
    const auto sub = ok(R"({"ref":"s-1","type":"subscribe","collections":["posts"]})");
    EXPECT_EQ(sub.type, client_message::kind::subscribe);
    EXPECT_EQ(sub.collections, strings{"posts"});
    EXPECT_EQ(sub.ref, R"("s-1")");
    EXPECT_EQ(ok(R"({"type":"unsubscribe","collections":[],"ref":2})").ref, "2");
    const auto auth = ok(R"({"type":"auth","token":"t","ref":3})");
    EXPECT_EQ(auth.token, "t");
    EXPECT_EQ(auth.ref, "3");
}

TEST(ProtocolCodec, RefOfUpTo64Bytes) {
    EXPECT_EQ(ok(R"({"type":"ping","ref":")" + std::string(64, 'r') + R"("})").ref, '"' + std::string(64, 'r') + '"');
    // 32 two-byte characters: 64 bytes.
    std::string e;
    for (int i = 0; i < 32; ++i) e += "\xC3\xA9";
    EXPECT_EQ(ok(R"({"type":"ping","ref":")" + e + R"("})").ref, '"' + e + '"');
    const auto long_ref = refused(R"({"type":"ping","ref":")" + std::string(65, 'r') + R"("})");
    EXPECT_EQ(long_ref.code, "invalid_message");
    EXPECT_NE(long_ref.message.find("ref"), std::string::npos);
    EXPECT_EQ(long_ref.ref, "");
}

TEST(ProtocolCodec, InvalidRefIsRefusedWithoutEcho) {
    for (const char* text : {
             R"({"type":"ping","ref":1.5})",
             R"({"type":"ping","ref":1.0})",
             R"({"type":"ping","ref":1e2})",
             R"({"type":"ping","ref":18446744073709551616})",
             R"({"type":"ping","ref":null})",
             R"({"type":"ping","ref":true})",
             R"({"type":"ping","ref":[1]})",
             R"({"type":"ping","ref":{"a":1}})",
             R"({"type":"subscribe","collections":["bad name"],"ref":[]})",
             R"({"ref":false})",
         }) {
        SCOPED_TRACE(text);
        const auto e = refused(text);
        EXPECT_EQ(e.code, "invalid_message");
        EXPECT_EQ(e.ref, "");
    }
}

TEST(ProtocolCodec, RefusalsEchoAValidRef) {
    const std::pair<const char*, const char*> cases[] = {
        {R"({"ref":5})", "invalid_message"},
        {R"({"type":2,"ref":5})", "invalid_message"},
        {R"({"type":"subscribe","ref":5})", "invalid_message"},
        {R"({"type":"auth","ref":5})", "invalid_message"},
        {R"({"type":"publish","ref":5})", "unknown_type"},
        {R"({"type":"ping","extra":1,"ref":5})", "unknown_field"},
        {R"({"type":"subscribe","collections":["ok","not ok!"],"ref":5})", "invalid_name"},
    };
    for (const auto& [text, code] : cases) {
        SCOPED_TRACE(text);
        const auto e = refused(text);
        EXPECT_EQ(e.code, code);
        EXPECT_EQ(e.ref, "5");
    }
}

TEST(ProtocolCodec, EncodeAnswersWithRef) {
    using namespace notifier::core;
    EXPECT_EQ(encode_pong(), R"({"type":"pong"})");
    EXPECT_EQ(encode_pong("7"), R"({"type":"pong","ref":7})");
    EXPECT_EQ(encode_subscribed({"a"}, 4, R"("x")"), R"({"type":"subscribed","collections":["a"],"seq":4,"ref":"x"})");
    EXPECT_EQ(encode_subscribed({"a"}, 4), R"({"type":"subscribed","collections":["a"],"seq":4})");
    EXPECT_EQ(encode_authenticated(9, "-1"), R"({"type":"authenticated","exp":9,"ref":-1})");
    EXPECT_EQ(encode_authenticated(9), R"({"type":"authenticated","exp":9})");
    EXPECT_EQ(encode_error("c", "m", "18446744073709551615"),
              R"({"type":"error","code":"c","message":"m","ref":18446744073709551615})");
    // A string ref parsed from a frame comes back as the same string.
    const auto m = ok(R"({"type":"ping","ref":"caf\u00e9 \"1\""})");
    const auto o = parse_object(encode_pong(m.ref));
    EXPECT_EQ(o.at("ref").as_string(), "caf\xC3\xA9 \"1\"");
    const auto e = refused(R"({"type":"nope","ref":"\\"})");
    EXPECT_EQ(parse_object(encode_error(e.code, e.message, e.ref)).at("ref").as_string(), "\\");
}

}  // namespace
