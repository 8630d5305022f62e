// SPDX-License-Identifier: MIT
#include "config.hpp"

#include "config_error.hpp"
#include "option_set.hpp"
#include "toml_config.hpp"

#include <notifier/hub.hpp>
#include <notifier/options.hpp>
#include <notifier/version.hpp>
#ifdef NOTIFIER_WITH_REDIS
#include <notifier/broker/redis_broker.hpp>
#endif

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string_view>
#include <vector>

namespace notifierd {

namespace {

// Options whose value is not yet a notifier::options field.
struct raw_options {
    std::string listen = "127.0.0.1:8080";
    std::string log_level = "info";
    bool no_metrics = false;
    long ping = 0, handshake = 0, close_timeout = 0;
    std::size_t threads = 0;
    std::string jwt_public_key_file, publish_keys_file;
    std::string tls_min_version = "1.2";
    bool insecure = false;
    std::string config_file;
    bool check_config = false;
};

// The option set: every option here is also NOTIFIER_<NAME> and a file key.
void declare(CLI::App& app, option_set& opts, config& c, raw_options& r) {
    auto& o = c.hub;
    r.ping = o.ping_interval.count();
    r.handshake = o.handshake_timeout.count();
    r.close_timeout = o.close_timeout.count();
    r.threads = o.threads;

    app.add_option("--config", r.config_file, "TOML file with any of these options (docs/configuration.md)")
        ->envname("NOTIFIER_CONFIG");
    app.add_flag("--check-config", r.check_config, "validate the configuration, print the effective one and exit");

    opts.add(app, "listen", r.listen,
             "address to listen on, HOST:PORT; HOST an IP address or a name such as localhost (port 0 picks one)");
    opts.add(app, "threads", r.threads,
             "event loops serving connections, one thread each; 0: one per hardware thread (default)")
        ->check(CLI::Range(0ul, 1024ul));
    opts.add(app, "redis", c.redis_url,
             "redis://HOST[:PORT][/PREFIX]: share seq and history with every node on that Redis (default: in memory)");
    opts.add(app, "static-dir", o.static_dir, "directory served at / (default: built-in live page)");
    opts.add(app, "history", o.history_size, "notifications kept for resume")->check(CLI::Range(1ul, 100'000'000ul));
    opts.add(app, "max-queue-bytes", o.max_queue_bytes, "per-connection outbound queue; above it: close 4008")
        ->check(CLI::Range(1024ul, 1ul << 34));
    opts.add(app, "ping-interval", r.ping, "seconds between server pings; 0 disables")->check(CLI::Range(0l, 86400l));
    opts.add(app, "max-message-bytes", o.max_message_bytes, "largest client message; above it: close 1009")
        ->check(CLI::Range(128ul, 1ul << 30));
    opts.add(app, "max-publish-bytes", o.max_publish_bytes, "largest POST /publish body; above it: 413")
        ->check(CLI::Range(128ul, 1ul << 34));
    opts.add(app, "max-header-bytes", o.max_header_bytes, "largest HTTP request header; above it: 431")
        ->check(CLI::Range(512ul, 1ul << 20));
    opts.add(app, "max-subscriptions", o.max_subscriptions, "subscription entries per connection")
        ->check(CLI::Range(1ul, 1ul << 20));
    opts.add(app, "handshake-timeout", r.handshake, "seconds a connection may take to send its HTTP request")
        ->check(CLI::Range(1l, 3600l));
    opts.add(app, "close-timeout", r.close_timeout, "seconds a closing connection may take to answer")
        ->check(CLI::Range(1l, 3600l));
    opts.add(app, "log-level", r.log_level, "trace, debug (one line per connection event), info, warn, error or off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
    opts.add_flag(app, "no-metrics", r.no_metrics, "do not serve GET /metrics (Prometheus text; docs/operations.md)");

    auto& sec = *app.add_option_group("Security", "see docs/security.md");
    opts.add(sec, "jwt-secret", o.jwt_secret, "HS256 secret for subscriber tokens");
    opts.secret("jwt-secret");
    opts.add(sec, "jwt-public-key", r.jwt_public_key_file, "PEM public key file: RS256 (RSA) or ES256 (P-256) tokens")
        ->check(CLI::ExistingFile);
    opts.add(sec, "jwt-issuer", o.jwt_issuer, "required iss claim (default: not checked)");
    opts.add(sec, "jwt-audience", o.jwt_audience, "required aud claim (default: not checked)");
    opts.add(sec, "publish-key", o.publish_keys,
             "key required as Authorization: Bearer on POST /publish; repeatable (the variable holds one)");
    opts.secret("publish-key");
    opts.add(sec, "publish-keys-file", r.publish_keys_file, "file with one publish key per line")
        ->check(CLI::ExistingFile);
    opts.add(sec, "allow-origin", o.allowed_origins,
             "browser origin allowed besides the server's own, e.g. https://app.example; repeatable or a,b")
        ->delimiter(',');
    opts.add_flag(sec, "insecure", r.insecure, "allow a non-loopback --listen without any authentication");
    opts.add(sec, "max-connections", o.max_connections, "open connections in total");
    opts.add(sec, "max-connections-per-ip", o.max_connections_per_ip, "open connections per client IP (loopback exempt)");
    opts.add_flag(sec, "limit-loopback", o.limit_loopback, "apply the per-IP limit to loopback clients too");
    opts.add(sec, "max-messages-per-second", o.max_messages_per_second, "client messages per second per connection")
        ->check(CLI::Validator(
            [](std::string& s) { return std::strtod(s.c_str(), nullptr) > 0 ? std::string() : "must be greater than 0"; },
            "POSITIVE"));
    opts.add(sec, "message-burst", o.message_burst, "client message burst; that many refusals in a row close with 1008")
        ->check(CLI::Range(1ul, 1ul << 20));

    auto& tls = *app.add_option_group("TLS", "see docs/security.md");
    opts.add(tls, "tls-cert", o.tls_cert_file,
             "PEM certificate chain, the server's certificate first; with --tls-key the listener speaks only TLS "
             "(https://, wss://); both files are read again on SIGHUP")
        ->check(CLI::ExistingFile);
    opts.add(tls, "tls-key", o.tls_key_file, "PEM private key of --tls-cert")->check(CLI::ExistingFile);
    opts.add(tls, "tls-min-version", r.tls_min_version, "oldest TLS version accepted: 1.2 (default) or 1.3")
        ->check(CLI::IsMember({"1.2", "1.3"}));
    opts.add_flag(tls, "tls-kernel", o.tls_kernel,
                  "let the kernel encrypt what is sent (kTLS) where its tls module takes the cipher");

#ifdef NOTIFIER_WITH_POSTGRES
    auto& pg = *app.add_option_group("PostgreSQL", "change capture through logical decoding (docs/configuration.md)");
    opts.add(pg, "postgres", c.postgres.url, "libpq URL or connection string of the database to watch");
    opts.add(pg, "tables", c.postgres.tables, "tables to watch, name or schema.name; repeatable or a,b")
        ->delimiter(',');
    opts.add(pg, "postgres-slot", c.postgres.slot, "replication slot notifierd owns");
    opts.add(pg, "postgres-publication", c.postgres.publication, "publication notifierd owns");
    opts.add_flag(pg, "postgres-install", c.postgres.install,
                  "create the slot and publication at start when missing, and set the tables' replica identity as "
                  "`postgres install` does");
    opts.add_flag(pg, "keep-replica-identity", c.postgres.keep_replica_identity,
                  "installing: leave the tables' replica identity as it is instead of setting REPLICA IDENTITY FULL "
                  "(then deletes carry only the key columns and updates no old row)");
    opts.add(pg, "postgres-max-data-bytes", c.postgres.max_data_bytes,
             "larger rows are sent without data, with \"data_omitted\":true")
        ->check(CLI::Range(0ul, 1ul << 30));

    auto* pg_command = app.add_subcommand("postgres", "set up or remove what the capture needs in the database")
                           ->require_subcommand(1);
    pg_command->fallthrough();  // the options above, after the subcommand
    auto* install = pg_command->add_subcommand(
        "install",
        "set REPLICA IDENTITY FULL on the tables (so updates and deletes carry the old row), create the "
        "publication and the slot (idempotent)");
    auto* uninstall = pg_command->add_subcommand(
        "uninstall", "drop the slot and the publication (idempotent); the tables keep their replica identity");
    install->footer("Takes notifierd's options too (flags, NOTIFIER_* variables or --config): --postgres URL, "
                    "--tables, --postgres-slot, --postgres-publication, --keep-replica-identity (leave the "
                    "tables' replica identity as it is).");
    uninstall->footer("Takes notifierd's options too (flags, NOTIFIER_* variables or --config): --postgres URL, "
                      "--postgres-slot, --postgres-publication. REPLICA IDENTITY FULL set by install stays: "
                      "what it was before is not recorded; reset it with ALTER TABLE ... REPLICA IDENTITY DEFAULT.");
    for (auto* sub : {install, uninstall}) {
        sub->fallthrough();
        sub->add_flag("--print", c.print_sql, "print the SQL instead of running it (connects to nothing)");
    }
    install->parse_complete_callback([&c] { c.what = command::postgres_install; });
    uninstall->parse_complete_callback([&c] { c.what = command::postgres_uninstall; });
#else
    opts.not_built({"postgres", "tables", "postgres-slot", "postgres-publication", "postgres-install",
                    "keep-replica-identity", "postgres-max-data-bytes"},
                   "this notifierd was built without PostgreSQL support");
#endif
}

bool read_file(const std::string& path, std::string& out) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return false;
    out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    return !f.bad();
}

// Turns the parsed values into notifier::options and refuses what cannot work.
void validate(config& c, const raw_options& r, const option_set& opts) {
    auto& o = c.hub;
    if (!notifier::parse_listen_address(r.listen, o.listen_host, o.listen_port))
        throw config_error("--listen: expected HOST:PORT, got \"" + r.listen + "\"" + opts.source("listen"));
    if (o.listen_host.empty()) o.listen_host = "0.0.0.0";  // ":PORT": every interface
    o.ping_interval = std::chrono::seconds(r.ping);
    notifier::parse_log_level(r.log_level, o.log_level);  // checked by IsMember
    o.metrics = !r.no_metrics;
    o.handshake_timeout = std::chrono::seconds(r.handshake);
    o.close_timeout = std::chrono::seconds(r.close_timeout);
    o.threads = static_cast<unsigned>(r.threads);

    if (!c.redis_url.empty()) {
#ifdef NOTIFIER_WITH_REDIS
        try {
            (void)notifier::parse_redis_url(c.redis_url);
        } catch (const std::invalid_argument& e) {
            throw config_error(std::string("--redis: ") + e.what() + opts.source("redis"));
        }
#else
        throw config_error("--redis: this notifierd was built without Redis support");
#endif
    }

    if (!r.jwt_public_key_file.empty() && !read_file(r.jwt_public_key_file, o.jwt_public_key_pem))
        throw config_error("--jwt-public-key: cannot read " + r.jwt_public_key_file + opts.source("jwt-public-key"));
    if (!o.jwt_secret.empty() && !o.jwt_public_key_pem.empty())
        throw config_error("use either --jwt-secret (HS256) or --jwt-public-key (RS256/ES256), not both");
    // An HMAC key shorter than the hash output weakens HS256 below its
    // design: RFC 7518 section 3.2 requires at least 256 bits.
    constexpr std::size_t min_secret_bytes = 32;
    if (!o.jwt_secret.empty() && o.jwt_secret.size() < min_secret_bytes)
        throw config_error("--jwt-secret: an HS256 secret must be at least 32 bytes (256 bits, RFC 7518 "
                           "section 3.2), got " + std::to_string(o.jwt_secret.size()) +
                           "; e.g. openssl rand -hex 32" + opts.source("jwt-secret"));
    constexpr std::size_t min_key_size = 16;
    for (const auto& k : o.publish_keys)
        if (k.size() < min_key_size)
            throw config_error("--publish-key: publish keys must be at least 16 characters" + opts.source("publish-key"));
    if (!r.publish_keys_file.empty()) {
        std::ifstream f(r.publish_keys_file);
        if (!f)
            throw config_error("--publish-keys-file: cannot read " + r.publish_keys_file + ": " +
                               std::strerror(errno) + opts.source("publish-keys-file"));
        int number = 0;
        for (std::string line; std::getline(f, line);) {
            ++number;
            while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
            if (line.empty() || line.front() == '#') continue;
            if (line.size() < min_key_size)
                throw config_error("--publish-keys-file: publish keys must be at least 16 characters (" +
                                   r.publish_keys_file + ":" + std::to_string(number) + ")");
            o.publish_keys.push_back(line);
        }
    }
    notifier::parse_tls_version(r.tls_min_version, o.tls_min_version);  // checked by IsMember
    if (o.tls_cert_file.empty() != o.tls_key_file.empty())
        throw config_error(o.tls_cert_file.empty() ? "--tls-key needs --tls-cert, the certificate it belongs to"
                                                   : "--tls-cert needs --tls-key, the certificate's private key");
    if (!o.tls_cert_file.empty()) {
        try {
            notifier::hub::check_tls(o);
        } catch (const std::invalid_argument& e) {
            throw config_error(std::string("--tls-cert/--tls-key: ") + e.what());
        }
    }
    for (const auto& origin : o.allowed_origins)
        if (origin.empty()) throw config_error("--allow-origin: empty origin" + opts.source("allow-origin"));

    const auto& pg = c.postgres;
    for (const auto& t : pg.tables)
        if (t.empty()) throw config_error("--tables: empty table name" + opts.source("tables"));
    if (c.what == command::serve) {
        if (!pg.tables.empty() && pg.url.empty())
            throw config_error("--tables needs --postgres, the database whose tables to watch");
        if (!pg.url.empty() && pg.tables.empty())
            throw config_error("--postgres needs --tables, the tables to watch");
    } else {
        const char* name = c.what == command::postgres_install ? "postgres install" : "postgres uninstall";
        // Dropping the slot and the publication needs only their names.
        if (pg.tables.empty() && c.what == command::postgres_install)
            throw config_error(std::string(name) + " needs --tables");
        if (pg.url.empty()) throw config_error(std::string(name) + " needs --postgres");
    }
}

// The addresses --listen's host stands for, resolved as hub::listen() does
// (an IP address as is; a name through the resolver, numeric port, without
// AI_ADDRCONFIG), so that --check-config refuses what serving would.
std::vector<boost::asio::ip::address> listen_addresses(const notifier::options& o, const option_set& opts) {
    boost::system::error_code ec;
    if (const auto addr = boost::asio::ip::make_address(o.listen_host, ec); !ec) return {addr};
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::resolver resolver(ioc);
    const auto results = resolver.resolve(o.listen_host, std::to_string(o.listen_port),
                                          boost::asio::ip::tcp::resolver::numeric_service, ec);
    std::vector<boost::asio::ip::address> out;
    if (!ec)
        for (const auto& r : results) out.push_back(r.endpoint().address());
    if (out.empty())
        throw config_error("--listen: cannot resolve \"" + o.listen_host + "\"" +
                           (ec ? ": " + ec.message() : std::string()) + opts.source("listen"));
    return out;
}

// Safe defaults: without any authentication, stay on loopback unless told.
// A name counts as loopback when every address it resolves to is one.
void check_exposure(const notifier::options& o, const std::vector<boost::asio::ip::address>& addresses,
                    bool insecure) {
    const bool any_auth = !o.jwt_secret.empty() || !o.jwt_public_key_pem.empty() || !o.publish_keys.empty();
    const bool subscribers_auth = !o.jwt_secret.empty() || !o.jwt_public_key_pem.empty();
    if (any_auth && (subscribers_auth != !o.publish_keys.empty()))
        std::fprintf(stderr, "notifierd: WARNING: %s\n",
                     subscribers_auth ? "no --publish-key: anyone who can reach the server may publish"
                                      : "no --jwt-secret/--jwt-public-key: anyone who can reach the server may subscribe");
    if (any_auth) return;
    const bool loopback =
        std::all_of(addresses.begin(), addresses.end(), [](const auto& a) { return a.is_loopback(); });
    if (!loopback && !insecure)
        throw config_error("refusing to listen on " + o.listen_host +
                           " without authentication: set --jwt-secret or --jwt-public-key and --publish-key, "
                           "or pass --insecure");
    std::fprintf(stderr,
                 "notifierd: WARNING: running WITHOUT AUTHENTICATION: anyone who can reach %s may "
                 "subscribe to everything and publish\n",
                 o.listen_host.c_str());
}

// CLI11 says "The following arguments were not expected: --max-queue-byte
// 4096"; say which flag is unknown and, as for a mistyped key of the file,
// which one was probably meant. Empty when no unknown --flag is among the
// extras (only stray positional arguments).
std::string unknown_options(const CLI::App& app, const option_set& opts) {
    static constexpr std::string_view own[] = {"config", "check-config", "help", "version"};
    std::string out;
    for (const auto& arg : app.remaining(true)) {
        if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) continue;
        const std::string name = arg.substr(2, arg.find('=') - 2);
        if (!out.empty()) out += "\nnotifierd: ";
        out += "unknown option --" + name;
        if (const auto close = opts.suggest(name, own); !close.empty()) out += " (did you mean --" + close + "?)";
    }
    return out;
}

}  // namespace

std::optional<config> parse_config(int argc, char** argv, int& exit_code) {
    config c;
    c.hub.handle_signals = true;
    raw_options r;
    option_set opts;
    CLI::App app{"notifierd: real-time change notifications over WebSocket (protocol v1, see docs/protocol.md)\n"
                 "Every option is also a NOTIFIER_* variable and a key of the --config file; "
                 "flag > variable > file > default."};
    app.get_formatter()->column_width(44);
    app.set_version_flag("--version", std::string("notifierd ") + notifier::version_string);
    declare(app, opts, c, r);

    exit_code = 2;
    opts.note_origins(argc, argv);
    try {
        app.parse(argc, argv);
        if (!r.config_file.empty()) apply_toml_file(opts, r.config_file);
        // Before validate() adds the keys of --publish-keys-file to publish-key.
        const std::string effective = r.check_config ? opts.effective_toml() : std::string();
        validate(c, r, opts);
        if (c.what == command::serve) check_exposure(c.hub, listen_addresses(c.hub, opts), r.insecure);
        if (r.check_config) {
            std::fputs(effective.c_str(), stdout);
            exit_code = 0;
            return std::nullopt;
        }
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) {  // --help
            exit_code = app.exit(e);
            return std::nullopt;
        }
        std::string message = opts.explain(e.what());
        if (dynamic_cast<const CLI::ExtrasError*>(&e))
            if (auto unknown = unknown_options(app, opts); !unknown.empty()) message = std::move(unknown);
        std::fprintf(stderr, "notifierd: %s\nRun with --help for more information.\n", message.c_str());
        return std::nullopt;
    } catch (const config_error& e) {
        std::fprintf(stderr, "notifierd: %s\n", e.what());
        return std::nullopt;
    }
    exit_code = 0;
    return c;
}

}  // namespace notifierd
