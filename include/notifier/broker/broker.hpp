// SPDX-License-Identifier: MIT
#pragma once
// The seam for scale-out: the hub publishes through a broker, which numbers
// notifications, keeps their history and hands them back through a
// broker_handler. Brokers never depend on the hub.

#include <notifier/notification.hpp>
#include <notifier/publication.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace notifier {

/// Receives what a broker publishes. Called on the hub's intake loop only.
class broker_handler {
public:
    virtual ~broker_handler() = default;

    /// Publications in strictly increasing seq order, each exactly once, with
    /// no gap within an epoch. Called after they are stored in the history.
    virtual void on_publications(std::span<const publication_ptr> pubs) = 0;

    /// The history was lost and a new epoch began at `seq`: every client must
    /// resync.
    virtual void on_reset(std::string_view epoch, std::uint64_t seq) = 0;

    /// Something an operator should know that the broker survives (a lost
    /// connection it retries, a refused command): the hub logs it at warn
    /// level as `event=<event> detail="<detail>"`. `event` is a short
    /// snake_case name.
    virtual void on_broker_warning(std::string_view event, std::string_view detail) {
        (void)event;
        (void)detail;
    }

    /// Something an operator should know that is not a problem, such as a
    /// lost connection restored: the hub logs it at info level as
    /// `event=<event> detail="<detail>"`. `event` is a short snake_case name.
    virtual void on_broker_info(std::string_view event, std::string_view detail) {
        (void)event;
        (void)detail;
    }
};

/// The answer to broker::read().
struct history_page {
    enum class status {
        ok,             ///< `pubs` holds what follows `after` (may be empty if nothing does)
        unknown_epoch,  ///< the epoch is not the broker's current one
        gone,           ///< notifications after `after` were evicted from the history
        future,         ///< `after` is beyond the newest notification
    };
    status result = status::ok;
    std::vector<publication_ptr> pubs;  ///< consecutive seqs from after + 1
    std::uint64_t last_seq = 0;         ///< newest seq stored when read
    std::string epoch;                  ///< the broker's current epoch
};

/// Numbers notifications, stores them in a bounded history and dispatches
/// them. Thread affinity: every member is called on the hub's intake loop, and
/// every callback runs there too; callbacks may run before the call returns.
class broker {
public:
    using publish_handler = std::function<void(std::error_code, std::uint64_t first_seq)>;
    using read_handler = std::function<void(history_page)>;

    virtual ~broker() = default;

    /// Starts dispatching to `handler`, which must outlive the broker's use.
    virtual void start(broker_handler& handler) = 0;

    /// Stops dispatching; pending callbacks may complete with an error.
    virtual void stop() = 0;

    /// Assigns consecutive seqs to `batch` (all or none), stores it, hands it
    /// to the handler, then calls `done` with the first seq. On failure
    /// nothing is published and `done` gets the error. `batch` is only valid
    /// during the call: a broker that works asynchronously copies it.
    virtual void publish(std::span<const notification> batch, publish_handler done) = 0;

    /// Reads up to `max_count` stored publications with seq > `after` in
    /// `epoch`.
    virtual void read(std::string_view epoch, std::uint64_t after, std::size_t max_count,
                      read_handler done) = 0;

    /// Starts a new epoch with an empty history, so every client resyncs
    /// (handler's on_reset): for a change source that lost changes it cannot
    /// name. `done` gets an error when the broker cannot (then nothing changed).
    virtual void restart(std::function<void(std::error_code)> done) = 0;

    /// The current epoch: a random id chosen when the history started.
    virtual std::string epoch() const = 0;

    /// The newest seq handed to the handler.
    virtual std::uint64_t last_seq() const = 0;

    /// False while the broker cannot publish (e.g. its server is
    /// unreachable): notify() then fails fast with errc::broker_unavailable.
    /// Thread-safe.
    virtual bool available() const noexcept { return true; }
};

/// Makes a broker bound to the hub's intake loop (called once, by the hub).
using broker_factory = std::function<std::unique_ptr<broker>(boost::asio::io_context&)>;

}  // namespace notifier
