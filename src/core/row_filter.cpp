// SPDX-License-Identifier: MIT
#include "core/row_filter.hpp"

#include "core/json_escape.hpp"
#include "core/json_number.hpp"
#include "core/notification_rows.hpp"
#include "core/utf8.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>

namespace notifier::core {

namespace json = boost::json;

namespace {

constexpr std::size_t max_depth = 4;
constexpr std::size_t max_part = 64;
constexpr std::size_t max_conditions = 16;

bool is_part_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// A short, printable piece of the input for an error message.
std::string excerpt(std::string_view s) {
    return std::string(quotable(s.substr(0, std::min<std::size_t>(s.size(), 80)), 80));
}

// Parses the value starting at s[i] into its canonical text; advances i
// past it. Returns an error message, or nothing.
std::optional<std::string> parse_value(std::string_view s, std::size_t& i, std::string& out) {
    std::size_t end = i;
    if (i < s.size() && s[i] == '"') {
        for (end = i + 1; end < s.size() && s[end] != '"'; ++end)
            if (s[end] == '\\') ++end;
        if (end >= s.size()) return std::string("unterminated string in filter");
        ++end;
    } else {
        while (end < s.size() && s[end] != ',') ++end;
    }
    const std::string_view token = s.substr(i, end - i);
    if (token.empty()) return std::string("missing value in filter");
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    if (space(token.front()) || space(token.back()))
        return "no spaces around a filter value: \"" + excerpt(token) + "\"";
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = 1;
    const json::value v = json::parse(token, ec, {}, opts);
    if (ec) return "invalid filter value \"" + excerpt(token) + "\": a JSON number, string, true, false or null";
    switch (v.kind()) {
        case json::kind::null: out = "null"; break;
        case json::kind::bool_: out = v.get_bool() ? "true" : "false"; break;
        case json::kind::int64: out = canonical_number(v.get_int64()); break;
        case json::kind::uint64: out = canonical_number(v.get_uint64()); break;
        case json::kind::double_: {
            // Read again with from_chars, which rounds correctly (Boost.JSON
            // 1.81 may be an ulp off for long or extreme numbers), as the
            // values of rows are (notification_rows).
            auto exact = canonical_double_text(token);
            if (!exact) return "filter number out of range: \"" + excerpt(token) + "\"";
            out = std::move(*exact);
            break;
        }
        case json::kind::string: append_json_string(out, v.get_string()); break;
        default:
            return "invalid filter value \"" + excerpt(token) + "\": a JSON number, string, true, false or null";
    }
    i = end;
    return std::nullopt;
}

}  // namespace

std::variant<row_filter, std::string> row_filter::parse(std::string_view s) {
    row_filter f;
    struct item {
        filter_condition cond;
    };
    std::vector<item> items;
    std::size_t i = 0;
    if (s.empty()) return std::string("empty filter: give at least one field=value");
    while (true) {
        if (items.size() == max_conditions) return "at most " + std::to_string(max_conditions) + " conditions per filter";
        item it;
        // path
        while (true) {
            const std::size_t start = i;
            while (i < s.size() && is_part_char(s[i])) ++i;
            const std::size_t len = i - start;
            if (len == 0 || len > max_part)
                return "invalid filter field near \"" + excerpt(s.substr(start)) +
                       "\": names of [A-Za-z0-9_-]{1,64} joined by '.'";
            it.cond.path.emplace_back(s.substr(start, len));
            if (i < s.size() && s[i] == '.') {
                if (it.cond.path.size() == max_depth) return std::string("a filter field is at most 4 levels deep");
                ++i;
                continue;
            }
            break;
        }
        for (std::size_t p = 0; p < it.cond.path.size(); ++p) {
            if (p) it.cond.field += '.';
            it.cond.field += it.cond.path[p];
        }
        if (i >= s.size() || s[i] != '=') return "expected '=' after filter field \"" + it.cond.field + "\"";
        ++i;
        if (auto err = parse_value(s, i, it.cond.value)) return std::move(*err);
        items.push_back(std::move(it));
        if (i == s.size()) break;
        if (s[i] != ',') return "expected ',' or ']' in filter near \"" + excerpt(s.substr(i)) + "\"";
        ++i;
    }
    std::sort(items.begin(), items.end(), [](const item& a, const item& b) { return a.cond.field < b.cond.field; });
    for (std::size_t k = 0; k < items.size(); ++k) {
        if (k > 0 && items[k].cond.field == f.conditions_.back().field)
            return "filter field \"" + items[k].cond.field + "\" is given twice";
        if (k > 0) f.canonical_ += ',';
        f.canonical_ += items[k].cond.field;
        f.canonical_ += '=';
        f.canonical_ += items[k].cond.value;
        f.conditions_.push_back(std::move(items[k].cond));
    }
    return f;
}

bool row_filter::holds_on(const row_side& row) const noexcept {
    for (const auto& c : conditions_) {
        const std::string* got = row.find(c.field);
        if (got && *got != c.value) return false;  // unknown fields count as holding
    }
    return true;
}

bool row_filter::matches(const notification_rows& rows) const noexcept {
    if (!rows.data.present && !rows.old.present) return true;
    for (const row_side* side : {&rows.data, &rows.old})
        if (side->present && (!side->object || holds_on(*side))) return true;
    return false;
}

}  // namespace notifier::core
