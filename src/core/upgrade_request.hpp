// SPDX-License-Identifier: MIT
#pragma once
// The query of a WebSocket upgrade (GET /ws?collections=…&since=…&epoch=…
// &token=…, docs/protocol.md "Connecting"): what to subscribe to, where to
// resume, and the token. Pure: fuzzed on its own.

#include "core/resume_request.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace notifier::core {

struct upgrade_request {
    /// Valid entries (core::parse_entry), as written, in the order given,
    /// duplicates kept.
    std::vector<std::string> topics;
    /// No `collections` parameter: everything the token allows.
    bool implicit_all = true;
    resume_request resume;
    /// `token`, else the credentials of `Authorization: Bearer …`; empty
    /// when neither (browsers cannot set headers on a WebSocket).
    std::string token;
};

/// A refused upgrade, answered as HTTP `status` with
/// `{"error":code,"message":message}`.
struct upgrade_error {
    unsigned status = 400;
    std::string code;  ///< invalid_query, invalid_name or too_many_subscriptions
    std::string message;
};

/// Parses `target` (origin-form, RFC 9112 section 3.2.1) and the value of
/// the Authorization header. The first refused parameter, in query order,
/// decides the error; `collections` may repeat and adds up towards
/// `max_subscriptions`; unknown parameters are ignored.
std::variant<upgrade_request, upgrade_error> parse_upgrade_request(std::string_view target,
                                                                   std::string_view authorization,
                                                                   std::size_t max_subscriptions);

}  // namespace notifier::core
