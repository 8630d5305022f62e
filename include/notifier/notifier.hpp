// SPDX-License-Identifier: MIT
#pragma once
// The front door: notify(collection, action[, id][, data]).
// Including this header gives the whole public API.

#include <notifier/errors.hpp>
#include <notifier/http_route.hpp>
#include <notifier/hub.hpp>
#include <notifier/metrics.hpp>
#include <notifier/notification.hpp>
#include <notifier/options.hpp>
#include <notifier/publication.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <system_error>

namespace notifier {

/// Validates notifications and hands them to a hub (or to a sink). Cheap to
/// copy; callable from any thread; never blocks on a socket.
class notifier {
public:
    /// Replaces the default "publish through the hub" (called on the caller's
    /// thread with each validated notification, in order).
    using sink = std::function<void(notification&&)>;

    explicit notifier(hub& h) : hub_(&h) {}
    notifier(hub& h, sink s) : hub_(&h), sink_(std::move(s)) {}
    explicit notifier(sink s) : sink_(std::move(s)) {}

    /// Publishes one change. `data_json` is one serialized JSON value.
    /// Returns an errc on invalid input, errc::overloaded when the hub's inbox
    /// is full, errc::broker_unavailable while the broker is down,
    /// errc::stopped after hub::stop() (a call racing with stop() may return
    /// success and still not be published).
    std::error_code notify(std::string_view collection, std::string_view action,
                           std::optional<std::string_view> id = std::nullopt,
                           std::optional<std::string_view> data_json = std::nullopt) const;
    /// Same with an integer id (sent as a string).
    std::error_code notify(std::string_view collection, std::string_view action, std::int64_t id,
                           std::optional<std::string_view> data_json = std::nullopt) const;
    std::error_code notify(notification n) const;

    /// Publishes already validated notifications as one batch (consecutive seqs).
    std::error_code notify_batch(std::vector<notification>&& batch) const;

    // --- for change sources that confirm to their database what is published ---

    /// Validates `batch`, publishes it as one batch and calls `done` (on the
    /// hub's intake loop) once the broker stored it: see hub::submit_confirmed().
    /// With a sink: hands each notification to the sink, then done({}, 0).
    /// Returns a validation error (then `done` is not called and `batch` is
    /// left as it was, so the caller can mend it and try again).
    std::error_code notify_confirmed(std::vector<notification>&& batch, hub::confirm_handler done) const;
    /// Every client resyncs: see hub::resync(). With a sink only: `done`
    /// gets errc::stopped (there is no one to resync).
    void resync(std::function<void(std::error_code)> done) const;
    /// A line in the hub's log (hub::log()), so that a change source reports
    /// where the hub does; with a sink only, nothing (no hub, no log).
    void log(log_level level, std::string_view event, std::string_view source, std::string_view detail) const {
        if (hub_) hub_->log(level, event, source, detail);
    }

private:
    std::error_code dispatch(notification&& n) const;  // n is valid

    hub* hub_ = nullptr;
    sink sink_;
};

}  // namespace notifier

#include <notifier/transaction.hpp>
#include <notifier/version.hpp>
