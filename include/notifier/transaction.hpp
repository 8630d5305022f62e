// SPDX-License-Identifier: MIT
#pragma once
// Collects notifications alongside a database transaction and emits them only
// when it commits.

#include <notifier/notifier.hpp>

#include <vector>

namespace notifier {

/// Usage: `transaction tx(n); …db writes…; tx.notify(…); db.commit(); tx.commit();`
/// Nothing is emitted on rollback() or when destroyed uncommitted. The
/// notifications of one commit get consecutive seqs. Not thread-safe.
class transaction {
public:
    explicit transaction(const notifier& n) : notifier_(n) {}
    ~transaction() = default;  // uncommitted: discarded
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;

    /// Validates and records; errors as notifier::notify.
    std::error_code notify(std::string_view collection, std::string_view action,
                           std::optional<std::string_view> id = std::nullopt,
                           std::optional<std::string_view> data_json = std::nullopt);
    std::error_code notify(std::string_view collection, std::string_view action, std::int64_t id,
                           std::optional<std::string_view> data_json = std::nullopt);
    /// A whole notification, e.g. with `old` (the record before the change).
    std::error_code notify(notification n);

    /// Emits everything recorded as one batch. errc::already_finished if
    /// called twice or after rollback().
    std::error_code commit();
    /// Discards everything recorded.
    void rollback() noexcept;

    std::size_t size() const noexcept { return pending_.size(); }

private:
    notifier notifier_;
    std::vector<notification> pending_;
    bool finished_ = false;
};

}  // namespace notifier
