// SPDX-License-Identifier: MIT
#pragma once
// Error codes of the library and the WebSocket close codes it sends.
// Every value is listed in docs/protocol.md.

#include <cstdint>
#include <system_error>

namespace notifier {

/// Errors returned by notify(), transaction::commit() and the brokers.
enum class errc {
    invalid_collection = 1,  ///< collection breaks [A-Za-z0-9_.:-]{1,128}
    invalid_action,          ///< action breaks [A-Za-z0-9_.:-]{1,64}
    invalid_id,              ///< id empty, longer than 256 bytes or not UTF-8
    invalid_data,            ///< data is not one valid JSON value
    overloaded,              ///< the hub's inbox is full (max_pending_notifications)
    stopped,                 ///< the hub is stopped
    broker_unavailable,      ///< the broker cannot accept publications right now
    already_finished,        ///< transaction was already committed or rolled back
    invalid_old,             ///< old is not one JSON object
};

/// The category of notifier::errc.
const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

/// WebSocket close codes sent by the server (RFC 6455 section 7.4 plus ours).
enum class close_code : std::uint16_t {
    normal = 1000,
    going_away = 1001,       ///< server shutdown
    protocol_error = 1002,
    unsupported_data = 1003, ///< binary frames
    no_status_received = 1005,  ///< never sent: a peer's close frame that carried no code
    abnormal_closure = 1006,    ///< never sent: the connection ended without a close frame
    invalid_payload = 1007,  ///< invalid UTF-8
    policy_violation = 1008,
    message_too_big = 1009,
    internal_error = 1011,
    token_expired = 4001,    ///< the subscriber's token expired and was not refreshed
    slow_consumer = 4008,    ///< outbound queue above max_queue_bytes
    unauthorized = 4401,     ///< at connect: no token, or one that is invalid or expired
    forbidden = 4403,        ///< at connect: a subscription outside the token's `read` claim
};

}  // namespace notifier

template <>
struct std::is_error_code_enum<notifier::errc> : std::true_type {};
