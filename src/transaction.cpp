#include <notifier/errors.hpp>
#include <notifier/transaction.hpp>

#include <charconv>

namespace notifier {

std::error_code transaction::notify(std::string_view collection, std::string_view action,
                                    std::optional<std::string_view> id,
                                    std::optional<std::string_view> data_json) {
    if (finished_) return errc::already_finished;
    notification n;
    n.collection = collection;
    n.action = action;
    if (id) n.id.emplace(*id);
    if (data_json) n.data.emplace(*data_json);
    if (auto ec = validate(n)) return ec;
    pending_.push_back(std::move(n));
    return {};
}

std::error_code transaction::notify(std::string_view collection, std::string_view action, std::int64_t id,
                                    std::optional<std::string_view> data_json) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, id);
    return notify(collection, action, std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)), data_json);
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
