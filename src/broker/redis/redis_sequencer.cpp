// SPDX-License-Identifier: MIT
#include "broker/redis/redis_sequencer.hpp"

#include <algorithm>

namespace notifier::redis {

void redis_sequencer::start(std::string epoch, std::uint64_t seq) {
    epoch_ = std::move(epoch);
    last_seq_ = known_seq_ = seq;
}

std::optional<std::uint64_t> redis_sequencer::left_at(std::string_view epoch) const {
    for (const auto& [e, last] : left_)
        if (e == epoch) return last;
    return std::nullopt;
}

void redis_sequencer::on_message(channel_message m) {
    if (m.epoch != epoch_ && left_at(m.epoch)) return;  // an epoch left already
    if (m.entries.empty()) {
        if (m.epoch != epoch_) new_epoch(std::move(m.epoch), 0);  // restart() on some node
        return;
    }
    if (m.epoch != epoch_) new_epoch(std::move(m.epoch), m.entries.front().pub->seq - 1);
    else if (lost_) return;  // the reused epoch: about to be left
    for (auto& e : m.entries) pending.push_back(std::move(e));
    process();
}

void redis_sequencer::catch_up() {
    const auto token = ++head_token_;
    reader_.read_head(last_seq_, last_nonce_, [this, token](script_head h) { on_head(token, std::move(h)); });
}

void redis_sequencer::on_head(std::uint64_t token, script_head h) {
    if (h.epoch != epoch_) return new_epoch(std::move(h.epoch), h.seq);
    if (lost_) {
        if (token <= lost_token_) return;  // asked before the reuse was seen
        // Redis could no longer compare (the entry was trimmed meanwhile):
        // at least this node's clients resync.
        lost_ = false;
        last_seq_ = known_seq_ = std::max(last_seq_, h.seq);
        last_nonce_.clear();
        events_.on_history_gap(epoch_, last_seq_);
        return;
    }
    known_seq_ = std::max(known_seq_, h.seq);
    if (filling_) return;
    // A fill lost with the connection leaves `pending` waiting: restart it.
    if (!pending.empty()) return process();
    if (h.seq > last_seq_) fill(last_seq_ + 1, h.seq);
}

void redis_sequencer::new_epoch(std::string e, std::uint64_t seq) {
    left_.emplace_back(epoch_, last_seq_);
    if (left_.size() > 16) left_.pop_front();
    epoch_ = std::move(e);
    last_seq_ = known_seq_ = seq;
    last_nonce_.clear();
    pending.clear();
    filling_ = false;
    ++fill_token_;
    lost_ = false;
    events_.on_new_epoch(epoch_, seq);
}

void redis_sequencer::process() {
    while (!pending.empty() && !filling_ && !lost_) {
        const auto& front = pending.front();
        if (front.pub->seq <= last_seq_) {
            // Delivered already (a fill overtook the channel), unless Redis
            // numbered another batch with this seq since.
            if (front.pub->seq == last_seq_ && !front.nonce.empty() && !last_nonce_.empty() &&
                front.nonce != last_nonce_)
                return seq_reused();
            pending.pop_front();
            continue;
        }
        if (front.pub->seq != last_seq_ + 1) return fill(last_seq_ + 1, front.pub->seq - 1);
        std::vector<stream_entry> run;
        while (!pending.empty() && pending.front().pub->seq == last_seq_ + 1) {
            run.push_back(std::move(pending.front()));
            pending.pop_front();
            ++last_seq_;
        }
        deliver(run);
    }
    // Redis had more than the channel brought (seen by catch_up): fetch it.
    if (pending.empty() && !filling_ && !lost_ && known_seq_ > last_seq_) fill(last_seq_ + 1, known_seq_);
}

void redis_sequencer::deliver(std::vector<stream_entry>& run) {
    if (run.empty()) return;
    last_nonce_ = run.back().nonce;
    std::vector<publication_ptr> pubs;
    pubs.reserve(run.size());
    for (auto& e : run) pubs.push_back(std::move(e.pub));
    events_.on_deliver(pubs);
}

// Missed publications (a gap in what the channel delivered, or an outage):
// read them from the stream, or resync if it no longer has them.
void redis_sequencer::fill(std::uint64_t from, std::uint64_t to) {
    if (filling_ || from > to) return;
    filling_ = true;
    const auto token = ++fill_token_;
    const bool sent = reader_.read_range(from, to, [this, token, from, to](auto got) {
        on_range(token, from, to, std::move(got));
    });
    if (!sent && token == fill_token_) filling_ = false;
}

void redis_sequencer::on_range(std::uint64_t token, std::uint64_t from, std::uint64_t to,
                               std::optional<std::vector<stream_entry>> got) {
    if (!filling_ || token != fill_token_) return;  // a new epoch meanwhile
    filling_ = false;
    if (!got) return;  // connection lost: catch_up() after reconnecting
    bool complete = got->size() == to - from + 1;
    for (std::size_t k = 0; complete && k < got->size(); ++k) complete = (*got)[k].pub->seq == from + k;
    last_seq_ = to;
    if (complete) {
        deliver(*got);
    } else {
        events_.on_warning("redis_history_gap", "Redis history no longer holds seq " + std::to_string(from) + ".." +
                                                    std::to_string(to) + "; clients resync");
        last_nonce_.clear();
        events_.on_history_gap(epoch_, to);
    }
    process();
}

// Redis shows another batch at a seq this node delivered: it came back with
// older data and numbered on from there. Like any lost data, a new epoch;
// the catch-up's script call makes it, for every node.
void redis_sequencer::seq_reused() {
    events_.on_warning("redis_seq_reused", "Redis numbered another publication with seq " + std::to_string(last_seq_) +
                                               ", delivered already; starting a new epoch");
    lost_ = true;
    lost_token_ = head_token_;
    pending.clear();
    filling_ = false;
    ++fill_token_;
    catch_up();
}

}  // namespace notifier::redis
