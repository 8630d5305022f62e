// SPDX-License-Identifier: MIT
#pragma once
// Every refusal names a code and a message, whatever carries it: an HTTP
// error body, an `error` frame, an SSE `close` event (docs/protocol.md).
// One builder, so that escaping and field order never differ.

#include <string>
#include <string_view>

namespace notifier::core {

/// Appends `"<code_key>":"<code>","message":"<message>"` (both escaped).
void append_error_fields(std::string& out, std::string_view code_key, std::string_view code,
                         std::string_view message);

/// `{"error":"<code>","message":"<message>"}`: the body of an HTTP refusal.
std::string error_body(std::string_view code, std::string_view message);

}  // namespace notifier::core
