// SPDX-License-Identifier: MIT
#pragma once
// What the PostgreSQL source needs in the database — a publication of the
// watched tables, a logical replication slot using pgoutput and (unless
// kept) REPLICA IDENTITY FULL on those tables — and the checks that give a
// clear message when something is missing.

#include "source/postgres/pg_connection.hpp"
#include "source/postgres/row_encoder.hpp"

#include <notifier/source/postgres_source.hpp>

#include <boost/asio/awaitable.hpp>

#include <string>
#include <vector>

namespace notifier::pg {

/// Throws std::invalid_argument on an empty conninfo or table list, a slot or
/// publication name PostgreSQL would refuse, a table name that is not
/// `[schema.]name` of [A-Za-z0-9_] or two tables with the same name.
void validate(const postgres_source_options& o);
/// What uninstall needs: the conninfo, the slot and the publication names.
void validate_names(const postgres_source_options& o);

/// The statements install() runs, in order (each on its own: a slot cannot
/// be created in a transaction that wrote): REPLICA IDENTITY FULL on the
/// tables not yet so (unless o.keep_replica_identity), the publication, the
/// slot. uninstall_statements() leave the replica identity as it is.
std::vector<std::string> install_statements(const postgres_source_options& o);
std::vector<std::string> uninstall_statements(const postgres_source_options& o);

/// Checks the server (wal_level), resolves the tables (schema, primary key)
/// and checks — or with o.install creates — the publication and the slot.
/// Sets `slot_recreated` when the slot had to be made anew although this
/// source had streamed from it before (`streamed_before`): changes may be
/// lost, so clients must resync. Throws std::runtime_error with the reason.
boost::asio::awaitable<std::vector<watched_table>> prepare(pg_connection& c, const postgres_source_options& o,
                                                             bool streamed_before, bool& slot_recreated);

}  // namespace notifier::pg
