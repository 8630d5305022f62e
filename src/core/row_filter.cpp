// SPDX-License-Identifier: MIT
#include "core/row_filter.hpp"

#include "core/json_escape.hpp"
#include "core/utf8.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

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

// An integral value within int64's exact range is written as an integer,
// anything else in its shortest round-trip form.
std::string canonical_number(double d) {
    if (std::trunc(d) == d && std::fabs(d) < 9.2e18) return std::to_string(static_cast<std::int64_t>(d));
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, d);
    return std::string(buf, r.ptr);
}

long double number_of(const json::value& v) noexcept {
    if (v.is_int64()) return static_cast<long double>(v.get_int64());
    if (v.is_uint64()) return static_cast<long double>(v.get_uint64());
    return static_cast<long double>(v.get_double());
}

// Parses the value starting at s[i]; advances i past it.
std::variant<filter_value, std::string> parse_value(std::string_view s, std::size_t& i, std::string& canonical) {
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
    if (token.front() == ' ' || token.back() == ' ' || token.front() == '\t' || token.back() == '\t')
        return "no spaces around a filter value: \"" + excerpt(token) + "\"";
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = 1;
    const json::value v = json::parse(token, ec, {}, opts);
    if (ec) return "invalid filter value \"" + excerpt(token) + "\": a JSON number, string, true, false or null";
    filter_value out;
    switch (v.kind()) {
        case json::kind::null:
            out.type = filter_value::kind::null;
            canonical += "null";
            break;
        case json::kind::bool_:
            out.type = filter_value::kind::boolean;
            out.boolean = v.get_bool();
            canonical += out.boolean ? "true" : "false";
            break;
        case json::kind::int64:
        case json::kind::uint64:
            out.type = filter_value::kind::number;
            out.number = number_of(v);
            canonical += v.is_int64() ? std::to_string(v.get_int64()) : std::to_string(v.get_uint64());
            break;
        case json::kind::double_: {
            // Read again with from_chars, which rounds correctly (Boost.JSON
            // 1.81 may be an ulp off for long or extreme numbers), so that
            // the shortest spelling written below reads back as this value
            // and the canonical form is its own canonical form.
            double d = 0;
            const auto r = std::from_chars(token.data(), token.data() + token.size(), d);
            if (r.ec != std::errc{} || r.ptr != token.data() + token.size() || !std::isfinite(d))
                return "filter number out of range: \"" + excerpt(token) + "\"";
            out.type = filter_value::kind::number;
            out.number = d;
            canonical += canonical_number(d);
            break;
        }
        case json::kind::string:
            out.type = filter_value::kind::string;
            out.text = std::string(v.get_string());
            append_json_string(canonical, out.text);
            break;
        default:
            return "invalid filter value \"" + excerpt(token) + "\": a JSON number, string, true, false or null";
    }
    i = end;
    return out;
}

bool equals(const filter_value& want, const json::value& got) noexcept {
    switch (want.type) {
        case filter_value::kind::null: return got.is_null();
        case filter_value::kind::boolean: return got.is_bool() && got.get_bool() == want.boolean;
        case filter_value::kind::string: return got.is_string() && std::string_view(got.get_string()) == want.text;
        case filter_value::kind::number:
            if (!got.is_number()) return false;
            // long double holds every int64, uint64 and double exactly.
            return number_of(got) == want.number;
    }
    return false;
}

}  // namespace

std::variant<row_filter, std::string> row_filter::parse(std::string_view s) {
    row_filter f;
    struct item {
        filter_condition cond;
        std::string canonical_value;
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
        auto v = parse_value(s, i, it.canonical_value);
        if (auto* err = std::get_if<std::string>(&v)) return std::move(*err);
        it.cond.value = std::move(std::get<filter_value>(v));
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
        f.canonical_ += items[k].canonical_value;
        f.conditions_.push_back(std::move(items[k].cond));
    }
    return f;
}

bool row_filter::holds_on(const json::object& row) const {
    for (const auto& c : conditions_) {
        const json::object* at = &row;
        const json::value* found = nullptr;
        for (std::size_t p = 0; p < c.path.size(); ++p) {
            found = at->if_contains(c.path[p]);
            if (!found) break;
            if (p + 1 < c.path.size()) {
                at = found->if_object();
                if (!at) {
                    found = nullptr;
                    break;
                }
            }
        }
        if (found && !equals(c.value, *found)) return false;  // unknown fields count as holding
    }
    return true;
}

bool row_filter::matches(const json::value* data, const json::value* old) const {
    if (!data && !old) return true;
    for (const json::value* side : {data, old}) {
        if (!side) continue;
        const auto* obj = side->if_object();
        if (!obj || holds_on(*obj)) return true;
    }
    return false;
}

std::variant<filtered_entry, std::string> parse_filtered_entry(std::string_view entry) {
    filtered_entry out;
    const auto open = entry.find('[');
    if (open == std::string_view::npos) {
        out.collection = entry;
        out.canonical = std::string(entry);
        return out;
    }
    if (entry.back() != ']') return std::string("a filter ends with ']'");
    out.collection = entry.substr(0, open);
    auto f = row_filter::parse(entry.substr(open + 1, entry.size() - open - 2));
    if (auto* err = std::get_if<std::string>(&f)) return std::move(*err);
    out.filter = std::move(std::get<row_filter>(f));
    out.canonical = std::string(out.collection) + "[" + out.filter->canonical() + "]";
    return out;
}

}  // namespace notifier::core
