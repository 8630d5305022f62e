// SPDX-License-Identifier: MIT
#pragma once
// What a subscriber may read: "*", a collection (with all its records) or one
// record "collection/id" (docs/security.md).
//
// Built once from a verified token's notifier.read claim and kept parsed and
// indexed: a check costs one or two hash lookups whatever the size of the
// claim, so a subscribe frame of n entries is checked in O(n).

#include "core/topic.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace notifier::core {

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

    /// True if a subscription entry stays within what may be read. O(1).
    bool allows(const topic& t) const noexcept;
    /// True if a notification of (collection, id) may be read (`id` empty:
    /// a notification without id, which only a collection entry covers). O(1).
    bool allows_notification(std::string_view collection, std::string_view id) const noexcept;
    bool everything() const noexcept { return all_; }
    /// The valid entries, sorted and unique: the implicit subscription of a
    /// connection that names none.
    const std::vector<std::string>& entries() const noexcept { return entries_; }

private:
    struct topic_hash {
        std::size_t operator()(const topic& t) const noexcept;
    };
    struct topic_equal {
        bool operator()(const topic& a, const topic& b) const noexcept {
            return a.collection == b.collection && a.id == b.id;
        }
    };

    permissions(bool all, std::vector<std::string> entries);
    void index();

    bool all_;
    std::vector<std::string> entries_;  // sorted, unique, valid
    // View entries_: collections granted with all their records, and single
    // records (collection, id).
    std::unordered_set<std::string_view> collections_;
    std::unordered_set<topic, topic_hash, topic_equal> records_;
};

}  // namespace notifier::core
