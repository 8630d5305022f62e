// SPDX-License-Identifier: MIT
// What the HTTP session settles on a request head before reading its body:
// the body framing (RFC 9112 section 6), Host (section 3.2) and the target
// (sections 3.2.1 and 3.2.2).

#include "core/request_head.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
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

TEST(RequestTarget, OriginForm) {
    const auto t = parse_request_target("/ws?collections=a,b&since=3");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->path, "/ws");
    EXPECT_EQ(t->query, "collections=a,b&since=3");
    EXPECT_EQ(t->origin_form, "/ws?collections=a,b&since=3");
    EXPECT_EQ(t->authority, "");
    const auto decoded = parse_request_target("/a%20b");
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->path, "/a b");
    EXPECT_EQ(decoded->origin_form, "/a%20b");
}

TEST(RequestTarget, BracketsInTheQueryAsBrowsersSendThem) {
    const auto t = parse_request_target("/ws?collections=posts[forum_id=7],forums");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->path, "/ws");
    EXPECT_EQ(t->origin_form, "/ws?collections=posts%5Bforum_id=7%5D,forums");
    EXPECT_FALSE(parse_request_target("/w[s"));  // in the path they stay refused
}

TEST(RequestTarget, AbsoluteFormUsesItsPathQueryAndAuthority) {
    const auto t = parse_request_target("http://127.0.0.1:8080/healthz");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->path, "/healthz");
    EXPECT_EQ(t->query, "");
    EXPECT_EQ(t->origin_form, "/healthz");
    EXPECT_EQ(t->authority, "127.0.0.1:8080");

    const auto q = parse_request_target("HTTPS://Example.com/ws?collections=posts%2F7");
    ASSERT_TRUE(q);
    EXPECT_EQ(q->path, "/ws");
    EXPECT_EQ(q->query, "collections=posts%2F7");
    EXPECT_EQ(q->origin_form, "/ws?collections=posts%2F7");
    EXPECT_EQ(q->authority, "Example.com");

    const auto v6 = parse_request_target("http://[::1]:9/x");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->authority, "[::1]:9");
}

TEST(RequestTarget, AbsoluteFormWithoutPathNamesTheRoot) {
    const auto t = parse_request_target("http://example.com");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->path, "/");
    EXPECT_EQ(t->origin_form, "/");
    const auto q = parse_request_target("http://example.com?a=1");
    ASSERT_TRUE(q);
    EXPECT_EQ(q->path, "/");
    EXPECT_EQ(q->query, "a=1");
    EXPECT_EQ(q->origin_form, "/?a=1");
}

TEST(RequestTarget, OtherFormsAreRefused) {
    for (std::string_view t : {"", "*", "example.com:443", "healthz", "ftp://example.com/x", "ws://example.com/ws",
                               "http:/healthz", "http:///healthz", "http://user:pw@example.com/", "http://example.com/#f",
                               "/a#f", "/a b", "http://exa mple.com/"})
        EXPECT_FALSE(parse_request_target(t)) << t;
}

}  // namespace
