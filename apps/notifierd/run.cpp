// SPDX-License-Identifier: MIT
#include "run.hpp"

#include "config.hpp"

#include <notifier/notifier.hpp>
#ifdef NOTIFIER_WITH_REDIS
#include <notifier/broker/redis_broker.hpp>
#endif
#ifdef NOTIFIER_WITH_POSTGRES
#include <notifier/source/postgres_source.hpp>
#endif

#include <cctype>
#include <cstdio>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace notifierd {

namespace {

#ifdef NOTIFIER_WITH_POSTGRES
// "notifierd: postgres: <why>", once: the source's messages may start with "postgres: " already.
void print_postgres_error(const std::exception& e) {
    std::string_view why = e.what();
    if (why.rfind("postgres: ", 0) == 0) why.remove_prefix(10);
    std::fprintf(stderr, "notifierd: postgres: %.*s\n", static_cast<int>(why.size()), why.data());
}

notifier::postgres_source_options postgres_options(const postgres_config& c) {
    notifier::postgres_source_options o;
    o.conninfo = c.url;
    o.tables = c.tables;
    o.slot = c.slot;
    o.publication = c.publication;
    o.install = c.install;
    o.keep_replica_identity = c.keep_replica_identity;
    o.max_data_bytes = c.max_data_bytes;
    return o;
}

// What leaving the tables' replica identity costs, said where install
// reports what it did.
constexpr const char* kept_replica_identity_warning =
    "--keep-replica-identity: the tables keep their replica identity. With the default one (the primary key) "
    "PostgreSQL sends only the key columns of the old row: deletes reach every filtered subscription of their "
    "table (over-delivery), and an update moving a row out of a filter can be missed by that filter's "
    "subscribers.";

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

// `notifierd postgres install|uninstall [--print]`.
int run_postgres_command(const config& cfg) {
    const auto o = postgres_options(cfg.postgres);
    const bool install = cfg.what == command::postgres_install;
    try {
        if (cfg.print_sql) {
            if (install && o.keep_replica_identity) std::printf("-- %s\n", kept_replica_identity_warning);
            const auto sql = install ? notifier::postgres_source::install_sql(o) : notifier::postgres_source::uninstall_sql(o);
            std::fputs(sql.c_str(), stdout);
            return 0;
        }
        if (install)
            notifier::postgres_source::install(o);
        else
            notifier::postgres_source::uninstall(o);
    } catch (const std::invalid_argument& e) {
        print_postgres_error(e);
        return 2;
    } catch (const std::exception& e) {
        print_postgres_error(e);
        return 1;
    }
    std::printf("notifierd: %s slot \"%s\" and publication \"%s\"\n", install ? "installed" : "uninstalled",
                o.slot.c_str(), o.publication.c_str());
    if (install && o.keep_replica_identity)
        std::printf("notifierd: %s\n", kept_replica_identity_warning);
    else if (install)
        std::printf("notifierd: REPLICA IDENTITY FULL on %s: updates and deletes carry the old row\n",
                    joined(o.tables).c_str());
    else
        std::printf("notifierd: the tables keep their replica identity (ALTER TABLE ... REPLICA IDENTITY DEFAULT "
                    "to undo what install set)\n");
    return 0;
}
#endif

// "…: Address already in use" → "…: address already in use": the C
// library's error texts start with a capital, notifierd's messages do not.
std::string lowercase_reason(const std::system_error& e) {
    std::string what = e.what();
    const std::string reason = e.code().message();
    const bool word = reason.size() >= 2 && std::isupper(static_cast<unsigned char>(reason[0])) &&
                      std::islower(static_cast<unsigned char>(reason[1]));  // not an acronym
    if (word && what.size() >= reason.size() && what.ends_with(reason))
        what[what.size() - reason.size()] = static_cast<char>(std::tolower(static_cast<unsigned char>(reason[0])));
    return what;
}

notifier::broker_factory make_broker(const config& cfg) {
    if (cfg.redis_url.empty()) return {};  // in memory
#ifdef NOTIFIER_WITH_REDIS
    auto ro = notifier::parse_redis_url(cfg.redis_url);
    ro.history_size = cfg.hub.history_size;
    return notifier::make_redis_broker(ro);
#else
    throw std::invalid_argument("built without Redis support");  // config refuses it first
#endif
}

int serve(const config& cfg) {
    notifier::hub hub(cfg.hub, make_broker(cfg));
#ifdef NOTIFIER_WITH_POSTGRES
    std::unique_ptr<notifier::postgres_source> postgres;
    if (!cfg.postgres.url.empty()) {
        // Runtime errors (each followed by a reconnect) go to the hub's log.
        postgres = std::make_unique<notifier::postgres_source>(notifier::notifier(hub), postgres_options(cfg.postgres));
    }
#endif
    hub.listen();
#ifdef NOTIFIER_WITH_POSTGRES
    notifier::metrics_registration postgres_metrics;
    if (postgres) {
        try {
            postgres->start();
        } catch (const std::runtime_error& e) {
            print_postgres_error(e);
            return 1;
        }
        postgres_metrics = hub.add_source_metrics("postgres", [p = postgres.get()] {
            const auto s = p->stats();
            return notifier::source_metrics{s.connected, s.changes, s.errors, s.lag_ms / 1000.0};
        });
    }
#endif
    // Printed once everything started: scripts and tests wait for this line.
    const auto& h = cfg.hub.listen_host;
    const bool v6 = h.find(':') != std::string::npos;
    std::printf("notifierd listening on %s://%s%s%s:%u\n", hub.tls() ? "https" : "http", v6 ? "[" : "", h.c_str(),
                v6 ? "]" : "", hub.port());
    std::fflush(stdout);
    hub.run();
#ifdef NOTIFIER_WITH_POSTGRES
    postgres_metrics.reset();
    if (postgres) postgres->stop();
#endif
    std::printf("notifierd stopped\n");
    return 0;
}

}  // namespace

int run(const config& cfg) {
    try {
#ifdef NOTIFIER_WITH_POSTGRES
        if (cfg.what != command::serve) return run_postgres_command(cfg);
#endif
        return serve(cfg);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "notifierd: %s\n", e.what());
        return 2;
    } catch (const std::system_error& e) {  // e.g. hub::listen(): "cannot listen on HOST:PORT: …"
        std::fprintf(stderr, "notifierd: %s\n", lowercase_reason(e).c_str());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "notifierd: %s\n", e.what());
        return 1;
    }
}

}  // namespace notifierd
