// SPDX-License-Identifier: MIT
#pragma once
// Which subscribers want a notification, without scanning every session:
// subscribers are indexed by "*", by collection and by (collection, id).
// Pure and templated on the subscriber key, so it is tested without sockets.

#include <algorithm>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace notifier::core {

struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

template <class Key>
class subscription_index {
public:
    /// Adds `key` under a topic: "*", a collection, or a collection and an id.
    void add(std::string_view collection, std::string_view id, Key key) {
        auto& v = slot(collection, id);
        if (std::find(v.begin(), v.end(), key) == v.end()) v.push_back(key);
    }

    void remove(std::string_view collection, std::string_view id, Key key) {
        if (collection == "*") {
            erase_from(all_, key);
            return;
        }
        auto c = by_collection_.find(collection);
        if (c == by_collection_.end()) return;
        if (id.empty()) {
            erase_from(c->second.all, key);
        } else if (auto r = c->second.by_id.find(id); r != c->second.by_id.end()) {
            erase_from(r->second, key);
            if (r->second.empty()) c->second.by_id.erase(r);
        }
        if (c->second.all.empty() && c->second.by_id.empty()) by_collection_.erase(c);
    }

    /// Calls `f(key)` for each subscriber of "*", of `collection`, and of
    /// (`collection`, `id`) when `id` is not empty. A key subscribed to
    /// several of them is reported once per topic: callers deduplicate (the
    /// hub does it by seq, for free).
    template <class F>
    void match(std::string_view collection, std::string_view id, F&& f) const {
        for (const Key& k : all_) f(k);
        auto c = by_collection_.find(collection);
        if (c == by_collection_.end()) return;
        for (const Key& k : c->second.all) f(k);
        if (id.empty() || c->second.by_id.empty()) return;
        if (auto r = c->second.by_id.find(id); r != c->second.by_id.end())
            for (const Key& k : r->second) f(k);
    }

    std::size_t collections() const noexcept { return by_collection_.size(); }
    bool empty() const noexcept { return all_.empty() && by_collection_.empty(); }

private:
    using keys = std::vector<Key>;
    struct collection_entry {
        keys all;
        std::unordered_map<std::string, keys, string_hash, std::equal_to<>> by_id;
    };

    keys& slot(std::string_view collection, std::string_view id) {
        if (collection == "*") return all_;
        auto c = by_collection_.find(collection);
        if (c == by_collection_.end()) c = by_collection_.emplace(std::string(collection), collection_entry{}).first;
        if (id.empty()) return c->second.all;
        auto r = c->second.by_id.find(id);
        if (r == c->second.by_id.end()) r = c->second.by_id.emplace(std::string(id), keys{}).first;
        return r->second;
    }

    static void erase_from(keys& v, const Key& key) {
        auto it = std::find(v.begin(), v.end(), key);
        if (it == v.end()) return;
        *it = v.back();  // order among subscribers does not matter
        v.pop_back();
    }

    keys all_;
    std::unordered_map<std::string, collection_entry, string_hash, std::equal_to<>> by_collection_;
};

}  // namespace notifier::core
