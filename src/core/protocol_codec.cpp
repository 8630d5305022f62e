// SPDX-License-Identifier: MIT
#include "core/error_json.hpp"
#include "core/protocol_codec.hpp"

#include "core/json_escape.hpp"
#include "core/topic.hpp"
#include "core/utf8.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <optional>

namespace notifier::core {

namespace json = boost::json;

namespace {

// A client's `ref` as JSON text: a string of at most max_ref_bytes (the
// frame is valid UTF-8, so the string is too) or an integer. False when it
// is anything else.
bool read_ref(const json::value& v, std::string& out) {
    if (const auto* s = v.if_string()) {
        if (s->size() > max_ref_bytes) return false;
        append_json_string(out, *s);
        return true;
    }
    if (const auto* i = v.if_int64()) {
        out = std::to_string(*i);
        return true;
    }
    if (const auto* u = v.if_uint64()) {
        out = std::to_string(*u);
        return true;
    }
    return false;  // 1.5, 1e3, an integer beyond 64 bits (parsed as a double), null, …
}

void append_ref(std::string& s, std::string_view ref) {
    if (ref.empty()) return;
    s += ",\"ref\":";
    s += ref;
}

}  // namespace

std::variant<client_message, protocol_error> parse_client_message(std::string_view text) {
    boost::system::error_code ec;
    // Client frames are small (max_message_bytes); a stack-first resource
    // avoids heap traffic for the common case.
    std::array<unsigned char, 1024> stack;
    json::monotonic_resource mr(stack.data(), stack.size());
    json::parse_options opts;
    opts.max_depth = 16;
    json::value v = json::parse(text, ec, &mr, opts);
    if (ec) return protocol_error{"invalid_json", "frame is not valid JSON: " + ec.message(), {}};
    const auto* obj = v.if_object();
    if (!obj) return protocol_error{"invalid_json", "frame must be a JSON object", {}};

    // The ref first: every later refusal echoes it.
    std::string ref;
    if (const auto* r = obj->if_contains("ref"); r && !read_ref(*r, ref))
        return protocol_error{"invalid_message",
                              "\"ref\" must be a string of at most " + std::to_string(max_ref_bytes) +
                                  " bytes or an integer",
                              {}};
    auto fail = [&ref](std::string code, std::string message) {
        return protocol_error{std::move(code), std::move(message), ref};
    };
    auto unknown_field = [&](std::initializer_list<std::string_view> known) -> std::optional<protocol_error> {
        for (const auto& kv : *obj) {
            if (kv.key() == "type" || kv.key() == "ref") continue;
            if (std::find(known.begin(), known.end(), kv.key()) != known.end()) continue;
            return fail("unknown_field", "unknown field \"" + std::string(quotable(kv.key(), 100)) + "\"");
        }
        return std::nullopt;
    };

    const auto* type = obj->if_contains("type");
    if (!type) return fail("invalid_message", "missing \"type\"");
    if (!type->is_string()) return fail("invalid_message", "\"type\" must be a string");
    const std::string_view t = type->get_string();

    client_message msg;
    msg.ref = ref;
    if (t == "ping") {
        if (auto err = unknown_field({})) return *err;
        msg.type = client_message::kind::ping;
        return msg;
    }
    if (t == "auth") {
        if (auto err = unknown_field({"token"})) return *err;
        const auto* tok = obj->if_contains("token");
        if (!tok || !tok->is_string()) return fail("invalid_message", "\"token\" must be a string");
        msg.type = client_message::kind::auth;
        msg.token = tok->get_string();
        return msg;
    }
    if (t == "subscribe") {
        msg.type = client_message::kind::subscribe;
    } else if (t == "unsubscribe") {
        msg.type = client_message::kind::unsubscribe;
    } else {
        return fail("unknown_type", "unknown type \"" + std::string(quotable(t, 100)) + "\"");
    }
    if (auto err = unknown_field({"collections"})) return *err;
    const auto* cols = obj->if_contains("collections");
    if (!cols) return fail("invalid_message", "missing \"collections\"");
    const auto* arr = cols->if_array();
    if (!arr) return fail("invalid_message", "\"collections\" must be an array of strings");
    msg.collections.reserve(arr->size());
    for (const auto& e : *arr) {
        const auto* s = e.if_string();
        if (!s) return fail("invalid_message", "\"collections\" must be an array of strings");
        auto t = parse_entry(*s);
        if (auto* err = std::get_if<std::string>(&t)) return fail("invalid_name", std::move(*err));
        msg.collections.emplace_back(*s);
    }
    return msg;
}

std::string encode_welcome(std::string_view epoch, std::uint64_t seq, bool resumed) {
    std::string s = R"({"type":"welcome","protocol":)" + std::to_string(protocol_version) + ",\"epoch\":";
    append_json_string(s, epoch);
    s += ",\"seq\":" + std::to_string(seq) + ",\"resumed\":" + (resumed ? "true" : "false") + "}";
    return s;
}

std::string encode_resync(std::string_view epoch, std::uint64_t seq) {
    std::string s = R"({"type":"resync","epoch":)";
    append_json_string(s, epoch);
    s += ",\"seq\":" + std::to_string(seq) + "}";
    return s;
}

std::string encode_subscribed(const std::vector<std::string>& sorted_collections, std::uint64_t seq,
                              std::string_view ref) {
    std::string s = R"({"type":"subscribed","collections":[)";
    bool first = true;
    for (const auto& c : sorted_collections) {
        if (!first) s.push_back(',');
        first = false;
        append_json_string(s, c);
    }
    s += "],\"seq\":" + std::to_string(seq);
    append_ref(s, ref);
    s += "}";
    return s;
}

std::string encode_authenticated(std::int64_t exp, std::string_view ref) {
    std::string s = R"({"type":"authenticated","exp":)" + std::to_string(exp);
    append_ref(s, ref);
    s += "}";
    return s;
}

std::string encode_pong(std::string_view ref) {
    if (ref.empty()) return std::string(pong_json);
    std::string s = R"({"type":"pong")";
    append_ref(s, ref);
    s += "}";
    return s;
}

std::string encode_error(std::string_view code, std::string_view message, std::string_view ref) {
    std::string s = R"({"type":"error",)";
    append_error_fields(s, "code", code, message);
    append_ref(s, ref);
    s += "}";
    return s;
}

}  // namespace notifier::core
