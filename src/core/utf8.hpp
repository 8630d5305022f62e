// SPDX-License-Identifier: MIT
#pragma once
// UTF-8 validation as RFC 6455 section 8.1 requires for text frames
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).

#include <string_view>

namespace notifier::core {

bool is_valid_utf8(std::string_view s) noexcept;

/// The longest prefix of at most `max` bytes that does not split a UTF-8
/// sequence (for quoting input in error messages).
std::string_view utf8_prefix(std::string_view s, std::size_t max) noexcept;

/// `s` cut by utf8_prefix() for quoting in a JSON error message, or a
/// placeholder when it is not valid UTF-8 (it came from the network).
std::string_view quotable(std::string_view s, std::size_t max) noexcept;

}  // namespace notifier::core
