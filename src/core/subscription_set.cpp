// SPDX-License-Identifier: MIT
#include "core/subscription_set.hpp"

#include "core/notification_rows.hpp"
#include "core/utf8.hpp"

#include <algorithm>
#include <numeric>
#include <unordered_set>

namespace notifier::core {

namespace {

// Parses entries into topics sorted by canonical name, without repeats.
// Invalid ones are dropped.
void parse_sorted(const std::vector<std::string>& entries, std::vector<std::string>& names, std::vector<topic>& parsed) {
    std::vector<std::pair<std::string, topic>> all;
    all.reserve(entries.size());
    for (const auto& e : entries)
        if (auto t = parse_topic(e)) all.emplace_back(t->name(), std::move(*t));
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    all.erase(std::unique(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
              all.end());
    names.clear();
    parsed.clear();
    names.reserve(all.size());
    parsed.reserve(all.size());
    for (auto& [n, t] : all) {
        names.push_back(std::move(n));
        parsed.push_back(std::move(t));
    }
}

}  // namespace

subscription_set::subscription_set(std::vector<std::string> names, bool implicit_all, permissions perms,
                                   std::size_t max_subscriptions)
    : implicit_all_(implicit_all), perms_(std::move(perms)), max_(max_subscriptions) {
    parse_sorted(names, names_, parsed_);
}

bool subscription_set::matches(const publication& pub, lazy_rows& rows) const {
    for (const auto& t : parsed_)
        if (t.matches(pub.collection, pub.id, rows)) return true;
    return false;
}

bool subscription_set::readable(const publication& pub, lazy_rows& rows) const {
    return perms_.everything() || perms_.allows_notification(pub.collection, pub.id, rows);
}

bool subscription_set::wants(const publication& pub) const {
    lazy_rows rows(pub.json());
    return matches(pub, rows) && readable(pub, rows);
}

std::optional<protocol_error> subscription_set::subscribe(const std::vector<std::string>& entries,
                                                          const topic_fn& left, const topic_fn& joined) {
    // Repeated entries first: a frame that names one entry thousands of
    // times is parsed and checked once per distinct spelling. Kept in the
    // order given, so that a refusal names the first entry refused.
    std::vector<topic> added;
    std::vector<std::string> added_names;
    {
        std::unordered_set<std::string_view> seen(entries.size());
        for (const auto& e : entries) {
            if (!seen.insert(e).second) continue;
            auto t = parse_topic(e);
            if (!t || !perms_.allows(*t))
                return protocol_error{"forbidden", "not allowed to read \"" + std::string(quotable(e, 300)) + "\"", {}};
            added_names.push_back(t->name());
            added.push_back(std::move(*t));
        }
    }
    // Sorted union in O(n log n): a frame of thousands of names must not
    // hold the loop (inserting one by one into the sorted set was quadratic).
    std::vector<std::size_t> order(added.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return added_names[a] < added_names[b]; });
    order.erase(std::unique(order.begin(), order.end(),
                            [&](std::size_t a, std::size_t b) { return added_names[a] == added_names[b]; }),
                order.end());
    // The next set: indexes into names_ (old) or order (new), merged.
    struct pick {
        bool is_new;
        std::size_t at;
    };
    std::vector<pick> next;
    const auto name_of = [&](const pick& p) -> const std::string& {
        return p.is_new ? added_names[order[p.at]] : names_[p.at];
    };
    {
        // While implicit_all_, the old entries stay only if named again.
        std::size_t i = 0, j = 0;
        const std::size_t old_n = names_.size();
        next.reserve(old_n + order.size());
        while (i < old_n || j < order.size()) {
            if (j == order.size() || (i < old_n && names_[i] < added_names[order[j]])) {
                if (!implicit_all_) next.push_back({false, i});
                ++i;
            } else if (i == old_n || added_names[order[j]] < names_[i]) {
                next.push_back({true, j++});
            } else {
                next.push_back({false, i++});  // in both: keep what is there
                ++j;
            }
        }
    }
    if (next.size() > max_)
        return protocol_error{"too_many_subscriptions",
                              "at most " + std::to_string(max_) + " subscriptions per connection", {}};
    // What left: the old entries not kept.
    std::vector<bool> kept(names_.size());
    for (const auto& p : next)
        if (!p.is_new) kept[p.at] = true;
    for (std::size_t i = 0; i < names_.size(); ++i)
        if (!kept[i]) left(parsed_[i]);
    std::vector<std::string> names;
    std::vector<topic> parsed;
    names.reserve(next.size());
    parsed.reserve(next.size());
    for (const auto& p : next) {
        names.push_back(name_of(p));
        if (p.is_new) {
            joined(added[order[p.at]]);
            parsed.push_back(std::move(added[order[p.at]]));
        } else {
            parsed.push_back(std::move(parsed_[p.at]));
        }
    }
    names_ = std::move(names);
    parsed_ = std::move(parsed);
    implicit_all_ = false;
    return std::nullopt;
}

void subscription_set::unsubscribe(const std::vector<std::string>& entries, const topic_fn& left) {
    std::vector<bool> gone(names_.size());
    bool changed = false;
    for (const auto& e : entries) {
        auto t = parse_topic(e);
        if (!t) continue;
        const std::string name = t->name();
        const auto it = std::lower_bound(names_.begin(), names_.end(), name);
        if (it == names_.end() || *it != name) continue;
        const auto i = static_cast<std::size_t>(it - names_.begin());
        if (gone[i]) continue;  // named twice
        gone[i] = true;
        changed = true;
        left(parsed_[i]);
        if (name == "*") implicit_all_ = false;
    }
    if (!changed) return;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < names_.size(); ++i) {
        if (gone[i]) continue;
        if (kept != i) {
            names_[kept] = std::move(names_[i]);
            parsed_[kept] = std::move(parsed_[i]);
        }
        ++kept;
    }
    names_.resize(kept);
    parsed_.resize(kept);
}

bool subscription_set::restrict_to(permissions perms, const topic_fn& left) {
    perms_ = std::move(perms);
    std::size_t kept = 0;
    for (std::size_t i = 0; i < names_.size(); ++i) {
        if (!perms_.allows(parsed_[i])) {
            left(parsed_[i]);
            continue;
        }
        if (kept != i) {
            names_[kept] = std::move(names_[i]);
            parsed_[kept] = std::move(parsed_[i]);
        }
        ++kept;
    }
    const bool changed = kept != names_.size();
    names_.resize(kept);
    parsed_.resize(kept);
    return changed;
}

}  // namespace notifier::core
