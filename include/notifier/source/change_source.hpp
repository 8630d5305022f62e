// SPDX-License-Identifier: MIT
#pragma once
// A change source: turns the committed changes of a system of record (a
// database) into notifications, so application code never calls notify()
// by hand and cannot forget to.

#include <notifier/notification.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace notifier {

/// The action of the notification a source emits, without an id, when it
/// knows it lost changes of a collection (e.g. its change log was pruned
/// while it was not running): "reload this collection".
inline constexpr std::string_view reset_action = "reset";

/// The `reset_action` notification of one collection.
inline notification reset_notification(std::string collection) {
    notification n;
    n.collection = std::move(collection);
    n.action = reset_action;
    return n;
}

/// The contract every change source keeps:
///
/// * Exactly the committed changes: nothing for a change that was rolled back
///   (whole transaction, savepoint or failed statement), nothing before the
///   commit is visible to other connections, and no committed change skipped
///   silently. When a source knows it lost changes it emits one
///   `reset_action` notification per collection it watches.
/// * Ordering: changes are emitted in commit order; the changes of one
///   transaction are consecutive and in statement order.
/// * Delivery: each change once while the source runs and across a clean
///   stop()/start(); after a crash, the changes emitted since the source last
///   saved its position are emitted again (at least once).
/// * Thread affinity: every member may be called from any thread. The source
///   emits from a thread of its own, through the `notifier` it was given,
///   never from inside a caller's call.
/// * Failure: start() throws std::runtime_error when the source cannot be set
///   up (database missing, unknown table or column, invalid configuration).
///   Later errors are reported to the source's error handler and retried;
///   while the hub answers errc::overloaded the source waits and resends;
///   once the hub is stopped it stops emitting and keeps its position, so
///   the next start() emits what the hub refused.
class change_source {
public:
    virtual ~change_source() = default;

    /// Prepares the source (may write to the database) and starts its thread.
    virtual void start() = 0;
    /// Stops the thread after the batch in progress and saves the position.
    /// Idempotent.
    virtual void stop() = 0;
    /// Asks for a look at the source now instead of at the next poll: an
    /// in-process writer calls it after a commit for the lowest latency.
    virtual void wake() noexcept = 0;
    /// Blocks until every change committed before the call has been handed
    /// to the notifier; false on timeout or when the source is not running.
    virtual bool sync(std::chrono::milliseconds timeout) = 0;
};

}  // namespace notifier
