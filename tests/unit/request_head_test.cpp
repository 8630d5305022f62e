// SPDX-License-Identifier: MIT
// What the HTTP session settles on a request head before reading its body:
// the body framing (RFC 9112 section 6), Host (section 3.2) and the target
// (sections 3.2.1 and 3.2.2).

#include "core/request_head.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace {

using notifier::core::check_body_framing;
using notifier::core::check_host;
using notifier::core::parse_request_target;
using views = std::vector<std::string_view>;

// "ok", or "<status> <code>".
std::string framing(views te, bool content_length = false, unsigned version = 11) {
    const auto r = check_body_framing(te, content_length, version);
    if (!r) return "ok";
    EXPECT_FALSE(r->message.empty());
    return std::to_string(r->status) + " " + std::string(r->code);
}

std::string host(views values, unsigned version = 11) {
    const auto r = check_host(values, version);
    if (!r) return "ok";
    EXPECT_FALSE(r->message.empty());
    return std::to_string(r->status) + " " + std::string(r->code);
}

TEST(BodyFraming, NoTransferEncodingIsLeftToContentLength) {
    EXPECT_EQ(framing({}), "ok");
    EXPECT_EQ(framing({}, true), "ok");
    EXPECT_EQ(framing({}, true, 10), "ok");
}

TEST(BodyFraming, ChunkedAloneIsRead) {
    for (std::string_view v : {"chunked", "Chunked", "CHUNKED", " chunked ", "chunked,", ", chunked", ",,chunked, ,"})
        EXPECT_EQ(framing({v}), "ok") << v;
    // A list may be spread over several fields.
    EXPECT_EQ(framing({"", "chunked"}), "ok");
}

TEST(BodyFraming, AListThatDoesNotEndInChunkedIs400) {
    // The smuggling case: Beast frames "chunked, identity" as no body at
    // all, so the body would be read as the next request.
    EXPECT_EQ(framing({"chunked, identity"}), "400 bad_request");
    EXPECT_EQ(framing({"chunked", "identity"}), "400 bad_request");
    EXPECT_EQ(framing({"identity"}), "400 bad_request");
    EXPECT_EQ(framing({"gzip"}), "400 bad_request");
    EXPECT_EQ(framing({"chunkedx"}), "400 bad_request");
    EXPECT_EQ(framing({"chunked;x=1"}), "400 bad_request");
    EXPECT_EQ(framing({""}), "400 bad_request");
    EXPECT_EQ(framing({" , "}), "400 bad_request");
}

TEST(BodyFraming, ACodingBesidesChunkedIs501) {
    EXPECT_EQ(framing({"gzip, chunked"}), "501 not_implemented");
    EXPECT_EQ(framing({"gzip", "chunked"}), "501 not_implemented");
    EXPECT_EQ(framing({"identity, chunked"}), "501 not_implemented");
    EXPECT_EQ(framing({"deflate,gzip,chunked"}), "501 not_implemented");
}

TEST(BodyFraming, ChunkedTwiceIs400) {
    EXPECT_EQ(framing({"chunked, chunked"}), "400 bad_request");
    EXPECT_EQ(framing({"chunked", "chunked"}), "400 bad_request");
    EXPECT_EQ(framing({"gzip, chunked, chunked"}), "400 bad_request");
}

TEST(BodyFraming, WithContentLengthIs400) {
    EXPECT_EQ(framing({"chunked"}, true), "400 bad_request");
    EXPECT_EQ(framing({"gzip, chunked"}, true), "400 bad_request");
    EXPECT_EQ(framing({"chunked, identity"}, true), "400 bad_request");
}

TEST(BodyFraming, InHttp10Is400) {
    EXPECT_EQ(framing({"chunked"}, false, 10), "400 bad_request");
}

TEST(BodyFraming, TheMessageQuotesOnlyValidUtf8) {
    const auto r = check_body_framing(views{"\xff\xfe, chunked"}, false, 11);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 501u);
    EXPECT_EQ(r->message.find('\xff'), std::string::npos) << r->message;
}

TEST(Host, Http11NeedsExactlyOne) {
    EXPECT_EQ(host({"example.com"}), "ok");
    EXPECT_EQ(host({"127.0.0.1:8080"}), "ok");
    EXPECT_EQ(host({"[::1]:8080"}), "ok");
    EXPECT_EQ(host({""}), "ok");  // a target without authority
    EXPECT_EQ(host({}), "400 bad_request");
    EXPECT_EQ(host({"a", "a"}), "400 bad_request");
    EXPECT_EQ(host({"a", "b"}), "400 bad_request");
}

TEST(Host, Http10MayLeaveItOut) {
    EXPECT_EQ(host({}, 10), "ok");
    EXPECT_EQ(host({"example.com"}, 10), "ok");
    EXPECT_EQ(host({"a", "b"}, 10), "400 bad_request");
}

TEST(Host, AMalformedValueIs400) {
    for (std::string_view v : {"user@example.com", "a b", "example.com:80:80", "[::1", "exa%mple.com", "a/b"})
        EXPECT_EQ(host({v}), "400 bad_request") << v;
}

// An accepted target and the parts the session routes by.
struct target_case {
    const char *name, *text;
    const char *path, *query, *origin_form, *authority;
};

class RequestTargetParts : public ::testing::TestWithParam<target_case> {};

TEST_P(RequestTargetParts, Parts) {
    const auto& c = GetParam();
    const auto t = parse_request_target(c.text);
    ASSERT_TRUE(t);
    EXPECT_EQ(std::tie(t->path, t->query, t->origin_form, t->authority),
              std::tie(c.path, c.query, c.origin_form, c.authority));
}

INSTANTIATE_TEST_SUITE_P(
    RequestTarget, RequestTargetParts,
    ::testing::Values(
        target_case{"OriginForm", "/ws?collections=a,b&since=3", "/ws", "collections=a,b&since=3",
                    "/ws?collections=a,b&since=3", ""},
        target_case{"OriginFormDecoded", "/a%20b", "/a b", "", "/a%20b", ""},
        // Brackets in the query as browsers send them.
        target_case{"BracketsInTheQueryAsBrowsersSendThem", "/ws?collections=posts[forum_id=7],forums", "/ws",
                    "collections=posts%5Bforum_id=7%5D,forums", "/ws?collections=posts%5Bforum_id=7%5D,forums", ""},
        // Absolute form uses its path, query and authority.
        target_case{"AbsoluteForm", "http://127.0.0.1:8080/healthz", "/healthz", "", "/healthz", "127.0.0.1:8080"},
        target_case{"AbsoluteFormAnyCaseScheme", "HTTPS://Example.com/ws?collections=posts%2F7", "/ws",
                    "collections=posts%2F7", "/ws?collections=posts%2F7", "Example.com"},
        target_case{"AbsoluteFormIpv6", "http://[::1]:9/x", "/x", "", "/x", "[::1]:9"},
        // Absolute form without a path names the root.
        target_case{"AbsoluteFormWithoutPathNamesTheRoot", "http://example.com", "/", "", "/", "example.com"},
        target_case{"AbsoluteFormWithoutPathWithQuery", "http://example.com?a=1", "/", "a=1", "/?a=1", "example.com"}),
    [](const ::testing::TestParamInfo<target_case>& info) { return std::string(info.param.name); });

TEST(RequestTarget, BracketsInThePathStayRefused) { EXPECT_FALSE(parse_request_target("/w[s")); }

TEST(RequestTarget, OtherFormsAreRefused) {
    for (std::string_view t : {"", "*", "example.com:443", "healthz", "ftp://example.com/x", "ws://example.com/ws",
                               "http:/healthz", "http:///healthz", "http://user:pw@example.com/", "http://example.com/#f",
                               "/a#f", "/a b", "http://exa mple.com/"})
        EXPECT_FALSE(parse_request_target(t)) << t;
}

}  // namespace
