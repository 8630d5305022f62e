// SPDX-License-Identifier: MIT
#include "core/publish_request.hpp"

#include "core/json_spans.hpp"
#include "core/utf8.hpp"

#include <boost/json/parse.hpp>
#include <optional>
#include <boost/json/value.hpp>

namespace notifier::core {

namespace json = boost::json;

namespace {

std::string where(std::size_t index, bool batch) {
    return batch ? "notification " + std::to_string(index) + ": " : std::string();
}

// `raw` is the publisher's text of `v`: `data` is taken from it as written.
std::variant<notification, publish_error> to_notification(const json::value& v, std::string_view raw,
                                                          std::size_t index, bool batch) {
    const auto at = where(index, batch);
    const auto* obj = v.if_object();
    if (!obj) return publish_error{"invalid_notification", at + "a notification must be a JSON object"};
    // The parsed object keeps its members in the order written, one per
    // key: the spans line up with it unless a key was repeated.
    const auto spans = json_object_members(raw);
    if (spans.size() != obj->size())
        return publish_error{"invalid_notification", at + "a field is given more than once"};
    notification n;
    bool has_collection = false, has_action = false;
    std::size_t member = 0;
    for (const auto& kv : *obj) {
        const auto& span = spans[member++];
        const std::string_view key = kv.key();
        const json::value& val = kv.value();
        if (key == "collection" || key == "action") {
            const auto* s = val.if_string();
            if (!s) return publish_error{"invalid_notification", at + "\"" + std::string(key) + "\" must be a string"};
            if (key == "collection") {
                if (!is_valid_collection(*s))
                    return publish_error{"invalid_name", at + "\"collection\" must match [A-Za-z0-9_.:-]{1,128}"};
                n.collection = *s;
                has_collection = true;
            } else {
                if (!is_valid_action(*s))
                    return publish_error{"invalid_name", at + "\"action\" must match [A-Za-z0-9_.:-]{1,64}"};
                n.action = *s;
                has_action = true;
            }
        } else if (key == "id") {
            if (const auto* s = val.if_string()) {
                if (!is_valid_id(*s))
                    return publish_error{"invalid_name", at + "\"id\" must be 1 to 256 bytes"};
                n.id = std::string(*s);
            } else if (val.is_int64()) {
                n.id = std::to_string(val.get_int64());
            } else if (val.is_uint64()) {
                n.id = std::to_string(val.get_uint64());
            } else {
                return publish_error{"invalid_notification", at + "\"id\" must be a string or an integer"};
            }
        } else if (key == "data") {
            n.data = std::string(span.value);  // the publisher's bytes, not a re-serialization
        } else if (key == "old") {
            if (!val.is_object())
                return publish_error{"invalid_notification", at + "\"old\" must be a JSON object"};
            n.old = std::string(span.value);
        } else {
            return publish_error{"unknown_field", at + "unknown field \"" + std::string(quotable(key, 100)) + "\""};
        }
    }
    if (!has_collection) return publish_error{"invalid_notification", at + "missing \"collection\""};
    if (!has_action) return publish_error{"invalid_notification", at + "missing \"action\""};
    return n;
}

}  // namespace

std::variant<std::vector<notification>, publish_error> parse_publish_request(std::string_view body) {
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = 64;
    json::value v = json::parse(body, ec, {}, opts);
    if (ec) return publish_error{"invalid_json", "body is not valid JSON: " + ec.message()};
    std::vector<notification> out;
    auto add = [&](const json::value& e, std::string_view raw, std::size_t i,
                   bool batch) -> std::optional<publish_error> {
        auto r = to_notification(e, raw, i, batch);
        if (auto* err = std::get_if<publish_error>(&r)) return std::move(*err);
        out.push_back(std::move(std::get<notification>(r)));
        return std::nullopt;
    };
    if (const auto* arr = v.if_array()) {
        if (arr->empty()) return publish_error{"empty_batch", "the array holds no notification"};
        const auto raws = json_array_elements(body);
        if (raws.size() != arr->size()) return publish_error{"invalid_json", "the array could not be split"};
        out.reserve(arr->size());
        for (std::size_t i = 0; i < arr->size(); ++i)
            if (auto err = add((*arr)[i], raws[i], i, true)) return std::move(*err);
    } else if (auto err = add(v, body, 0, false)) {
        return std::move(*err);
    }
    return out;
}

}  // namespace notifier::core
