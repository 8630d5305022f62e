// SPDX-License-Identifier: MIT
#include "core/permissions.hpp"

#include "core/notification_rows.hpp"

#include <algorithm>
#include <functional>

namespace notifier::core {

namespace {

// Every condition of `grant` is one of `entry`'s: the entry is as narrow or
// narrower. Both are sorted by field.
bool narrower_or_equal(const row_filter& entry, const row_filter& grant) noexcept {
    const auto& e = entry.conditions();
    const auto& g = grant.conditions();
    std::size_t i = 0;
    for (const auto& c : g) {
        while (i < e.size() && e[i].field < c.field) ++i;
        if (i == e.size() || e[i].field != c.field || e[i].value != c.value) return false;
    }
    return true;
}

}  // namespace

permissions::permissions(bool all, std::vector<std::string> entries) : all_(all), entries_(std::move(entries)) {
    index();
}

permissions::permissions(const permissions& other) : all_(other.all_), entries_(other.entries_) { index(); }

permissions& permissions::operator=(const permissions& other) {
    if (this != &other) {
        all_ = other.all_;
        entries_ = other.entries_;
        index();
    }
    return *this;
}

permissions permissions::from_entries(std::vector<std::string> entries) {
    std::vector<std::string> valid;
    valid.reserve(entries.size());
    for (const auto& e : entries)
        if (auto t = parse_topic(e)) valid.push_back(t->name());
    std::sort(valid.begin(), valid.end());
    valid.erase(std::unique(valid.begin(), valid.end()), valid.end());
    const bool all = std::binary_search(valid.begin(), valid.end(), "*");
    return permissions(all, std::move(valid));
}

namespace {

// The key of a filter's condition: collection, field and canonical value,
// each ending in a byte none of them holds.
std::string condition_key(std::string_view collection, const filter_condition& c) {
    std::string k(collection);
    k += '\0';
    k += c.field;
    k += '\0';
    k += c.value;
    return k;
}

}  // namespace

void permissions::index() {
    collections_.clear();
    records_.clear();
    grants_by_first_.clear();
    grant_index_ = {};
    if (all_) return;  // nothing to look up
    collections_.reserve(entries_.size());
    std::size_t n = 0;
    for (const std::string& e : entries_) {
        auto t = *parse_topic(e);  // entries_ holds valid topics only
        // Views into e, which parses to the same parts: a name is
        // collection, collection/id or collection[…].
        const std::string_view name(e);
        const std::string_view collection = name.substr(0, t.collection.size());
        if (t.filter) {
            grants_by_first_[condition_key(collection, t.filter->conditions().front())].push_back(t.filter);
            grant_index_.add(t, n++);
        } else if (t.id.empty()) {
            collections_.insert(collection);
        } else {
            records_.insert(record{collection, name.substr(t.collection.size() + 1)});
        }
    }
}

std::size_t permissions::record_hash::operator()(const record& r) const noexcept {
    const std::hash<std::string_view> h;
    return h(r.collection) * 31 + h(r.id);
}

bool permissions::allows(const topic& t) const {
    if (all_) return true;
    if (t.collection == "*") return false;
    if (collections_.contains(t.collection)) return true;  // a collection grants its records and filters
    if (!t.id.empty()) return records_.contains(record{t.collection, t.id});
    if (!t.filter) return false;
    // A grant no wider than the entry has its first condition among the
    // entry's: look those up, then compare the grants found.
    for (const auto& c : t.filter->conditions()) {
        const auto it = grants_by_first_.find(condition_key(t.collection, c));
        if (it == grants_by_first_.end()) continue;
        for (const auto& grant : it->second)
            if (narrower_or_equal(*t.filter, *grant)) return true;
    }
    return false;
}

bool permissions::allows_notification(std::string_view collection, std::string_view id, lazy_rows& rows) const {
    if (all_) return true;
    if (collections_.contains(collection)) return true;
    if (!id.empty() && records_.contains(record{collection, id})) return true;
    bool found = false;
    grant_index_.match(
        collection, {}, rows, [&](std::size_t) { found = true; }, [&](std::size_t) { return found; });
    return found;
}

}  // namespace notifier::core
