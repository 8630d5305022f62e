// SPDX-License-Identifier: MIT
#pragma once
// The body of POST /publish: one notification object or a non-empty array.
// Pure: fuzzed on its own.

#include <notifier/notification.hpp>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace notifier::core {

struct publish_error {
    std::string code;     ///< e.g. "invalid_json", see docs/protocol.md
    std::string message;
};

/// All or nothing: the first invalid element fails the whole batch.
std::variant<std::vector<notification>, publish_error> parse_publish_request(std::string_view body);

}  // namespace notifier::core
