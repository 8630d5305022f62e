#include "core/subscription_set.hpp"

#include "core/utf8.hpp"

#include <algorithm>
#include <iterator>

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
    for (const auto& e : entries) {
        const auto t = parse_topic(e);
        if (!t || !perms_.allows(*t))
            return protocol_error{"forbidden", "not allowed to read \"" + std::string(quotable(e, 300)) + "\""};
    }
    // Sorted union in O(n log n): a frame of thousands of names must not
    // hold the loop (inserting one by one into the sorted set was quadratic).
    std::vector<std::string> added(entries);
    std::sort(added.begin(), added.end());
    added.erase(std::unique(added.begin(), added.end()), added.end());
    std::vector<std::string> next;
    if (implicit_all_) {
        next = std::move(added);
    } else {
        next.reserve(names_.size() + added.size());
        std::set_union(names_.begin(), names_.end(), added.begin(), added.end(), std::back_inserter(next));
    }
    if (next.size() > max_)
        return protocol_error{"too_many_subscriptions",
                              "at most " + std::to_string(max_) + " subscriptions per connection"};
    for (std::size_t i = 0; i < names_.size(); ++i)
        if (!std::binary_search(next.begin(), next.end(), names_[i])) left(parsed_[i]);
    for (const auto& n : next)
        if (!std::binary_search(names_.begin(), names_.end(), n)) joined(*parse_topic(n));
    names_ = std::move(next);
    reparse();
    implicit_all_ = false;
    return std::nullopt;
}

void subscription_set::unsubscribe(const std::vector<std::string>& entries, const topic_fn& left) {
    bool changed = false;
    for (const auto& e : entries) {
        auto it = std::lower_bound(names_.begin(), names_.end(), e);
        if (it == names_.end() || *it != e) continue;
        left(*parse_topic(*it));
        names_.erase(it);
        changed = true;
        if (e == "*") implicit_all_ = false;
    }
    if (changed) reparse();
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
