#pragma once
// UTF-8 validation as RFC 6455 section 8.1 requires for text frames
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).

#include <string_view>

namespace notifier::core {

bool is_valid_utf8(std::string_view s) noexcept;

}  // namespace notifier::core
