// SPDX-License-Identifier: MIT
#pragma once
// Checks on an HTTP/1.1 request head that must be settled before a byte of
// the body is read (RFC 9112): where the body ends, whose host the request
// names, and which path its target names. Beast frames the body from
// Transfer-Encoding and Content-Length but lets through framings that another
// parser in front of us could read differently (request smuggling); these
// checks refuse them first. Pure: unit-tested and fuzzed without sockets.

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace notifier::core {

/// A request refused from its head alone: answered with `status` and
/// `{"error":code,"message":message}`, then the connection is closed (what
/// follows the head cannot be told apart from a next request).
struct head_refusal {
    unsigned status = 400;
    std::string_view code;  ///< bad_request or not_implemented
    std::string message;
};

/// The body framing of a request (RFC 9112 section 6): the values of its
/// Transfer-Encoding fields in order, whether it has a Content-Length field,
/// and its version (10 for HTTP/1.0, 11 for HTTP/1.1). nullopt: Beast reads
/// the body as the request says (chunked, a Content-Length, or none).
///
/// * Transfer-Encoding and Content-Length together: 400 (section 6.3, 3).
/// * Transfer-Encoding in HTTP/1.0: 400 (section 6.1: its framing is faulty).
/// * A list that does not end in `chunked`: 400 (section 6.3, 4).
/// * Any coding besides the final `chunked`: 501 (section 6.1; we decode no
///   other coding), or 400 for `chunked` given twice (section 7.1).
std::optional<head_refusal> check_body_framing(std::span<const std::string_view> transfer_encoding,
                                               bool has_content_length, unsigned version);

/// The Host fields of a request (RFC 9112 section 3.2): an HTTP/1.1 request
/// without one, any request with more than one, and a value that is not
/// `host[:port]` are refused with 400. HTTP/1.0 without Host is fine.
std::optional<head_refusal> check_host(std::span<const std::string_view> host, unsigned version);

/// A request target in origin-form (`/path?query`, RFC 9112 section 3.2.1)
/// or absolute-form (`http://host:port/path?query`, section 3.2.2, schemes
/// http and https).
struct request_target {
    /// Percent-decoded; "/" for an absolute-form target without a path.
    std::string path;
    /// Encoded, without the '?'; empty when there is none.
    std::string query;
    /// The target as origin-form (encoded path and query), for parsers of
    /// the query.
    std::string origin_form;
    /// `host[:port]` of an absolute-form target, which stands in for the
    /// Host field (section 3.2.2); empty for origin-form.
    std::string authority;
};

/// nullopt for anything else: authority-form, asterisk-form, another scheme,
/// userinfo, a fragment, a malformed target.
std::optional<request_target> parse_request_target(std::string_view target);

}  // namespace notifier::core
