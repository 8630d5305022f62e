// SPDX-License-Identifier: MIT
#include <notifier/broker/memory_broker.hpp>
#include <notifier/errors.hpp>

#include "core/history.hpp"
#include "core/random_epoch.hpp"

namespace notifier {

struct memory_broker::impl {
    explicit impl(std::size_t n) : history(n) {}
    core::history history;
    std::string epoch = core::random_epoch();
    broker_handler* handler = nullptr;
    std::vector<publication_ptr> scratch;
};

memory_broker::memory_broker(std::size_t history_size) : impl_(std::make_unique<impl>(history_size)) {}
memory_broker::~memory_broker() = default;

void memory_broker::start(broker_handler& handler) { impl_->handler = &handler; }
void memory_broker::stop() { impl_->handler = nullptr; }

void memory_broker::publish(std::span<const notification> batch, publish_handler done) {
    if (!impl_->handler) {
        if (done) done(errc::stopped, 0);
        return;
    }
    const std::uint64_t first = impl_->history.last_seq() + 1;
    auto& pubs = impl_->scratch;
    pubs.clear();
    pubs.reserve(batch.size());
    for (const auto& n : batch) {
        auto pub = make_publication(impl_->history.last_seq() + 1, n);
        impl_->history.push(pub);
        pubs.push_back(std::move(pub));
    }
    // Hand out a moved copy: the handler may publish again re-entrantly.
    auto out = std::move(pubs);
    impl_->handler->on_publications(out);
    if (done) done({}, first);
}

void memory_broker::read(std::string_view epoch, std::uint64_t after, std::size_t max_count,
                         read_handler done) {
    history_page page;
    page.epoch = impl_->epoch;
    page.last_seq = impl_->history.last_seq();
    if (epoch != impl_->epoch)
        page.result = history_page::status::unknown_epoch;
    else
        page.result = impl_->history.read(after, max_count, page.pubs);
    done(std::move(page));
}

void memory_broker::restart(std::function<void(std::error_code)> done) {
    impl_->history = core::history(impl_->history.capacity());
    impl_->epoch = core::random_epoch();
    if (impl_->handler) impl_->handler->on_reset(impl_->epoch, 0);
    if (done) done({});
}

std::string memory_broker::epoch() const { return impl_->epoch; }
std::uint64_t memory_broker::last_seq() const { return impl_->history.last_seq(); }

}  // namespace notifier
