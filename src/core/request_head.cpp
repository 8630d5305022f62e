// SPDX-License-Identifier: MIT
#include "core/request_head.hpp"

#include "core/utf8.hpp"

#include <boost/url/parse.hpp>

#include <vector>

namespace notifier::core {

namespace urls = boost::urls;

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

head_refusal bad_request(std::string message) { return {400, "bad_request", std::move(message)}; }

}  // namespace

std::optional<head_refusal> check_body_framing(std::span<const std::string_view> transfer_encoding,
                                               bool has_content_length, unsigned version) {
    if (transfer_encoding.empty()) return std::nullopt;
    if (has_content_length) return bad_request("both Transfer-Encoding and Content-Length");
    if (version < 11) return bad_request("Transfer-Encoding in an HTTP/1.0 request");
    // A list in one field or spread over several (RFC 9110 section 5.3);
    // empty elements are allowed and ignored (section 5.6.1).
    std::vector<std::string_view> codings;
    for (auto value : transfer_encoding) {
        while (true) {
            const auto comma = value.find(',');
            const auto element = trim_ows(value.substr(0, comma));
            if (!element.empty()) codings.push_back(element);
            if (comma == std::string_view::npos) break;
            value.remove_prefix(comma + 1);
        }
    }
    if (codings.empty() || !iequals(codings.back(), "chunked"))
        return bad_request("the final transfer coding must be chunked");
    codings.pop_back();
    for (auto c : codings)
        if (iequals(c, "chunked")) return bad_request("chunked is applied more than once");
    if (!codings.empty())
        return head_refusal{501, "not_implemented",
                            "transfer coding \"" + std::string(quotable(codings.front(), 100)) +
                                "\" is not supported: only chunked"};
    return std::nullopt;
}

std::optional<head_refusal> check_host(std::span<const std::string_view> host, unsigned version) {
    if (host.size() > 1) return bad_request("more than one Host header field");
    if (host.empty()) {
        if (version >= 11) return bad_request("an HTTP/1.1 request needs a Host header field");
        return std::nullopt;
    }
    const auto value = trim_ows(host.front());
    if (value.empty()) return std::nullopt;  // allowed: a target without authority (RFC 9112 section 3.2)
    auto parsed = urls::parse_authority(value);
    if (!parsed || parsed->has_userinfo()) return bad_request("malformed Host header field");
    return std::nullopt;
}

std::optional<request_target> parse_request_target(std::string_view target) {
    request_target out;
    // Browsers send the '[' and ']' of a query as they are (the WHATWG URL
    // standard leaves them), which RFC 3986 does not allow there: encode
    // them, so that `/ws?collections=posts[forum_id=7]` works as typed.
    std::string encoded;
    if (const auto q = target.find('?'); q != std::string_view::npos && target.find_first_of("[]", q) != std::string_view::npos) {
        encoded.assign(target.substr(0, q));
        for (const char c : target.substr(q)) encoded += c == '[' ? "%5B" : c == ']' ? "%5D" : std::string(1, c);
        target = encoded;
    }
    if (!target.empty() && target.front() == '/') {
        auto parsed = urls::parse_origin_form(target);
        if (!parsed) return std::nullopt;
        out.path = parsed->path();
        out.query = std::string_view(parsed->encoded_query());
        out.origin_form = target;
        return out;
    }
    auto parsed = urls::parse_absolute_uri(target);
    if (!parsed) return std::nullopt;
    const auto scheme = parsed->scheme_id();
    if (scheme != urls::scheme::http && scheme != urls::scheme::https) return std::nullopt;
    // An http(s) URI needs a host and carries no credentials (RFC 9110
    // sections 4.2.1 and 4.2.4).
    if (!parsed->has_authority() || parsed->encoded_host().empty() || parsed->has_userinfo()) return std::nullopt;
    // "http://host" and "http://host?q" name the path "/" (RFC 9112 section 3.2.1).
    const std::string_view encoded_path = parsed->encoded_path();
    if (!encoded_path.empty() && encoded_path.front() != '/') return std::nullopt;
    out.path = encoded_path.empty() ? std::string("/") : parsed->path();
    out.query = std::string_view(parsed->encoded_query());
    out.origin_form = encoded_path.empty() ? std::string("/") : std::string(encoded_path);
    if (parsed->has_query()) {
        out.origin_form += '?';
        out.origin_form += out.query;
    }
    out.authority = std::string_view(parsed->encoded_host_and_port());
    return out;
}

}  // namespace notifier::core
