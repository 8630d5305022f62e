#pragma once
// What a subscriber may read: "*", a collection (with all its records) or one
// record "collection/id" (docs/security.md).

#include "core/topic.hpp"

#include <string>
#include <vector>

namespace notifier::core {

class permissions {
public:
    /// Everything (no authentication configured).
    static permissions all() { return permissions(true, {}); }
    /// Entries from a token's notifier.read claim; invalid entries grant nothing.
    static permissions from_entries(std::vector<std::string> entries);

    /// True if a subscription entry stays within what may be read.
    bool allows(const topic& t) const noexcept;
    /// True if a notification of (collection, id) may be read.
    bool allows_notification(std::string_view collection, std::string_view id) const noexcept;
    bool everything() const noexcept { return all_; }
    /// The valid entries: the implicit subscription of a connection that
    /// names none.
    const std::vector<std::string>& entries() const noexcept { return entries_; }

private:
    permissions(bool all, std::vector<std::string> entries) : all_(all), entries_(std::move(entries)) {}
    bool all_;
    std::vector<std::string> entries_;  // sorted, valid topics
};

}  // namespace notifier::core
