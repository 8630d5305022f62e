// SPDX-License-Identifier: MIT
#pragma once
// What a subscriber may read: "*", a collection (with all its records), one
// record "collection/id", or the rows of a collection that a filter matches
// "collection[field=value,…]" (docs/security.md).
//
// Built once from a verified token's notifier.read claim and kept parsed and
// indexed: checking a subscription or a notification costs one or two hash
// lookups; filtered grants are indexed by their first condition, like
// filtered subscriptions (subscription_index.hpp), so a check looks only at
// the grants that can allow it.

#include "core/subscription_index.hpp"
#include "core/topic.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace notifier::core {

class lazy_rows;

class permissions {
public:
    /// Everything (no authentication configured).
    static permissions all() { return permissions(true, {}); }
    /// Entries from a token's notifier.read claim, parsed and indexed once;
    /// invalid entries grant nothing, repeated ones count once.
    static permissions from_entries(std::vector<std::string> entries);

    // The indexes view entries_: a move keeps the strings where they are
    // (the vector's buffer moves), a copy rebuilds them.
    permissions(const permissions& other);
    permissions& operator=(const permissions& other);
    permissions(permissions&&) noexcept = default;
    permissions& operator=(permissions&&) noexcept = default;

    /// True if a subscription entry stays within what may be read: a
    /// filtered grant allows its own filter and any narrower one (every
    /// condition of the grant among the entry's), never the whole
    /// collection nor one record (its row is unknown when subscribing).
    bool allows(const topic& t) const;
    /// True if a notification of (collection, id) whose rows are `rows` may
    /// be read (`id` empty: a notification without id, which a record grant
    /// does not cover). A filtered grant reads what its filter matches,
    /// through data or old alike.
    bool allows_notification(std::string_view collection, std::string_view id, lazy_rows& rows) const;
    bool everything() const noexcept { return all_; }
    /// The valid entries in canonical form, sorted and unique: the implicit
    /// subscription of a connection that names none.
    const std::vector<std::string>& entries() const noexcept { return entries_; }

private:
    struct record {
        std::string_view collection, id;
        friend bool operator==(const record&, const record&) = default;
    };
    struct record_hash {
        std::size_t operator()(const record& r) const noexcept;
    };

    permissions(bool all, std::vector<std::string> entries);
    void index();

    bool all_;
    std::vector<std::string> entries_;  // sorted, unique, valid, canonical
    // View entries_: collections granted with all their records, single
    // records, and the filters granted per collection.
    std::unordered_set<std::string_view> collections_;
    std::unordered_set<record, record_hash> records_;
    // Filtered grants: by (collection, first field, first value) for a
    // subscription check, and as an index of filters for a notification.
    std::unordered_map<std::string, std::vector<std::shared_ptr<const row_filter>>> grants_by_first_;
    subscription_index<std::size_t> grant_index_;
};

}  // namespace notifier::core
