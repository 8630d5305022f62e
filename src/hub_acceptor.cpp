// SPDX-License-Identifier: MIT
// hub::impl's side of the door: binding the listener, the connection
// slots that enforce the process-wide limits, the choice of a shard for a
// new connection, and the publish key check.

#include <notifier/errors.hpp>
#include <notifier/hub.hpp>

#include "connection_slot.hpp"
#include "hub_impl.hpp"
#include "net/listener.hpp"
#include "net/tls_context.hpp"
#include "shard.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/string.hpp>

#include <openssl/crypto.h>

#include <string>
#include <system_error>
#include <vector>

namespace notifier {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// Asio's errors carry Boost's source location in what(); hub.hpp promises a
// std::system_error whose what() names the address and the reason only.
std::error_code to_std(const error_code& ec) {
    if (ec.category() == boost::system::system_category()) return {ec.value(), std::system_category()};
    if (ec.category() == boost::system::generic_category()) return {ec.value(), std::generic_category()};
    return ec;  // e.g. the resolver's categories: Boost's std::error_category adaptor
}

std::string host_port(const std::string& host, std::uint16_t port) {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// listen_host is an IP address or a host name. A name is resolved (numeric
// service, no AI_ADDRCONFIG: that would hide loopback addresses on a host
// with no other network) and the first of its addresses that binds is used,
// IPv4 ones first.
std::shared_ptr<net::listener> bind_listener(hub::impl& hub) {
    const auto& opts = hub.opts;
    const auto where = host_port(opts.listen_host, opts.listen_port);
    std::vector<asio::ip::tcp::endpoint> endpoints;
    error_code ec;
    if (const auto addr = asio::ip::make_address(opts.listen_host, ec); !ec) {
        endpoints.emplace_back(addr, opts.listen_port);
    } else {
        asio::ip::tcp::resolver resolver(*hub.ioc);
        const auto results = resolver.resolve(opts.listen_host, std::to_string(opts.listen_port),
                                              asio::ip::tcp::resolver::numeric_service, ec);
        if (ec) throw std::system_error(to_std(ec), "cannot resolve " + opts.listen_host);
        for (const auto& r : results) endpoints.push_back(r.endpoint());
        // IPv4 first: a name such as localhost usually stands for ::1 and
        // 127.0.0.1, and clients that spell the address out mostly use
        // 127.0.0.1.
        std::stable_partition(endpoints.begin(), endpoints.end(), [](const auto& ep) { return ep.address().is_v4(); });
        if (endpoints.empty())
            throw std::system_error(std::make_error_code(std::errc::address_not_available),
                                    "cannot resolve " + opts.listen_host);
    }
    // Reported when none binds: the first failure, unless a later address
    // failed for a better reason than lacking that address family (a name
    // resolving to ::1 on a host without IPv6, then to a busy 127.0.0.1).
    error_code why;
    for (const auto& ep : endpoints) {
        try {
            return std::make_shared<net::listener>(hub, ep);
        } catch (const boost::system::system_error& e) {
            if (!why || why == asio::error::address_family_not_supported ||
                why == boost::system::errc::address_not_available)
                why = e.code();
        }
    }
    throw std::system_error(to_std(why), "cannot listen on " + where);
}

}  // namespace

void hub::impl::listen() {
    if (listener_) return;
    if (!opts.jwt_secret.empty() && !opts.jwt_public_key_pem.empty())
        throw std::invalid_argument("configure either a JWT secret (HS256) or a public key (RS256/ES256), not both");
    if (!opts.jwt_secret.empty()) verifier = core::jwt_verifier::hs256(opts.jwt_secret);
    if (!opts.jwt_public_key_pem.empty()) verifier = core::jwt_verifier::from_public_key_pem(opts.jwt_public_key_pem);
    if (verifier) {
        verifier->require_issuer(opts.jwt_issuer);
        verifier->require_audience(opts.jwt_audience);
        verifier->set_leeway(opts.jwt_leeway.count());
    }
    if (!opts.tls_cert_file.empty() || !opts.tls_key_file.empty()) tls = std::make_unique<net::tls_context>(opts);
    listener_ = bind_listener(*this);
    port = listener_->port();
    brk->start(*this);
    last_published_ = brk->last_seq();
    for (auto& s : shards) s->start(brk->epoch(), last_published_);
    listener_->run();
    NOTIFIER_LOG_INFO(log, "listening", {"host", opts.listen_host}, {"port", port.load()}, {"epoch", brk->epoch()},
                      {"last_seq", last_published_}, {"shards", shards.size()}, {"auth", auth_enabled()},
                      {"metrics", opts.metrics}, {"tls", tls != nullptr});
    if (tls) NOTIFIER_LOG_INFO(log, "tls_certificate", {"certificate", tls->describe()});
    if (!tls && !listener_->is_loopback())
        NOTIFIER_LOG_WARN(log, "plain_listener", {"host", opts.listen_host},
                          {"detail", "no TLS: tokens, publish keys and notifications cross the network in clear "
                                     "text unless a TLS proxy in front terminates it (set tls_cert_file and "
                                     "tls_key_file, notifierd --tls-cert and --tls-key)"});
    if (opts.handle_signals) {
        signals_ = std::make_unique<asio::signal_set>(*ioc, SIGINT, SIGTERM, SIGHUP);
        wait_for_signal();
    }
}

void hub::impl::wait_for_signal() {
    signals_->async_wait([self = shared_from_this()](const error_code& ec, int signo) {
        if (ec) return;
        if (signo != SIGHUP) return self->begin_stop();
        if (self->tls) self->reload_tls(false);
        else NOTIFIER_LOG_INFO(self->log, "reload", {"detail", "SIGHUP: nothing to reload (no TLS)"});
        self->wait_for_signal();
    });
}

void hub::impl::reload_tls(bool rethrow) {
    if (!tls) throw std::logic_error("reload_tls: the hub has no TLS configured");
    try {
        tls->reload();
    } catch (const std::exception& e) {
        tls_reloads_failed.fetch_add(1, std::memory_order_relaxed);
        NOTIFIER_LOG_ERROR(log, "tls_reload_failed", {"error", e.what()}, {"detail", "the current certificate stays"});
        if (rethrow) throw;
        return;
    }
    tls_reloads_ok.fetch_add(1, std::memory_order_relaxed);
    NOTIFIER_LOG_INFO(log, "tls_reloaded", {"certificate", tls->describe()});
}

// --- connections ---

connection_slot::~connection_slot() {
    if (shard_) shard_->connection_closed();
    hub_.release_slot(ip_, per_ip_);
}

std::unique_ptr<connection_slot> hub::impl::acquire_slot(const asio::ip::address& ip) {
    if (open_connections_.load(std::memory_order_relaxed) >= opts.max_connections) return nullptr;
    const bool per_ip = opts.limit_loopback || !net::is_loopback(ip);
    std::string key = per_ip ? ip.to_string() : std::string();
    if (per_ip) {
        std::lock_guard lock(per_ip_mutex_);
        auto& n = per_ip_[key];
        if (n >= opts.max_connections_per_ip) return nullptr;
        ++n;
    }
    open_connections_.fetch_add(1, std::memory_order_relaxed);
    return std::make_unique<connection_slot>(*this, std::move(key), per_ip);
}

void hub::impl::release_slot(const std::string& ip, bool per_ip) {
    open_connections_.fetch_sub(1, std::memory_order_relaxed);
    if (!per_ip) return;
    std::lock_guard lock(per_ip_mutex_);
    auto it = per_ip_.find(ip);
    if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
}

shard& hub::impl::pick_shard() noexcept {
    shard* best = shards.front().get();
    for (auto& s : shards)
        if (s->connections() < best->connections()) best = s.get();
    return *best;
}

bool hub::impl::publish_key_ok(std::string_view authorization) const noexcept {
    if (opts.publish_keys.empty()) return true;
    constexpr std::string_view scheme = "Bearer ";
    if (authorization.size() <= scheme.size() || !boost::beast::iequals(authorization.substr(0, scheme.size()), scheme))
        return false;
    const auto key = authorization.substr(scheme.size());
    // Constant time in the key's content: every configured key is compared.
    bool ok = false;
    for (const auto& k : opts.publish_keys)
        if (k.size() == key.size() && CRYPTO_memcmp(k.data(), key.data(), k.size()) == 0) ok = true;
    return ok;
}

void hub::reload_tls() { impl_->reload_tls(true); }

void hub::check_tls(const options& opts) { net::tls_context check(opts); }

bool hub::tls() const noexcept { return !impl_->opts.tls_cert_file.empty(); }

}  // namespace notifier
