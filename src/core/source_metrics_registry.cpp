// SPDX-License-Identifier: MIT
#include "core/source_metrics_registry.hpp"

#include <algorithm>
#include <stdexcept>

namespace notifier {

namespace core {

std::uint64_t source_metrics_registry::add(std::string name, source_metrics_reader read) {
    if (name.empty()) throw std::invalid_argument("source metrics need a name");
    if (!read) throw std::invalid_argument("source metrics \"" + name + "\" need a reader");
    std::lock_guard lock(mutex_);
    for (const auto& e : entries_)
        if (e.name == name) throw std::invalid_argument("source metrics \"" + name + "\" are already registered");
    const auto id = next_id_++;
    entries_.push_back({id, std::move(name), std::move(read)});
    return id;
}

void source_metrics_registry::remove(std::uint64_t id) noexcept {
    std::lock_guard lock(mutex_);
    std::erase_if(entries_, [id](const entry& e) { return e.id == id; });
}

std::vector<std::pair<std::string, source_metrics>> source_metrics_registry::read_all() const {
    std::vector<std::pair<std::string, source_metrics>> out;
    std::lock_guard lock(mutex_);
    out.reserve(entries_.size());
    for (const auto& e : entries_) {
        try {
            out.emplace_back(e.name, e.read());
        } catch (...) {
            // A broken reader must not take the whole scrape down.
        }
    }
    return out;
}

}  // namespace core

metrics_registration::metrics_registration(metrics_registration&& o) noexcept
    : registry_(std::move(o.registry_)), id_(std::exchange(o.id_, 0)) {}

metrics_registration& metrics_registration::operator=(metrics_registration&& o) noexcept {
    if (this != &o) {
        reset();
        registry_ = std::move(o.registry_);
        id_ = std::exchange(o.id_, 0);
    }
    return *this;
}

void metrics_registration::reset() noexcept {
    if (id_ == 0) return;
    if (auto r = registry_.lock()) r->remove(id_);
    registry_.reset();
    id_ = 0;
}

}  // namespace notifier
