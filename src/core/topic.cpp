// SPDX-License-Identifier: MIT
#include "core/topic.hpp"

#include <notifier/notification.hpp>

namespace notifier::core {

std::optional<topic> parse_topic(std::string_view entry) noexcept {
    if (entry == "*") return topic{entry, {}};
    const auto slash = entry.find('/');
    topic t{entry.substr(0, slash), {}};
    if (slash != std::string_view::npos) {
        t.id = entry.substr(slash + 1);
        if (!is_valid_id(t.id)) return std::nullopt;
    }
    if (!is_valid_collection(t.collection)) return std::nullopt;
    return t;
}

}  // namespace notifier::core
