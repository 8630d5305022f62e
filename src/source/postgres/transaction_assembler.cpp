// SPDX-License-Identifier: MIT
#include "source/postgres/transaction_assembler.hpp"

#include <notifier/source/change_source.hpp>

#include <stdexcept>
#include <variant>

namespace notifier::pg {

void transaction_assembler::restart() {
    relations_.clear();
    in_txn_ = false;
    txn_.clear();
    collapsed_ = false;
    collapsed_collections_.clear();
}

const watched_table* transaction_assembler::table_of(const relation& r) const {
    for (const auto& t : tables_)
        if (t.schema == r.schema && t.name == r.name) return &t;
    return nullptr;
}

void transaction_assembler::collapse() {
    for (const auto& n : txn_) collapsed_collections_.insert(n.collection);
    txn_.clear();
    collapsed_ = true;
}

std::optional<committed_transaction> transaction_assembler::add(const message& msg) {
    if (std::holds_alternative<begin>(msg)) {
        // A Begin inside a transaction: the previous one never committed.
        in_txn_ = true;
        txn_.clear();
        collapsed_collections_.clear();
        collapsed_ = false;
    } else if (auto* r = std::get_if<relation>(&msg)) {
        relations_[r->oid] = *r;
    } else if (auto* c = std::get_if<change>(&msg)) {
        if (!in_txn_) throw std::runtime_error("a change outside a transaction");
        auto it = relations_.find(c->relation);
        if (it == relations_.end()) throw std::runtime_error("change of an unannounced relation");
        const auto* t = table_of(it->second);
        if (!t) return std::nullopt;  // published by someone else's choice: not ours
        if (collapsed_) {
            collapsed_collections_.insert(t->collection);
            return std::nullopt;
        }
        encoder_.encode(*t, it->second, *c, txn_);
        if (txn_.size() > max_changes_) collapse();
    } else if (auto* tr = std::get_if<truncate>(&msg)) {
        if (!in_txn_) throw std::runtime_error("a truncate outside a transaction");
        for (auto oid : tr->relations) {
            auto it = relations_.find(oid);
            const auto* t = it == relations_.end() ? nullptr : table_of(it->second);
            if (!t) continue;
            if (collapsed_)
                collapsed_collections_.insert(t->collection);
            else
                txn_.push_back(reset_notification(t->collection));
        }
    } else if (auto* cm = std::get_if<commit>(&msg)) {
        if (!in_txn_) throw std::runtime_error("a commit outside a transaction");
        in_txn_ = false;
        committed_transaction out{cm->end_lsn, cm->commit_time, {}};
        if (collapsed_) {
            for (const auto& name : collapsed_collections_) out.changes.push_back(reset_notification(name));
        } else {
            out.changes = std::move(txn_);
        }
        txn_.clear();
        collapsed_ = false;
        collapsed_collections_.clear();
        return out;
    }
    return std::nullopt;
}

}  // namespace notifier::pg
