// SPDX-License-Identifier: MIT
#pragma once
// What one connection is subscribed to and may read: its sorted entries,
// kept parsed, and the permissions of its token. Pure: it never touches the
// subscription index; each change reports the topics that left and joined
// through callbacks, and the session applies them to its shard's index.

#include "core/permissions.hpp"
#include "core/protocol_codec.hpp"
#include "core/topic.hpp"

#include <notifier/publication.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace notifier::core {

class lazy_rows;

class subscription_set {
public:
    /// Called with a topic that left or joined the set; the topic's views
    /// are valid during the call only.
    using topic_fn = std::function<void(const topic&)>;

    /// `names` are entries in any spelling (invalid ones are dropped), in
    /// any order and possibly repeated; the set keeps them canonical. `implicit_all`: the client named none, so
    /// `names` is everything its token allows and a first subscribe
    /// replaces it instead of adding to it.
    subscription_set(std::vector<std::string> names, bool implicit_all, permissions perms,
                     std::size_t max_subscriptions);
    subscription_set(subscription_set&&) noexcept = default;
    subscription_set& operator=(subscription_set&&) noexcept = default;
    subscription_set(const subscription_set&) = delete;
    subscription_set& operator=(const subscription_set&) = delete;

    /// Canonical (topic::name()), sorted and unique.
    const std::vector<std::string>& names() const noexcept { return names_; }
    /// The same entries parsed, in the same order: for whoever indexes the
    /// connection, so that it need not parse the names again.
    const std::vector<topic>& topics() const noexcept { return parsed_; }
    bool implicit_all() const noexcept { return implicit_all_; }
    const permissions& perms() const noexcept { return perms_; }

    /// True if an entry of the set matches the publication, whose data and
    /// old are `rows`.
    bool matches(const publication& pub, lazy_rows& rows) const;
    /// True if the token may read the publication: subscriptions stay within
    /// the permissions, and this holds delivery there as well.
    bool readable(const publication& pub, lazy_rows& rows) const;
    /// Both: what a replay from the history queues.
    bool wants(const publication& pub) const;

    /// Adds valid `entries` (as parse_client_message gives them, in any
    /// spelling): all or nothing. Refused with `forbidden` at the first entry the token does
    /// not allow (in the order given), then with `too_many_subscriptions`
    /// when the result would exceed the limit. While implicit_all() the
    /// entries replace the set rather than join it. Reports the topics that
    /// left, then those that joined, each once. Repeated entries are dropped
    /// before anything else, and each check is O(1) (permissions) — plus
    /// one comparison per filtered grant of the entry's collection — so a
    /// frame of n entries costs O(n log n) for a claim without filters.
    std::optional<protocol_error> subscribe(const std::vector<std::string>& entries, const topic_fn& left,
                                            const topic_fn& joined);
    /// Removes those of `entries` that are in the set, compared in canonical
    /// form; unknown and invalid ones are ignored. Reports each topic that left once, in the order asked.
    /// Removing "*" ends implicit_all(). O((n + k) log n).
    void unsubscribe(const std::vector<std::string>& entries, const topic_fn& left);
    /// A new token: its permissions replace the old ones and the entries it
    /// does not allow leave. True if any left.
    bool restrict_to(permissions perms, const topic_fn& left);

private:
    std::vector<std::string> names_;  // sorted, unique, valid, canonical
    std::vector<topic> parsed_;       // parsed_[i] is names_[i]
    bool implicit_all_;
    permissions perms_;
    std::size_t max_;
};

}  // namespace notifier::core
