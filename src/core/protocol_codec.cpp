#include "core/protocol_codec.hpp"

#include "core/json_escape.hpp"
#include "core/topic.hpp"
#include "core/utf8.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <array>

namespace notifier::core {

namespace json = boost::json;

std::variant<client_message, protocol_error> parse_client_message(std::string_view text) {
    boost::system::error_code ec;
    // Client frames are small (max_message_bytes); a stack-first resource
    // avoids heap traffic for the common case.
    std::array<unsigned char, 1024> stack;
    json::monotonic_resource mr(stack.data(), stack.size());
    json::parse_options opts;
    opts.max_depth = 16;
    json::value v = json::parse(text, ec, &mr, opts);
    if (ec) return protocol_error{"invalid_json", "frame is not valid JSON: " + ec.message()};
    const auto* obj = v.if_object();
    if (!obj) return protocol_error{"invalid_json", "frame must be a JSON object"};
    const auto* type = obj->if_contains("type");
    if (!type) return protocol_error{"invalid_message", "missing \"type\""};
    if (!type->is_string()) return protocol_error{"invalid_message", "\"type\" must be a string"};
    const std::string_view t = type->get_string();

    client_message msg;
    if (t == "ping") {
        for (const auto& kv : *obj)
            if (kv.key() != "type")
                return protocol_error{"unknown_field", "unknown field \"" + std::string(quotable(kv.key(), 100)) + "\""};
        msg.type = client_message::kind::ping;
        return msg;
    }
    if (t == "auth") {
        for (const auto& kv : *obj)
            if (kv.key() != "type" && kv.key() != "token")
                return protocol_error{"unknown_field", "unknown field \"" + std::string(quotable(kv.key(), 100)) + "\""};
        const auto* tok = obj->if_contains("token");
        if (!tok || !tok->is_string()) return protocol_error{"invalid_message", "\"token\" must be a string"};
        msg.type = client_message::kind::auth;
        msg.token = tok->get_string();
        return msg;
    }
    if (t == "subscribe") {
        msg.type = client_message::kind::subscribe;
    } else if (t == "unsubscribe") {
        msg.type = client_message::kind::unsubscribe;
    } else {
        return protocol_error{"unknown_type", "unknown type \"" + std::string(quotable(t, 100)) + "\""};
    }
    for (const auto& kv : *obj)
        if (kv.key() != "type" && kv.key() != "collections")
            return protocol_error{"unknown_field", "unknown field \"" + std::string(quotable(kv.key(), 100)) + "\""};
    const auto* cols = obj->if_contains("collections");
    if (!cols) return protocol_error{"invalid_message", "missing \"collections\""};
    const auto* arr = cols->if_array();
    if (!arr) return protocol_error{"invalid_message", "\"collections\" must be an array of strings"};
    msg.collections.reserve(arr->size());
    for (const auto& e : *arr) {
        const auto* s = e.if_string();
        if (!s) return protocol_error{"invalid_message", "\"collections\" must be an array of strings"};
        if (!parse_topic(*s))
            return protocol_error{"invalid_name",
                                  "invalid entry \"" + std::string(quotable(s->subview(), 300)) +
                                      "\": expected \"*\", a collection [A-Za-z0-9_.:-]{1,128} or collection/id"};
        msg.collections.emplace_back(*s);
    }
    return msg;
}

std::string encode_welcome(std::string_view epoch, std::uint64_t seq, bool resumed) {
    std::string s = R"({"type":"welcome","epoch":)";
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

std::string encode_subscribed(const std::vector<std::string>& sorted_collections) {
    std::string s = R"({"type":"subscribed","collections":[)";
    bool first = true;
    for (const auto& c : sorted_collections) {
        if (!first) s.push_back(',');
        first = false;
        append_json_string(s, c);
    }
    s += "]}";
    return s;
}

std::string encode_authenticated(std::int64_t exp) {
    return R"({"type":"authenticated","exp":)" + std::to_string(exp) + "}";
}

std::string encode_error(std::string_view code, std::string_view message) {
    std::string s = R"({"type":"error","code":)";
    append_json_string(s, code);
    s += ",\"message\":";
    append_json_string(s, message);
    s += "}";
    return s;
}

}  // namespace notifier::core
