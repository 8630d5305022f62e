// SPDX-License-Identifier: MIT
#pragma once
// Client frames in, server control frames out (docs/protocol.md).
// Pure: fuzzed on its own.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace notifier::core {

/// The protocol version `welcome` announces (docs/protocol.md). Additions
/// that old clients can ignore (a field, a frame type) keep the version.
inline constexpr int protocol_version = 1;

/// Longest string `ref` a client may attach to a frame, in bytes.
inline constexpr std::size_t max_ref_bytes = 64;

struct client_message {
    enum class kind { subscribe, unsubscribe, ping, auth };
    kind type = kind::ping;
    std::vector<std::string> collections;  ///< validated entries (subscribe/unsubscribe)
    std::string token;                     ///< auth
    /// The frame's `ref` as JSON text (a string re-encoded, or an integer's
    /// digits), to echo in the answer; empty when the frame has none.
    std::string ref;
};

/// A refused client frame: becomes `{"type":"error","code":…,"message":…}`.
struct protocol_error {
    std::string code;
    std::string message;
    /// The frame's `ref` as JSON text when it had a valid one (the error
    /// echoes it); empty otherwise.
    std::string ref;
};

/// Parses one text message from a client.
std::variant<client_message, protocol_error> parse_client_message(std::string_view text);

// Server frames, as JSON text (the caller frames them). `ref`: the JSON text
// kept by parse_client_message, echoed as the last field; empty: none.
std::string encode_welcome(std::string_view epoch, std::uint64_t seq, bool resumed);
std::string encode_resync(std::string_view epoch, std::uint64_t seq);
/// `seq`: every matching notification after it reaches the connection.
std::string encode_subscribed(const std::vector<std::string>& sorted_collections, std::uint64_t seq,
                              std::string_view ref = {});
std::string encode_error(std::string_view code, std::string_view message, std::string_view ref = {});
std::string encode_authenticated(std::int64_t exp, std::string_view ref = {});
std::string encode_pong(std::string_view ref = {});
inline constexpr std::string_view pong_json = R"({"type":"pong"})";

}  // namespace notifier::core
