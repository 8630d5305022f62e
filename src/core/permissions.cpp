// SPDX-License-Identifier: MIT
#include "core/permissions.hpp"

#include <algorithm>
#include <functional>

namespace notifier::core {

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
    std::erase_if(entries, [](const std::string& e) { return !parse_topic(e); });
    std::sort(entries.begin(), entries.end());
    entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
    const bool all = std::binary_search(entries.begin(), entries.end(), "*");
    return permissions(all, std::move(entries));
}

void permissions::index() {
    collections_.clear();
    records_.clear();
    if (all_) return;  // nothing to look up
    collections_.reserve(entries_.size());
    for (const auto& e : entries_) {
        const auto t = *parse_topic(e);  // entries_ holds valid topics only
        if (t.id.empty()) collections_.insert(t.collection);
        else records_.insert(t);
    }
}

std::size_t permissions::topic_hash::operator()(const topic& t) const noexcept {
    const std::hash<std::string_view> h;
    return h(t.collection) * 31 + h(t.id);
}

bool permissions::allows(const topic& t) const noexcept {
    if (all_) return true;
    if (t.collection == "*") return false;
    if (collections_.contains(t.collection)) return true;  // a collection grants its records
    return !t.id.empty() && records_.contains(t);
}

bool permissions::allows_notification(std::string_view collection, std::string_view id) const noexcept {
    return allows(topic{collection, id});
}

}  // namespace notifier::core
