// SPDX-License-Identifier: MIT
#pragma once
// A subscription entry: "*", "collection" or "collection/id".

#include <optional>
#include <string>
#include <string_view>

namespace notifier::core {

struct topic {
    std::string_view collection;  ///< "*" for everything
    std::string_view id;          ///< empty for a whole collection

    /// True if a notification of (collection, id) matches this entry.
    bool matches(std::string_view c, std::string_view i) const noexcept {
        return collection == "*" || (collection == c && (id.empty() || id == i));
    }
};

/// Splits and validates an entry; nullopt when the collection or id is invalid.
/// The id is everything after the first '/', so ids may contain '/'.
std::optional<topic> parse_topic(std::string_view entry) noexcept;

}  // namespace notifier::core
