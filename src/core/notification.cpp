// SPDX-License-Identifier: MIT
#include <notifier/errors.hpp>
#include <notifier/notification.hpp>
#include <notifier/publication.hpp>

#include "core/build_notification.hpp"
#include "core/json_escape.hpp"
#include "core/utf8.hpp"
#include "core/ws_frame.hpp"

#include <array>
#include <charconv>

namespace notifier {

namespace {

constexpr auto name_chars = [] {
    std::array<bool, 256> t{};
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    t['_'] = t['.'] = t[':'] = t['-'] = true;
    return t;
}();

bool is_name(std::string_view s, std::size_t max) noexcept {
    if (s.empty() || s.size() > max) return false;
    bool ok = true;
    for (const char c : s) ok &= name_chars[static_cast<unsigned char>(c)];
    return ok;
}

}  // namespace

bool is_valid_collection(std::string_view s) noexcept { return is_name(s, 128); }
bool is_valid_action(std::string_view s) noexcept { return is_name(s, 64); }
bool is_valid_id(std::string_view s) noexcept {
    return !s.empty() && s.size() <= 256 && core::is_valid_utf8(s);
}

std::error_code validate_fields(std::string_view collection, std::string_view action,
                                std::optional<std::string_view> id, std::optional<std::string_view> data_json) noexcept {
    if (!is_valid_collection(collection)) return errc::invalid_collection;
    if (!is_valid_action(action)) return errc::invalid_action;
    if (id && !is_valid_id(*id)) return errc::invalid_id;
    if (data_json && !is_valid_json(*data_json)) return errc::invalid_data;
    return {};
}

notification make_notification(std::string_view collection, std::string_view action,
                               std::optional<std::string_view> id, std::optional<std::string_view> data_json) {
    notification n;
    n.collection = collection;
    n.action = action;
    if (id) n.id.emplace(*id);
    if (data_json) n.data.emplace(*data_json);
    return n;
}

std::error_code build_notification(std::string_view collection, std::string_view action,
                                   std::optional<std::string_view> id, std::optional<std::string_view> data_json,
                                   notification& out) {
    if (auto ec = validate_fields(collection, action, id, data_json)) return ec;
    out = make_notification(collection, action, id, data_json);
    return {};
}

std::error_code validate(const notification& n) noexcept {
    if (!is_valid_collection(n.collection)) return errc::invalid_collection;
    if (!is_valid_action(n.action)) return errc::invalid_action;
    if (n.id && !is_valid_id(*n.id)) return errc::invalid_id;
    if (n.data && !is_valid_json(*n.data)) return errc::invalid_data;
    if (n.old && !is_valid_json_object(*n.old)) return errc::invalid_old;
    return {};
}

bool is_valid_json_object(std::string_view s) noexcept {
    const auto first = s.find_first_not_of(" \t\r\n");
    return first != std::string_view::npos && s[first] == '{' && is_valid_json(s);
}

namespace {

void append_body(std::string& json, const notification& n) {
    json += "\"collection\":\"";
    json += n.collection;  // validated: nothing to escape
    json += "\",\"action\":\"";
    json += n.action;
    json.push_back('"');
    if (n.id) {
        json += ",\"id\":";
        core::append_json_string(json, *n.id);
    }
    if (n.data) {
        json += ",\"data\":";
        json += *n.data;
    } else if (n.data_omitted) {
        json += ",\"data_omitted\":true";
    }
    if (n.old) {
        json += ",\"old\":";
        json += *n.old;
    }
    json.push_back('}');
}

}  // namespace

std::string notification_json_body(const notification& n) {
    std::string body;
    append_body(body, n);
    return body;
}

std::string_view publication::sse_tail() const {
    std::call_once(sse_once_, [this] {
        const auto text = json();
        std::string out;
        out.reserve(text.size() + 32);
        out += ':';
        out += std::to_string(seq);
        out += "\ndata: ";
        // Line breaks can only be whitespace between JSON tokens (a string
        // cannot hold one raw): each starts another data line, which the
        // client joins back with "\n" (a CR arrives as LF: the same JSON).
        for (std::size_t i = 0; i < text.size(); ++i) {
            const char c = text[i];
            if (c != '\r' && c != '\n') {
                out += c;
                continue;
            }
            if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
            out += "\ndata: ";
        }
        out += "\n\n";
        sse_tail_ = std::move(out);
    });
    return sse_tail_;
}

publication_ptr make_publication_from_json(std::uint64_t seq, std::string_view collection, std::string_view id,
                                           std::string_view json) {
    auto pub = std::make_shared<publication>();
    pub->seq = seq;
    pub->collection = collection;
    pub->id = id;
    char header[core::max_frame_header];
    pub->header_size = core::encode_frame_header(header, core::ws_opcode::text, json.size());
    pub->frame.reserve(pub->header_size + json.size());
    pub->frame.append(header, pub->header_size);
    pub->frame.append(json);
    return pub;
}

publication_ptr make_publication(std::uint64_t seq, const notification& n) {
    // JSON first (its length decides the frame header), then one allocation
    // for the frame that every recipient will share.
    thread_local std::string json;
    json.clear();
    json += "{\"seq\":";
    char num[24];
    const auto r = std::to_chars(num, num + sizeof num, seq);
    json.append(num, r.ptr);
    json.push_back(',');
    append_body(json, n);
    return make_publication_from_json(seq, n.collection, n.id ? std::string_view(*n.id) : std::string_view(), json);
}

}  // namespace notifier
