// SPDX-License-Identifier: MIT
#pragma once
// A subscription entry: "*", "collection", "collection/id" or a filtered
// "collection[field=value,…]" (docs/protocol.md, "Subscriptions").

#include "core/row_filter.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace notifier::core {

class lazy_rows;

struct topic {
    std::string collection;  ///< "*" for everything
    std::string id;          ///< empty unless one record
    /// Null unless filtered; shared with whoever indexes the entry, so that
    /// it stays put while the entry is subscribed.
    std::shared_ptr<const row_filter> filter;

    /// The entry in its canonical form (the filter's conditions sorted,
    /// values in one spelling): equal entries have equal names.
    std::string name() const;

    /// True if a notification of (collection, id) whose data and old are
    /// `rows` matches this entry; the rows are read only for a filter.
    bool matches(std::string_view c, std::string_view i, lazy_rows& rows) const;
};

/// Splits and validates an entry. The id is everything after the first
/// '/', so ids may contain '/' and '['. An error is a message for the
/// client, quoting at most a short part of the entry.
std::variant<topic, std::string> parse_entry(std::string_view entry);

/// parse_entry without the message: nullopt when invalid.
std::optional<topic> parse_topic(std::string_view entry);

}  // namespace notifier::core
