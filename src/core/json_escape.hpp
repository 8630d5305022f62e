// SPDX-License-Identifier: MIT
#pragma once
// Appending JSON string literals without a JSON library in the hot path.

#include <string>
#include <string_view>

namespace notifier::core {

/// Appends `"s"` with RFC 8259 escaping; `s` must be valid UTF-8.
void append_json_string(std::string& out, std::string_view s);

/// Appends the two-character escape of `"`, `\`, newline, carriage return
/// or tab, which JSON and logfmt write alike; false (nothing appended) for
/// any other byte.
bool append_short_escape(std::string& out, unsigned char c);

}  // namespace notifier::core
