#include "core/permissions.hpp"

#include <algorithm>

namespace notifier::core {

permissions permissions::from_entries(std::vector<std::string> entries) {
    std::vector<std::string> valid;
    bool all = false;
    for (auto& e : entries) {
        if (e == "*") all = true;
        if (parse_topic(e)) valid.push_back(std::move(e));
    }
    std::sort(valid.begin(), valid.end());
    valid.erase(std::unique(valid.begin(), valid.end()), valid.end());
    return permissions(all, std::move(valid));
}

bool permissions::allows(const topic& t) const noexcept {
    if (all_) return true;
    if (t.collection == "*") return false;
    for (const auto& e : entries_) {
        auto p = parse_topic(e);
        if (!p || p->collection != t.collection) continue;
        if (p->id.empty() || p->id == t.id) return true;  // a collection grants its records
    }
    return false;
}

bool permissions::allows_notification(std::string_view collection, std::string_view id) const noexcept {
    return allows(topic{collection, id});
}

}  // namespace notifier::core
