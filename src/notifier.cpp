// SPDX-License-Identifier: MIT
#include <notifier/errors.hpp>
#include <notifier/notifier.hpp>

#include "core/build_notification.hpp"

namespace notifier {

std::error_code notifier::notify(std::string_view collection, std::string_view action,
                                 std::optional<std::string_view> id,
                                 std::optional<std::string_view> data_json) const {
    if (auto ec = validate_fields(collection, action, id, data_json)) return ec;
    if (!sink_) {
        // The hub copies the views straight into its inbox: no notification
        // (and no allocation) is built on the caller's thread.
        return hub_ ? hub_->submit(collection, action, id, data_json) : make_error_code(errc::stopped);
    }
    sink_(make_notification(collection, action, id, data_json));
    return {};
}

std::error_code notifier::notify(std::string_view collection, std::string_view action, std::int64_t id,
                                 std::optional<std::string_view> data_json) const {
    return notify(collection, action, integer_id(id).view(), data_json);
}

std::error_code notifier::notify(notification n) const {
    if (auto ec = validate(n)) return ec;
    return dispatch(std::move(n));
}

std::error_code notifier::dispatch(notification&& n) const {
    if (sink_) {
        sink_(std::move(n));
        return {};
    }
    return hub_ ? hub_->submit(std::move(n)) : make_error_code(errc::stopped);
}

std::error_code notifier::notify_batch(std::vector<notification>&& batch) const {
    for (const auto& n : batch)
        if (auto ec = validate(n)) return ec;
    if (sink_) {
        for (auto& n : batch) sink_(std::move(n));
        return {};
    }
    return hub_ ? hub_->submit(std::move(batch)) : make_error_code(errc::stopped);
}

std::error_code notifier::notify_confirmed(std::vector<notification>&& batch, hub::confirm_handler done) const {
    for (const auto& n : batch)
        if (auto ec = validate(n)) return ec;
    if (sink_) {
        for (auto& n : batch) sink_(std::move(n));
        if (done) done({}, 0);
        return {};
    }
    if (!hub_) return errc::stopped;
    hub_->submit_confirmed(std::move(batch), std::move(done));
    return {};
}

void notifier::resync(std::function<void(std::error_code)> done) const {
    if (hub_ && !sink_) return hub_->resync(std::move(done));
    if (done) done(errc::stopped);
}

}  // namespace notifier
