// SPDX-License-Identifier: MIT
#include "core/subscription_set.hpp"

#include "core/utf8.hpp"

#include <algorithm>
#include <iterator>
#include <string_view>
#include <unordered_set>

namespace notifier::core {

subscription_set::subscription_set(std::vector<std::string> names, bool implicit_all, permissions perms,
                                   std::size_t max_subscriptions)
    : names_(std::move(names)), implicit_all_(implicit_all), perms_(std::move(perms)), max_(max_subscriptions) {
    std::erase_if(names_, [](const std::string& n) { return !parse_topic(n); });
    std::sort(names_.begin(), names_.end());
    names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
    reparse();
}

void subscription_set::reparse() {
    parsed_.clear();
    parsed_.reserve(names_.size());
    for (const auto& n : names_) parsed_.push_back(*parse_topic(n));
}

bool subscription_set::matches(const publication& pub) const noexcept {
    for (const auto& t : parsed_)
        if (t.matches(pub.collection, pub.id)) return true;
    return false;
}

bool subscription_set::readable(const publication& pub) const noexcept {
    return perms_.everything() || perms_.allows_notification(pub.collection, pub.id);
}

std::optional<protocol_error> subscription_set::subscribe(const std::vector<std::string>& entries,
                                                          const topic_fn& left, const topic_fn& joined) {
    // Repeated entries first: a frame that names one entry thousands of
    // times is checked once per distinct entry. Kept in the order given, so
    // that a refusal names the first entry refused.
    std::vector<std::string_view> added;
    added.reserve(entries.size());
    {
        std::unordered_set<std::string_view> seen(entries.size());
        for (const auto& e : entries)
            if (seen.insert(e).second) added.push_back(e);
    }
    for (const auto e : added) {
        const auto t = parse_topic(e);
        if (!t || !perms_.allows(*t))
            return protocol_error{"forbidden", "not allowed to read \"" + std::string(quotable(e, 300)) + "\"", {}};
    }
    // Sorted union in O(n log n): a frame of thousands of names must not
    // hold the loop (inserting one by one into the sorted set was quadratic).
    std::sort(added.begin(), added.end());
    std::vector<std::string_view> next;
    if (implicit_all_) {
        next = std::move(added);
    } else {
        next.reserve(names_.size() + added.size());
        std::set_union(names_.begin(), names_.end(), added.begin(), added.end(), std::back_inserter(next),
                       [](std::string_view a, std::string_view b) { return a < b; });
    }
    if (next.size() > max_)
        return protocol_error{"too_many_subscriptions",
                              "at most " + std::to_string(max_) + " subscriptions per connection", {}};
    // Both lists are sorted: one walk for what left, one for what joined.
    for (std::size_t i = 0, j = 0; i < names_.size(); ++i) {
        while (j < next.size() && next[j] < std::string_view(names_[i])) ++j;
        if (j == next.size() || next[j] != names_[i]) left(parsed_[i]);
    }
    for (std::size_t i = 0, j = 0; j < next.size(); ++j) {
        while (i < names_.size() && std::string_view(names_[i]) < next[j]) ++i;
        if (i == names_.size() || names_[i] != next[j]) joined(*parse_topic(next[j]));
    }
    // `next` may view names_: build the new names before replacing them.
    std::vector<std::string> names(next.begin(), next.end());
    names_ = std::move(names);
    reparse();
    implicit_all_ = false;
    return std::nullopt;
}

void subscription_set::unsubscribe(const std::vector<std::string>& entries, const topic_fn& left) {
    std::vector<bool> gone(names_.size());
    bool changed = false;
    for (const auto& e : entries) {
        const auto it = std::lower_bound(names_.begin(), names_.end(), e);
        if (it == names_.end() || *it != e) continue;
        const auto i = static_cast<std::size_t>(it - names_.begin());
        if (gone[i]) continue;  // named twice
        gone[i] = true;
        changed = true;
        left(parsed_[i]);
        if (e == "*") implicit_all_ = false;
    }
    if (!changed) return;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < names_.size(); ++i) {
        if (gone[i]) continue;
        if (kept != i) names_[kept] = std::move(names_[i]);
        ++kept;
    }
    names_.resize(kept);
    reparse();
}

bool subscription_set::restrict_to(permissions perms, const topic_fn& left) {
    perms_ = std::move(perms);
    std::vector<std::string> kept;
    for (std::size_t i = 0; i < names_.size(); ++i) {
        if (perms_.allows(parsed_[i])) kept.push_back(std::move(names_[i]));
        else left(parsed_[i]);
    }
    // parsed_ may view moved-from strings now: rebuilt below before any use.
    const bool changed = kept.size() != names_.size();
    names_ = std::move(kept);
    reparse();
    return changed;
}

}  // namespace notifier::core
