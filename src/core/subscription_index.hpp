// SPDX-License-Identifier: MIT
#pragma once
// Which subscribers want a notification, without scanning every session:
// subscribers are indexed by "*", by collection, by (collection, id), and
// filtered ones by (collection, first condition's field, its value). Pure
// and templated on the subscriber key, so it is tested without sockets.
//
// Matching a notification costs the subscribers it reaches plus, for a
// collection with filtered subscribers, one read of its data and old and
// one or two lookups per distinct first field: filters that want another
// value of that field are never looked at. Only when the notification
// lacks the field (on a side it carries), or carries neither data nor old,
// do all the filters on that field become candidates: the over-delivery
// rule says they match.

#include "core/notification_rows.hpp"
#include "core/topic.hpp"

#include <algorithm>
#include <functional>
#include <memory>
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
    /// Adds `key` under a topic. A filtered topic is kept by its filter
    /// (shared, not copied): the same filter object removes it again.
    void add(const topic& t, Key key) {
        if (t.filter) {
            auto& c = collection(t.collection);
            const auto& first = t.filter->conditions().front();
            auto& field = find_or_add(c.by_field, first.field);
            auto& v = find_or_add(field, first.value);
            v.push_back({key, t.filter});
            for (const auto& cond : t.filter->conditions()) c.paths.add(cond.field);
            return;
        }
        auto& v = slot(t.collection, t.id);
        if (std::find(v.begin(), v.end(), key) == v.end()) v.push_back(key);
    }
    /// Unfiltered topics by their parts: "*", a collection, or a collection and an id.
    void add(std::string_view collection, std::string_view id, Key key) { add(topic{std::string(collection), std::string(id), {}}, key); }

    void remove(const topic& t, Key key) {
        if (t.collection == "*") {
            erase_from(all_, key);
            return;
        }
        auto c = by_collection_.find(t.collection);
        if (c == by_collection_.end()) return;
        if (t.filter) {
            const auto& first = t.filter->conditions().front();
            if (auto f = c->second.by_field.find(first.field); f != c->second.by_field.end()) {
                if (auto v = f->second.find(first.value); v != f->second.end()) {
                    auto& keys = v->second;
                    auto it = std::find_if(keys.begin(), keys.end(),
                                           [&](const filtered& e) { return e.key == key && e.filter == t.filter; });
                    if (it != keys.end()) {
                        *it = std::move(keys.back());
                        keys.pop_back();
                        for (const auto& cond : t.filter->conditions()) c->second.paths.remove(cond.field);
                    }
                    if (keys.empty()) f->second.erase(v);
                }
                if (f->second.empty()) c->second.by_field.erase(f);
            }
        } else if (t.id.empty()) {
            erase_from(c->second.all, key);
        } else if (auto r = c->second.by_id.find(t.id); r != c->second.by_id.end()) {
            erase_from(r->second, key);
            if (r->second.empty()) c->second.by_id.erase(r);
        }
        if (c->second.all.empty() && c->second.by_id.empty() && c->second.by_field.empty()) by_collection_.erase(c);
    }
    void remove(std::string_view collection, std::string_view id, Key key) { remove(topic{std::string(collection), std::string(id), {}}, key); }

    /// Calls `f(key)` for each subscriber of "*", of `collection`, of
    /// (`collection`, `id`) when `id` is not empty, and of each filter of
    /// `collection` that the notification's `rows` match. A key subscribed
    /// to several of them is reported once per topic: callers deduplicate
    /// (the hub does it by seq, for free).
    template <class F>
    void match(std::string_view collection, std::string_view id, lazy_rows& rows, F&& f) const {
        match(collection, id, rows, f, [](const Key&) { return false; });
    }

    /// As above; a filter is not evaluated for a key `done(key)` says needs
    /// nothing more (it took this notification already, through another of
    /// its entries): a connection with many filters that all match costs
    /// one evaluation, not one per filter.
    template <class F, class Done>
    void match(std::string_view collection, std::string_view id, lazy_rows& rows, F&& f, Done&& done) const {
        for (const Key& k : all_) f(k);
        auto c = by_collection_.find(collection);
        if (c == by_collection_.end()) return;
        for (const Key& k : c->second.all) f(k);
        if (!id.empty() && !c->second.by_id.empty())
            if (auto r = c->second.by_id.find(id); r != c->second.by_id.end())
                for (const Key& k : r->second) f(k);
        if (c->second.by_field.empty()) return;
        const notification_rows& r = rows.get(&c->second.paths);
        const auto visit = [&](const std::vector<filtered>& keys) {
            for (const auto& e : keys)
                if (!done(e.key) && e.filter->matches(r)) f(e.key);
        };
        for (const auto& [field, values] : c->second.by_field) {
            // The values the field has on each side; a side without it (or
            // not an object) holds every filter on it.
            const std::string* look[2] = {nullptr, nullptr};
            bool every = !r.data.present && !r.old.present;
            std::size_t n = 0;
            for (const row_side* side : {&r.data, &r.old}) {
                if (every || !side->present) continue;
                const std::string* v = side->object ? side->find(field) : nullptr;
                if (!v) every = true;
                else look[n++] = v;
            }
            if (every) {
                for (const auto& [value, keys] : values) visit(keys);
                continue;
            }
            for (std::size_t i = 0; i < n; ++i) {
                if (i == 1 && *look[1] == *look[0]) break;
                if (auto v = values.find(*look[i]); v != values.end()) visit(v->second);
            }
        }
    }

    std::size_t collections() const noexcept { return by_collection_.size(); }
    bool empty() const noexcept { return all_.empty() && by_collection_.empty(); }

private:
    using keys = std::vector<Key>;
    struct filtered {
        Key key;
        std::shared_ptr<const row_filter> filter;
    };
    template <class V>
    using map = std::unordered_map<std::string, V, string_hash, std::equal_to<>>;
    struct collection_entry {
        keys all;
        map<keys> by_id;
        map<map<std::vector<filtered>>> by_field;  // first field → its value → filters
        row_paths paths;                           // every field the filters look at
    };

    template <class V>
    static V& find_or_add(map<V>& m, std::string_view k) {
        auto it = m.find(k);
        if (it == m.end()) it = m.emplace(std::string(k), V{}).first;
        return it->second;
    }

    collection_entry& collection(std::string_view name) { return find_or_add(by_collection_, name); }

    keys& slot(std::string_view collection_name, std::string_view id) {
        if (collection_name == "*") return all_;
        auto& c = collection(collection_name);
        if (id.empty()) return c.all;
        return find_or_add(c.by_id, id);
    }

    static void erase_from(keys& v, const Key& key) {
        auto it = std::find(v.begin(), v.end(), key);
        if (it == v.end()) return;
        *it = v.back();  // order among subscribers does not matter
        v.pop_back();
    }

    keys all_;
    map<collection_entry> by_collection_;
};

}  // namespace notifier::core
