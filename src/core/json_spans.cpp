// SPDX-License-Identifier: MIT
#include "core/json_spans.hpp"

namespace notifier::core {

namespace {

bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_ws(std::string_view s, std::size_t i) noexcept {
    while (i < s.size() && is_ws(s[i])) ++i;
    return i;
}

// `i` is at an opening quote; returns the index after the closing one.
std::size_t string_end(std::string_view s, std::size_t i) noexcept {
    for (++i; i < s.size(); ++i) {
        if (s[i] == '\\') ++i;
        else if (s[i] == '"') return i + 1;
    }
    return s.size();
}

// `i` is at the first byte of a value; returns the index after its last.
// The text is valid JSON, so brackets balance and only strings need care.
std::size_t value_end(std::string_view s, std::size_t i) noexcept {
    if (i >= s.size()) return i;
    const char c = s[i];
    if (c == '"') return string_end(s, i);
    if (c == '{' || c == '[') {
        std::size_t depth = 0;
        while (i < s.size()) {
            const char d = s[i];
            if (d == '"') {
                i = string_end(s, i);
                continue;
            }
            if (d == '{' || d == '[') ++depth;
            else if ((d == '}' || d == ']') && --depth == 0) return i + 1;
            ++i;
        }
        return i;
    }
    // A number or a literal: up to the next delimiter.
    while (i < s.size() && !is_ws(s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']') ++i;
    return i;
}

}  // namespace

std::string_view trim_json_whitespace(std::string_view text) noexcept {
    std::size_t b = 0, e = text.size();
    while (b < e && is_ws(text[b])) ++b;
    while (e > b && is_ws(text[e - 1])) --e;
    return text.substr(b, e - b);
}

std::vector<json_member_span> json_object_members(std::string_view text) {
    std::vector<json_member_span> out;
    const std::string_view s = trim_json_whitespace(text);
    if (s.empty() || s.front() != '{') return out;
    std::size_t i = skip_ws(s, 1);
    while (i < s.size() && s[i] == '"') {
        const std::size_t key_end = string_end(s, i);
        const std::string_view key = s.substr(i, key_end - i);
        i = skip_ws(s, key_end);
        if (i >= s.size() || s[i] != ':') break;
        const std::size_t value_begin = skip_ws(s, i + 1);
        const std::size_t end = value_end(s, value_begin);
        out.push_back({key, s.substr(value_begin, end - value_begin)});
        i = skip_ws(s, end);
        if (i >= s.size() || s[i] != ',') break;
        i = skip_ws(s, i + 1);
    }
    return out;
}

std::vector<std::string_view> json_array_elements(std::string_view text) {
    std::vector<std::string_view> out;
    const std::string_view s = trim_json_whitespace(text);
    if (s.empty() || s.front() != '[') return out;
    std::size_t i = skip_ws(s, 1);
    while (i < s.size() && s[i] != ']') {
        const std::size_t end = value_end(s, i);
        if (end == i) break;
        out.push_back(s.substr(i, end - i));
        i = skip_ws(s, end);
        if (i >= s.size() || s[i] != ',') break;
        i = skip_ws(s, i + 1);
    }
    return out;
}

}  // namespace notifier::core
