// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace loadgen {

struct options;

// What each publish carries and which clients expect it.
//
// Without --spread every client expects every publish (the implicit "*").
// With --spread K, publish n belongs to forum n mod K: its "id" is that
// number and its data carries "forum_id" with it; with --spread-old D it
// also carries "old":{"forum_id":(n + D) mod K} (a post moved between two
// forums). Client i is given forum i mod K, and {i} in
// --subscribe-template is replaced by that number, so a client subscribed
// to `posts[forum_id={i}]` (or `posts/{i}`) expects exactly the publishes
// of its forum (and, with old, those that left it).
//
// Thread use: the publisher thread calls accepted(); receivers call
// expected() only after the publisher has finished (its release store of
// "finished" orders the counts before).
class spread_plan {
public:
    explicit spread_plan(const options& o);

    bool enabled() const noexcept { return forums_ > 0; }
    // The forum of client `index` (over all receiving threads); -1 without --spread.
    int client_forum(std::size_t index) const noexcept {
        return forums_ > 0 ? int(index % std::size_t(forums_)) : -1;
    }
    // True when a client of `forum` (-1: every publish) expects publish n.
    bool meant_for(std::uint64_t n, int forum) const noexcept {
        if (forum < 0) return true;
        return data_forum(n) == std::uint64_t(forum) || (old_offset_ > 0 && old_forum(n) == std::uint64_t(forum));
    }
    // How many clients one publish reaches on average: clients without
    // --spread, clients × (1 or 2 with old) / K with it; --rate divides by it.
    double deliveries_per_publish(int clients) const noexcept;

    // The publish body for index n stamped with t (ns); returns its length
    // (< capacity) or 0 when it does not fit.
    std::size_t body(char* out, std::size_t capacity, std::uint64_t t, std::uint64_t n) const noexcept;

    // Publisher thread: the server accepted publish n.
    void accepted(std::uint64_t n) noexcept;
    // Accepted publishes that a client of `forum` expects; `published`
    // (all of them) when forum is -1.
    std::uint64_t expected(int forum, std::uint64_t published) const noexcept;

    // The `collections` query value of client `index` (percent-encoded, with
    // its leading "collections="), or empty without --subscribe-template.
    std::string query(std::size_t index) const;

private:
    std::uint64_t data_forum(std::uint64_t n) const noexcept { return n % std::uint64_t(forums_); }
    std::uint64_t old_forum(std::uint64_t n) const noexcept {
        return (n + std::uint64_t(old_offset_)) % std::uint64_t(forums_);
    }

    std::string collection_;
    std::string template_;
    int forums_ = 0;
    int old_offset_ = 0;
    std::unique_ptr<std::atomic<std::uint64_t>[]> accepted_;  // per forum
};

}  // namespace loadgen
