#pragma once
// Client frames in, server control frames out (docs/protocol.md).
// Pure: fuzzed on its own.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace notifier::core {

struct client_message {
    enum class kind { subscribe, unsubscribe, ping, auth };
    kind type = kind::ping;
    std::vector<std::string> collections;  ///< validated entries (subscribe/unsubscribe)
    std::string token;                     ///< auth
};

/// A refused client frame: becomes `{"type":"error","code":…,"message":…}`.
struct protocol_error {
    std::string code;
    std::string message;
};

/// Parses one text message from a client.
std::variant<client_message, protocol_error> parse_client_message(std::string_view text);

// Server frames, as JSON text (the caller frames them).
std::string encode_welcome(std::string_view epoch, std::uint64_t seq, bool resumed);
std::string encode_resync(std::string_view epoch, std::uint64_t seq);
std::string encode_subscribed(const std::vector<std::string>& sorted_collections);
std::string encode_error(std::string_view code, std::string_view message);
std::string encode_authenticated(std::int64_t exp);
inline constexpr std::string_view pong_json = R"({"type":"pong"})";

}  // namespace notifier::core
