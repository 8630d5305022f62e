// SPDX-License-Identifier: MIT
#include <notifier/errors.hpp>
#include <notifier/transaction.hpp>

#include "core/build_notification.hpp"

namespace notifier {

std::error_code transaction::notify(std::string_view collection, std::string_view action,
                                    std::optional<std::string_view> id,
                                    std::optional<std::string_view> data_json) {
    if (finished_) return errc::already_finished;
    notification n;
    if (auto ec = build_notification(collection, action, id, data_json, n)) return ec;
    pending_.push_back(std::move(n));
    return {};
}

std::error_code transaction::notify(std::string_view collection, std::string_view action, std::int64_t id,
                                    std::optional<std::string_view> data_json) {
    return notify(collection, action, integer_id(id).view(), data_json);
}

std::error_code transaction::notify(notification n) {
    if (finished_) return errc::already_finished;
    if (auto ec = validate(n)) return ec;
    pending_.push_back(std::move(n));
    return {};
}

std::error_code transaction::commit() {
    if (finished_) return errc::already_finished;
    finished_ = true;
    if (pending_.empty()) return {};
    return notifier_.notify_batch(std::move(pending_));
}

void transaction::rollback() noexcept {
    finished_ = true;
    pending_.clear();
}

}  // namespace notifier
