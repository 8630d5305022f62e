#include <notifier/errors.hpp>
#include <notifier/notifier.hpp>

#include <charconv>

namespace notifier {

std::error_code notifier::notify(std::string_view collection, std::string_view action,
                                 std::optional<std::string_view> id,
                                 std::optional<std::string_view> data_json) const {
    // Validate the views first: nothing is allocated for invalid input, and
    // the notification is built once.
    if (!is_valid_collection(collection)) return errc::invalid_collection;
    if (!is_valid_action(action)) return errc::invalid_action;
    if (id && !is_valid_id(*id)) return errc::invalid_id;
    if (data_json && !is_valid_json(*data_json)) return errc::invalid_data;
    notification n;
    n.collection = collection;
    n.action = action;
    if (id) n.id.emplace(*id);
    if (data_json) n.data.emplace(*data_json);
    return dispatch(std::move(n));
}

std::error_code notifier::notify(std::string_view collection, std::string_view action, std::int64_t id,
                                 std::optional<std::string_view> data_json) const {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, id);
    return notify(collection, action, std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)), data_json);
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

}  // namespace notifier
