// SPDX-License-Identifier: MIT
#include "core/upgrade_request.hpp"

#include "core/topic.hpp"
#include "core/utf8.hpp"

#include <boost/url/parse.hpp>

#include <charconv>
#include <vector>

namespace notifier::core {

namespace {

// RFC 6750 section 2.1; the scheme name is case-insensitive (RFC 9110
// section 11.1).
std::string_view bearer_credentials(std::string_view authorization) {
    static constexpr std::string_view scheme = "bearer ";
    if (authorization.size() <= scheme.size()) return {};
    for (std::size_t i = 0; i < scheme.size(); ++i) {
        char c = authorization[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != scheme[i]) return {};
    }
    return authorization.substr(scheme.size());
}

upgrade_error invalid_query(std::string message) { return {400, "invalid_query", std::move(message)}; }

// The entries of a decoded `collections` value: split at the commas that
// are not inside a filter's brackets (outside its quoted strings, too), so
// that "posts[forum_id=7,pinned=true],forums" is two entries. An entry
// whose '/' comes before any '[' names a record and ends at the next comma.
std::vector<std::string_view> split_entries(std::string_view v) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    bool record = false, filter = false, quoted = false;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const char c = v[i];
        if (quoted) {
            if (c == '\\') ++i;
            else if (c == '"') quoted = false;
        } else if (filter) {
            if (c == '"') quoted = true;
            else if (c == ']') filter = false;
        } else if (c == ',') {
            out.push_back(v.substr(start, i - start));
            start = i + 1;
            record = false;
        } else if (!record && c == '/') {
            record = true;
        } else if (!record && c == '[') {
            filter = true;
        }
    }
    out.push_back(v.substr(start));
    return out;
}

}  // namespace

std::variant<upgrade_request, upgrade_error> parse_upgrade_request(std::string_view target,
                                                                   std::string_view authorization,
                                                                   std::size_t max_subscriptions) {
    upgrade_request out;
    auto parsed = boost::urls::parse_origin_form(target);
    if (!parsed) return invalid_query("malformed query string");
    // A "+" is itself, not a space: this is no HTML form, and filter values may hold one.
    for (auto p : parsed->params(boost::urls::encoding_opts{})) {
        if (p.key == "collections") {
            out.implicit_all = false;
            std::string_view v = p.value;
            if (v.empty()) continue;  // explicitly nothing: subscribe later
            for (const auto entry : split_entries(v)) {
                auto t = parse_entry(entry);
                if (auto* err = std::get_if<std::string>(&t)) return upgrade_error{400, "invalid_name", std::move(*err)};
                out.topics.emplace_back(entry);
            }
            if (out.topics.size() > max_subscriptions)
                return upgrade_error{400, "too_many_subscriptions",
                                     "at most " + std::to_string(max_subscriptions) + " subscriptions"};
        } else if (p.key == "since") {
            const std::string_view v = p.value;
            std::uint64_t n = 0;
            auto r = std::from_chars(v.data(), v.data() + v.size(), n);
            if (v.empty() || r.ec != std::errc{} || r.ptr != v.data() + v.size())
                return invalid_query("since must be a non-negative integer");
            out.resume.since = n;
            out.resume.requested = true;
        } else if (p.key == "epoch") {
            out.resume.epoch = p.value;
        } else if (p.key == "token") {
            out.token = p.value;
        }
        // Other parameters (cache busters and the like) are ignored.
    }
    if (out.token.empty()) out.token = bearer_credentials(authorization);
    return out;
}

}  // namespace notifier::core
