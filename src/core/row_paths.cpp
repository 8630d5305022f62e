// SPDX-License-Identifier: MIT
#include "core/row_paths.hpp"

namespace notifier::core {

void row_paths::add(std::string_view path) {
    auto it = counts_.find(path);
    if (it == counts_.end()) it = counts_.emplace(std::string(path), 0).first;
    ++it->second;
}

void row_paths::remove(std::string_view path) {
    const auto it = counts_.find(path);
    if (it != counts_.end() && --it->second == 0) counts_.erase(it);
}

bool row_paths::wants(std::string_view path) const { return counts_.find(path) != counts_.end(); }

bool row_paths::leads_below(std::string_view path) const {
    // Paths below `path` start with it and a '.'; between them and `path`
    // itself sort only names that continue it with a byte below '.' ('-').
    for (auto it = counts_.upper_bound(path); it != counts_.end(); ++it) {
        const std::string_view p = it->first;
        if (p.size() <= path.size() || p.substr(0, path.size()) != path) return false;
        if (p[path.size()] == '.') return true;
    }
    return false;
}

bool row_paths::covers(const row_paths& other) const {
    for (const auto& [p, n] : other.counts_)
        if (!wants(p)) return false;
    return true;
}

}  // namespace notifier::core
