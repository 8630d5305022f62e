// SPDX-License-Identifier: MIT
// Client text messages: any input yields a message or a documented error,
// and every answer built from it (echoing the client's ref) is one valid
// JSON object in valid UTF-8.

#include "core/protocol_codec.hpp"
#include "core/topic.hpp"
#include "core/utf8.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

// `frame` is a JSON object; its `ref` is the client's `ref` (same string,
// same integer) when `ref` is not empty, and absent otherwise.
void check_answer(const std::string& frame, std::string_view ref, const boost::json::value* original) {
    check(notifier::core::is_valid_utf8(frame));
    boost::system::error_code ec;
    const auto v = boost::json::parse(frame, ec);
    check(!ec && v.is_object());
    const auto* echoed = v.as_object().if_contains("ref");
    check((echoed != nullptr) == !ref.empty());
    if (!echoed) return;
    check(echoed->is_string() || echoed->is_int64() || echoed->is_uint64());
    check(!echoed->is_string() || echoed->as_string().size() <= notifier::core::max_ref_bytes);
    check(original != nullptr && *echoed == *original);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    // The session hands over valid UTF-8 only (RFC 6455 section 8.1).
    if (!notifier::core::is_valid_utf8(text)) return 0;
    auto r = notifier::core::parse_client_message(text);
    // The client's own ref, read independently.
    boost::system::error_code ec;
    const auto input = boost::json::parse(text, ec);
    const boost::json::value* original = nullptr;
    if (!ec && input.is_object()) original = input.as_object().if_contains("ref");
    if (auto* err = std::get_if<notifier::core::protocol_error>(&r)) {
        const auto& c = err->code;
        check(c == "invalid_json" || c == "invalid_message" || c == "unknown_type" || c == "unknown_field" ||
              c == "invalid_name");
        check(c != "invalid_json" || err->ref.empty());  // no object, no ref
        check_answer(notifier::core::encode_error(err->code, err->message, err->ref), err->ref, original);
    } else {
        const auto& m = std::get<notifier::core::client_message>(r);
        for (const auto& e : m.collections) check(notifier::core::parse_topic(e).has_value());
        check(m.ref.empty() == (original == nullptr));  // an accepted frame's ref is always echoed
        check_answer(notifier::core::encode_pong(m.ref), m.ref, original);
        check_answer(notifier::core::encode_subscribed(m.collections, 7, m.ref), m.ref, original);
        check_answer(notifier::core::encode_authenticated(0, m.ref), m.ref, original);
    }
    return 0;
}
