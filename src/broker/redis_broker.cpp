// SPDX-License-Identifier: MIT
#include <notifier/broker/redis_broker.hpp>
#include <notifier/errors.hpp>

#include "broker/redis_asio.hpp"
#include "core/random_epoch.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>

namespace notifier {

namespace asio = boost::asio;

namespace {

// Numbers, stores and announces a batch atomically. KEYS: epoch, seq,
// stream, channel. ARGV: maxlen, epoch candidate, the calling node's epoch
// and newest seq, then (collection, id, body) per notification, body being
// the JSON after `{"seq":N,`. With no notification it only returns
// {epoch, seq}: how nodes start and how they notice that Redis lost data.
// Lost data means a new epoch: no key (restart without persistence), or a
// seq behind what a node already saw (restored from an older snapshot) —
// reusing those seqs would make clients skip notifications silently.
constexpr std::string_view publish_script = R"lua(
local epoch = redis.call('GET', KEYS[1])
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
if (not epoch) or (epoch == ARGV[3] and seq < tonumber(ARGV[4])) then
  epoch = ARGV[2]
  seq = 0
  redis.call('SET', KEYS[1], epoch)
  redis.call('SET', KEYS[2], 0)
  redis.call('DEL', KEYS[3])
end
local n = (#ARGV - 4) / 3
if n == 0 then return {epoch, seq} end
local last = redis.call('INCRBY', KEYS[2], n)
local first = last - n + 1
local msg = {epoch, '\n'}
for k = 0, n - 1 do
  local c, i, body = ARGV[5 + 3 * k], ARGV[6 + 3 * k], ARGV[7 + 3 * k]
  local seq = string.format('%d', first + k)
  local json = '{"seq":' .. seq .. ',' .. body
  redis.call('XADD', KEYS[3], 'MAXLEN', ARGV[1], seq .. '-0', 'c', c, 'i', i, 'j', json)
  msg[#msg + 1] = seq .. ' ' .. #c .. ' ' .. #i .. ' ' .. #json .. '\n' .. c .. i .. json
end
redis.call('PUBLISH', KEYS[4], table.concat(msg))
return {epoch, first}
)lua";

// A new epoch on purpose (broker::restart): KEYS epoch, seq, stream,
// channel; ARGV the new epoch. Announced with no publication, so every node
// resets its clients.
constexpr std::string_view restart_script = R"lua(
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], 0)
redis.call('DEL', KEYS[3])
redis.call('PUBLISH', KEYS[4], ARGV[1] .. '\n')
return ARGV[1]
)lua";

// Resume reads: epoch, seq and the entries after ARGV[1], in one snapshot.
constexpr std::string_view read_script = R"lua(
local epoch = redis.call('GET', KEYS[1]) or ''
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
local entries = redis.call('XRANGE', KEYS[3], ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])
return {epoch, seq, entries}
)lua";

// Scripts go by their SHA-1 (EVALSHA): the script text is not resent with
// every publish.
std::string sha1_hex(std::string_view s) {
    unsigned char d[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : d) {
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
    }
    return out;
}


std::uint64_t to_u64(std::string_view s) {
    std::uint64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

std::string_view str(const redisReply* r) {
    return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) ? std::string_view(r->str, r->len)
                                                                                  : std::string_view();
}

std::uint64_t num(const redisReply* r) {
    if (!r) return 0;
    if (r->type == REDIS_REPLY_INTEGER) return static_cast<std::uint64_t>(r->integer);
    return to_u64(str(r));
}

// A stream entry [id, [c, <collection>, i, <id>, j, <json>]].
publication_ptr entry_to_publication(const redisReply* e) {
    if (!e || e->type != REDIS_REPLY_ARRAY || e->elements != 2) return nullptr;
    const auto id = str(e->element[0]);
    const auto* f = e->element[1];
    if (!f || f->type != REDIS_REPLY_ARRAY) return nullptr;
    std::string_view c, i, j;
    for (std::size_t k = 0; k + 1 < f->elements; k += 2) {
        const auto name = str(f->element[k]);
        if (name == "c") c = str(f->element[k + 1]);
        else if (name == "i") i = str(f->element[k + 1]);
        else if (name == "j") j = str(f->element[k + 1]);
    }
    const auto seq = to_u64(id.substr(0, id.find('-')));
    if (seq == 0 || c.empty() || j.empty()) return nullptr;
    return make_publication_from_json(seq, c, i, j);
}

using reply_fn = std::function<void(redisReply*)>;

// Commands in flight on a connection and when it last answered, for the
// broker's watchdog.
struct command_clock {
    std::size_t outstanding = 0;
    std::chrono::steady_clock::time_point last_answer{};
};

// One command's callback and the clock that counts it until answered.
struct pending_reply {
    reply_fn fn;
    command_clock& clock;
};

void once_trampoline(redisAsyncContext*, void* r, void* priv) {
    auto* p = static_cast<pending_reply*>(priv);
    if (p->clock.outstanding) --p->clock.outstanding;
    p->clock.last_answer = std::chrono::steady_clock::now();
    p->fn(static_cast<redisReply*>(r));
    delete p;
}

// Sends a command; `fn` gets the reply, or nullptr when the connection went
// away first. False if it could not even be queued. `clock` (owned by the
// broker, which outlives every callback) counts it until answered.
bool command(redisAsyncContext* ac, const std::vector<std::string_view>& args, reply_fn fn, command_clock& clock) {
    if (!ac) return false;
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (auto a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    auto* cb = new pending_reply{std::move(fn), clock};
    if (redisAsyncCommandArgv(ac, once_trampoline, cb, static_cast<int>(argv.size()), argv.data(), lens.data()) !=
        REDIS_OK) {
        delete cb;
        return false;
    }
    if (clock.outstanding++ == 0) clock.last_answer = std::chrono::steady_clock::now();  // the clock starts now
    return true;
}

}  // namespace

redis_options parse_redis_url(std::string_view url) {
    constexpr std::string_view scheme = "redis://";
    if (url.substr(0, scheme.size()) != scheme) throw std::invalid_argument("expected redis://host[:port][/prefix]");
    auto rest = url.substr(scheme.size());
    redis_options o;
    const auto slash = rest.find('/');
    auto hostport = rest.substr(0, slash);
    if (slash != std::string_view::npos && slash + 1 < rest.size()) o.prefix = rest.substr(slash + 1);
    const auto colon = hostport.rfind(':');
    if (colon != std::string_view::npos) {
        const auto p = hostport.substr(colon + 1);
        int port = 0;
        auto r = std::from_chars(p.data(), p.data() + p.size(), port);
        if (p.empty() || r.ec != std::errc{} || r.ptr != p.data() + p.size() || port <= 0 || port > 65535)
            throw std::invalid_argument("invalid port in redis URL");
        o.port = port;
        hostport = hostport.substr(0, colon);
    }
    if (!hostport.empty()) o.host = hostport;
    for (char c : o.prefix)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == ':' || c == '.'))
            throw std::invalid_argument("redis key prefix may hold [A-Za-z0-9_.:-] only");
    return o;
}

struct redis_broker::impl : std::enable_shared_from_this<redis_broker::impl> {
    impl(asio::io_context& io, redis_options opts)
        : ioc(io), o(std::move(opts)), reconnect_timer(io), backoff(o.reconnect_min) {
        k_epoch = o.prefix + ":epoch";
        k_seq = o.prefix + ":seq";
        k_stream = o.prefix + ":stream";
        k_channel = o.prefix + ":pub";
        maxlen = std::to_string(o.history_size);
        publish_sha = sha1_hex(publish_script);
    }

    std::string publish_sha;

    void load_scripts() {
        command(cmd, {"SCRIPT", "LOAD", publish_script}, [](redisReply*) {}, cmd_clock);
    }

    asio::io_context& ioc;
    redis_options o;
    std::string k_epoch, k_seq, k_stream, k_channel, maxlen;
    broker_handler* handler = nullptr;
    /// Tells the hub, which logs it (the broker has no log of its own).
    void warn(std::string_view event, std::string_view detail) const {
        if (handler) handler->on_broker_warning(event, detail);
    }
    void info(std::string_view event, std::string_view detail) const {
        if (handler) handler->on_broker_info(event, detail);
    }
    // A connection was lost since both were last up: the next time they are,
    // the operator hears that it is over (redis_reconnected), once.
    std::optional<std::chrono::steady_clock::time_point> lost_since;
    void lost(std::string_view event, std::string_view detail) {
        warn(event, detail);
        if (!lost_since) lost_since = std::chrono::steady_clock::now();
    }
    std::string epoch_;
    std::uint64_t last_seq_ = 0;  // dispatched on this node
    redisAsyncContext* cmd = nullptr;
    redisAsyncContext* sub = nullptr;
    std::atomic<bool> cmd_up{false}, sub_up{false};
    bool stopped = false;
    asio::steady_timer reconnect_timer;
    std::chrono::milliseconds backoff;
    bool reconnect_scheduled = false;
    std::deque<publication_ptr> pending;  // from pub/sub, waiting for a gap to be filled
    bool filling = false;
    // Epochs this node left (restart(), lost data), with the last seq it
    // dispatched in each: their messages may still be in flight on the
    // subscription and must not take the node back, and a publish answered
    // late from one of them is settled at once.
    std::deque<std::pair<std::string, std::uint64_t>> left;
    bool has_left(std::string_view e) const {
        return std::any_of(left.begin(), left.end(), [&](const auto& l) { return l.first == e; });
    }
    // Redis' seq as last seen by catch_up(): filled up to once pending is through.
    std::uint64_t known_seq = 0;
    command_clock cmd_clock;
    asio::steady_timer watchdog{ioc};
    asio::steady_timer catch_up_timer{ioc};
    bool catch_up_scheduled = false;
    // Publish answers held until this node dispatched them (by last seq);
    // called with true once dispatched, false when the epoch they belong to
    // was lost first.
    struct waiting {
        std::string epoch;
        std::function<void(bool)> fn;
    };
    std::multimap<std::uint64_t, waiting> waiting_done;

    // --- blocking start ---
    void initial_sync() {
        timeval tv{static_cast<time_t>(o.connect_timeout.count() / 1000),
                   static_cast<suseconds_t>((o.connect_timeout.count() % 1000) * 1000)};
        redisContext* c = redisConnectWithTimeout(o.host.c_str(), o.port, tv);
        if (!c || c->err) {
            std::string why = c ? c->errstr : "out of memory";
            if (c) redisFree(c);
            throw std::runtime_error("cannot connect to Redis at " + o.host + ":" + std::to_string(o.port) + ": " + why);
        }
        const std::string cand = core::random_epoch();
        std::vector<const char*> argv{"EVAL", publish_script.data(), "4", k_epoch.c_str(), k_seq.c_str(),
                                      k_stream.c_str(), k_channel.c_str(), maxlen.c_str(), cand.c_str(), "", "0"};
        std::vector<std::size_t> lens;
        for (auto* a : argv) lens.push_back(std::strlen(a));
        lens[1] = publish_script.size();
        auto* r = static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            std::string why = r && r->type == REDIS_REPLY_ERROR ? std::string(r->str, r->len) : std::string(c->errstr);
            if (r) freeReplyObject(r);
            redisFree(c);
            throw std::runtime_error("Redis refused the notifier script: " + why);
        }
        epoch_ = std::string(str(r->element[0]));
        last_seq_ = num(r->element[1]);
        freeReplyObject(r);
        redisFree(c);
    }

    // --- connections ---
    static impl* of(const redisAsyncContext* ac) { return static_cast<impl*>(ac->data); }

    // A command connection with work outstanding and no answer for
    // command_timeout is dropped: its callbacks fail and it reconnects.
    void arm_watchdog() {
        watchdog.expires_after(std::max<std::chrono::milliseconds>(o.command_timeout / 4, std::chrono::milliseconds(10)));
        watchdog.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (ec || self->stopped) return;
            const auto& c = self->cmd_clock;
            if (self->cmd && c.outstanding > 0 && std::chrono::steady_clock::now() - c.last_answer > self->o.command_timeout) {
                self->lost("redis_timeout", "Redis did not answer for " + std::to_string(self->o.command_timeout.count()) +
                                                " ms; reconnecting");
                auto* ac = self->cmd;
                self->cmd = nullptr;
                self->cmd_up = false;
                redisAsyncFree(ac);  // its callbacks run now with no reply
                self->cmd_clock = {};
                self->schedule_reconnect();
            }
            self->arm_watchdog();
        });
    }

    void connect_all() {
        if (stopped) return;
        if (!cmd) connect(cmd, true);
        if (!sub) connect(sub, false);
    }

    void connect(redisAsyncContext*& slot, bool is_cmd) {
        redisAsyncContext* ac = redisAsyncConnect(o.host.c_str(), o.port);
        if (!ac || ac->err) {
            if (ac) redisAsyncFree(ac);
            return schedule_reconnect();
        }
        ac->data = this;
        // A Redis that vanishes without closing the connection is noticed
        // by TCP keepalive instead of never.
        redisEnableKeepAlive(&ac->c);
        redis::asio_adapter::attach(ioc, ac);
        redisAsyncSetConnectCallback(ac, is_cmd ? &impl::on_cmd_connect : &impl::on_sub_connect);
        redisAsyncSetDisconnectCallback(ac, is_cmd ? &impl::on_cmd_disconnect : &impl::on_sub_disconnect);
        slot = ac;
    }

    static void on_cmd_connect(const redisAsyncContext* ac, int status) {
        auto* self = of(ac);
        if (status != REDIS_OK) {  // hiredis frees the context after this
            self->cmd = nullptr;
            return self->schedule_reconnect();
        }
        self->load_scripts();  // before anything else on this connection
        self->cmd_up = true;
        self->maybe_ready();
    }
    static void on_sub_connect(const redisAsyncContext* ac, int status) {
        auto* self = of(ac);
        if (status != REDIS_OK) {
            self->sub = nullptr;
            return self->schedule_reconnect();
        }
        redisAsyncCommand(self->sub, &impl::on_sub_message, self, "SUBSCRIBE %b", self->k_channel.data(),
                          self->k_channel.size());
    }
    static void on_cmd_disconnect(const redisAsyncContext* ac, int) {
        auto* self = of(ac);
        self->cmd = nullptr;
        self->cmd_up = false;
        if (!self->stopped) {
            self->lost("redis_connection_lost", "Redis command connection lost; reconnecting");
            self->schedule_reconnect();
        }
    }
    static void on_sub_disconnect(const redisAsyncContext* ac, int) {
        auto* self = of(ac);
        self->sub = nullptr;
        self->sub_up = false;
        if (!self->stopped) {
            self->lost("redis_connection_lost", "Redis subscription lost; reconnecting");
            self->schedule_reconnect();
        }
    }

    void schedule_reconnect() {
        if (stopped || reconnect_scheduled) return;
        reconnect_scheduled = true;
        reconnect_timer.expires_after(backoff);
        backoff = std::min(backoff * 2, o.reconnect_max);
        reconnect_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            self->reconnect_scheduled = false;
            if (!ec) self->connect_all();
        });
    }

    // Both connections up: find out what happened meanwhile.
    void maybe_ready() {
        if (!cmd_up || !sub_up) return;
        backoff = o.reconnect_min;
        if (lost_since) {
            const auto down = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                                    *lost_since);
            lost_since.reset();
            info("redis_reconnected", "Redis connections restored after " + std::to_string(down.count()) + " ms");
        }
        catch_up();
    }

    void catch_up() {
        const std::string cand = core::random_epoch(), seen = std::to_string(last_seq_);
        command(cmd, {"EVALSHA", publish_sha, "4", k_epoch, k_seq, k_stream, k_channel, maxlen, cand, epoch_, seen},
                [self = shared_from_this()](redisReply* r) {
                    if (!self->handler || self->stopped) return;
                    if (!r) return;  // connection lost: catch_up() again once reconnected
                    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
                        // -LOADING after a restart, NOSCRIPT after a flush: what
                        // this node missed is still unknown, so ask again.
                        const std::string_view why = r->type == REDIS_REPLY_ERROR ? std::string_view(r->str, r->len)
                                                                                  : std::string_view("unexpected reply");
                        self->warn("redis_catch_up_failed", std::string(why) + "; retrying");
                        if (why.starts_with("NOSCRIPT")) self->load_scripts();
                        return self->schedule_catch_up();
                    }
                    const std::string e(str(r->element[0]));
                    const auto seq = num(r->element[1]);
                    if (e != self->epoch_) return self->reset(e, seq);
                    self->known_seq = std::max(self->known_seq, seq);
                    if (self->filling) return;
                    // A fill lost with the connection leaves `pending` waiting: restart it.
                    if (!self->pending.empty()) return self->process();
                    if (seq > self->last_seq_) self->fill(self->last_seq_ + 1, seq);
                }, cmd_clock);
    }

    void schedule_catch_up() {
        if (stopped || catch_up_scheduled) return;
        catch_up_scheduled = true;
        catch_up_timer.expires_after(o.reconnect_min);
        catch_up_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            self->catch_up_scheduled = false;
            if (!ec && self->cmd_up && self->sub_up) self->catch_up();
        });
    }

    // --- receiving ---
    static void on_sub_message(redisAsyncContext*, void* r, void* priv) {
        auto* self = static_cast<impl*>(priv);
        auto* reply = static_cast<redisReply*>(r);
        if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) return;
        const auto kind = str(reply->element[0]);
        if (kind == "subscribe") {
            self->sub_up = true;
            return self->maybe_ready();
        }
        if (kind == "message") self->on_message(str(reply->element[2]));
    }

    // `epoch\n` then per publication `seq clen ilen jlen\n` + bytes.
    void on_message(std::string_view m) {
        if (!handler) return;
        const auto nl = m.find('\n');
        if (nl == std::string_view::npos) return;
        const std::string_view e = m.substr(0, nl);
        if (e != epoch_ && has_left(e)) return;  // an epoch left already
        std::size_t p = nl + 1;
        std::vector<publication_ptr> items;
        while (p < m.size()) {
            const auto eol = m.find('\n', p);
            if (eol == std::string_view::npos) return;
            std::uint64_t v[4] = {};
            const char* q = m.data() + p;
            for (auto& x : v) {
                auto res = std::from_chars(q, m.data() + eol, x);
                q = res.ptr + 1;
            }
            p = eol + 1;
            if (p + v[1] + v[2] + v[3] > m.size()) return;
            const auto c = m.substr(p, v[1]);
            const auto i = m.substr(p + v[1], v[2]);
            const auto j = m.substr(p + v[1] + v[2], v[3]);
            p += v[1] + v[2] + v[3];
            items.push_back(make_publication_from_json(v[0], c, i, j));
        }
        if (items.empty()) {
            if (e != epoch_) reset(std::string(e), 0);  // restart() on some node
            return;
        }
        if (e != epoch_) reset(std::string(e), items.front()->seq - 1);
        for (auto& it : items) pending.push_back(std::move(it));
        process();
    }

    void reset(std::string e, std::uint64_t seq) {
        // Redis lost the history: a new epoch.
        left.emplace_back(epoch_, last_seq_);
        if (left.size() > 16) left.pop_front();
        epoch_ = std::move(e);
        last_seq_ = seq;
        known_seq = seq;
        pending.clear();
        filling = false;
        // Publications numbered in the lost epoch will never be dispatched.
        for (auto it = waiting_done.begin(); it != waiting_done.end();) {
            if (it->second.epoch == epoch_) {
                ++it;
                continue;
            }
            auto fn = std::move(it->second.fn);
            it = waiting_done.erase(it);
            fn(false);
        }
        handler->on_reset(epoch_, seq);
        release_done();
    }

    void process() {
        while (!pending.empty() && !filling) {
            if (pending.front()->seq <= last_seq_) {
                pending.pop_front();
                continue;
            }
            if (pending.front()->seq != last_seq_ + 1) return fill(last_seq_ + 1, pending.front()->seq - 1);
            std::vector<publication_ptr> run;
            while (!pending.empty() && pending.front()->seq == last_seq_ + 1) {
                run.push_back(std::move(pending.front()));
                pending.pop_front();
                ++last_seq_;
            }
            dispatch(run);
        }
        // Redis had more than pub/sub brought (seen by catch_up): fetch it.
        if (pending.empty() && !filling && known_seq > last_seq_) fill(last_seq_ + 1, known_seq);
    }

    void dispatch(const std::vector<publication_ptr>& run) {
        if (run.empty() || !handler) return;
        handler->on_publications(run);
        release_done();
    }

    void release_done() {
        while (!waiting_done.empty() && waiting_done.begin()->first <= last_seq_) {
            auto fn = std::move(waiting_done.begin()->second.fn);
            waiting_done.erase(waiting_done.begin());
            fn(true);
        }
    }

    // Missed publications (a gap in what pub/sub delivered, or an outage):
    // read them from the stream, or resync if it no longer has them.
    void fill(std::uint64_t from, std::uint64_t to) {
        if (filling || from > to) return;
        filling = true;
        const std::string start = std::to_string(from) + "-0", end = std::to_string(to) + "-0";
        const std::string e = epoch_;
        const bool sent = command(cmd, {"XRANGE", k_stream, start, end}, [self = shared_from_this(), from, to, e](redisReply* r) {
            if (!self->filling || e != self->epoch_) return;  // reset meanwhile
            self->filling = false;
            if (!r) return;  // connection lost: catch_up() after reconnecting
            std::vector<publication_ptr> got;
            if (r->type == REDIS_REPLY_ARRAY)
                for (std::size_t k = 0; k < r->elements; ++k)
                    if (auto p = entry_to_publication(r->element[k])) got.push_back(std::move(p));
            bool complete = got.size() == to - from + 1;
            for (std::size_t k = 0; complete && k < got.size(); ++k) complete = got[k]->seq == from + k;
            if (complete) {
                self->last_seq_ = to;
                self->dispatch(got);
            } else {
                self->warn("redis_history_gap", "Redis history no longer holds seq " + std::to_string(from) + ".." +
                                                    std::to_string(to) + "; clients resync");
                self->last_seq_ = to;
                self->handler->on_reset(self->epoch_, to);
                self->release_done();
            }
            self->process();
        }, cmd_clock);
        if (!sent) filling = false;
    }

    // Redis could not be read: the client cannot be told what it missed, so
    // it resyncs.
    history_page unreadable_page() const {
        history_page page;
        page.result = history_page::status::gone;
        page.epoch = epoch_;
        page.last_seq = last_seq_;
        return page;
    }

    void stop() {
        if (stopped) return;
        stopped = true;
        reconnect_timer.cancel();
        catch_up_timer.cancel();
        watchdog.cancel();
        handler = nullptr;
        if (cmd) redisAsyncFree(cmd);  // pending callbacks run with no reply
        if (sub) redisAsyncFree(sub);
        cmd = sub = nullptr;
        cmd_up = sub_up = false;
        auto left = std::move(waiting_done);
        for (auto& [_, w] : left) w.fn(false);
    }
};

redis_broker::redis_broker(asio::io_context& ioc, redis_options opts)
    : impl_(std::make_shared<impl>(ioc, std::move(opts))) {}

redis_broker::~redis_broker() { impl_->stop(); }

void redis_broker::start(broker_handler& handler) {
    impl_->initial_sync();
    impl_->handler = &handler;
    // Redis answered a moment ago: accept work while the asynchronous
    // connections come up (hiredis queues commands until connected).
    impl_->cmd_up = impl_->sub_up = true;
    impl_->connect_all();
    impl_->arm_watchdog();
}

void redis_broker::stop() { impl_->stop(); }

void redis_broker::publish(std::span<const notification> batch, publish_handler done) {
    auto& d = *impl_;
    if (!d.cmd || !d.cmd_up || !d.handler) {
        if (done) done(errc::broker_unavailable, 0);
        return;
    }
    if (batch.empty()) {
        if (done) done({}, d.last_seq_ + 1);
        return;
    }
    // Argument storage must outlive the call only: hiredis copies it.
    std::vector<std::string> bodies;
    bodies.reserve(batch.size());
    for (const auto& n : batch) bodies.push_back(notification_json_body(n));
    const std::string cand = core::random_epoch();
    const std::string seen = std::to_string(d.last_seq_);
    std::vector<std::string_view> args{"EVALSHA", d.publish_sha, "4", d.k_epoch, d.k_seq, d.k_stream, d.k_channel,
                                       d.maxlen, cand, d.epoch_, seen};
    for (std::size_t k = 0; k < batch.size(); ++k) {
        args.push_back(batch[k].collection);
        args.push_back(batch[k].id ? std::string_view(*batch[k].id) : std::string_view());
        args.push_back(bodies[k]);
    }
    const std::size_t n = batch.size();
    const bool sent = command(d.cmd, args, [self = impl_, done, n](redisReply* r) {
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            if (r && r->type == REDIS_REPLY_ERROR) {
                self->warn("redis_publish_refused", std::string_view(r->str, r->len));
                // Script cache flushed behind our back: load it again; the
                // hub retries the batch.
                if (std::string_view(r->str, r->len).starts_with("NOSCRIPT")) self->load_scripts();
            }
            if (done) done(errc::broker_unavailable, 0);
            return;
        }
        const auto first = num(r->element[1]);
        if (!done) return;
        // `done` after this node dispatched the batch, as with one server.
        const auto last = first + n - 1;
        const std::string e(str(r->element[0]));
        if (self->last_seq_ >= last && e == self->epoch_) return done({}, first);
        if (e != self->epoch_) {
            // An epoch this node already left: dispatched then, or never.
            for (const auto& [old_epoch, old_last] : self->left)
                if (old_epoch == e) return old_last >= last ? done({}, first) : done(errc::broker_unavailable, 0);
        }
        self->waiting_done.emplace(last, impl::waiting{e, [done, first](bool ok) {
                                       if (ok) done({}, first);
                                       else done(errc::broker_unavailable, 0);
                                   }});
    }, d.cmd_clock);
    if (!sent && done) done(errc::broker_unavailable, 0);
}

void redis_broker::restart(std::function<void(std::error_code)> done) {
    auto& d = *impl_;
    if (!d.cmd || !d.cmd_up || !d.handler) {
        if (done) done(errc::broker_unavailable);
        return;
    }
    const std::string cand = core::random_epoch();
    const bool sent = command(d.cmd, {"EVAL", restart_script, "4", d.k_epoch, d.k_seq, d.k_stream, d.k_channel, cand},
                              [self = impl_, cand, done](redisReply* r) {
                                  if (!r || r->type == REDIS_REPLY_ERROR) {
                                      if (done) done(errc::broker_unavailable);
                                      return;
                                  }
                                  // Our own announcement may still be on its way;
                                  // so may messages of the epoch we leave.
                                  if (self->handler && self->epoch_ != cand) self->reset(cand, 0);
                                  if (done) done({});
                              }, d.cmd_clock);
    if (!sent && done) done(errc::broker_unavailable);
}

void redis_broker::read(std::string_view epoch, std::uint64_t after, std::size_t max_count, read_handler done) {
    auto& d = *impl_;
    if (!d.cmd || !d.cmd_up) return done(d.unreadable_page());
    const std::string from = std::to_string(after + 1), count = std::to_string(max_count ? max_count : 1);
    const std::string want(epoch);
    const bool sent = command(d.cmd, {"EVAL", read_script, "3", d.k_epoch, d.k_seq, d.k_stream, from, count},
                              [self = impl_, want, after, done](redisReply* r) {
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3) return done(self->unreadable_page());
        history_page page;
        page.epoch = std::string(str(r->element[0]));
        page.last_seq = num(r->element[1]);
        if (page.epoch != want || page.epoch != self->epoch_) {
            page.result = history_page::status::unknown_epoch;
            return done(std::move(page));
        }
        if (after > page.last_seq) {
            page.result = history_page::status::future;
            return done(std::move(page));
        }
        const auto* entries = r->element[2];
        if (entries && entries->type == REDIS_REPLY_ARRAY)
            for (std::size_t k = 0; k < entries->elements; ++k)
                if (auto p = entry_to_publication(entries->element[k])) page.pubs.push_back(std::move(p));
        if (after < page.last_seq && (page.pubs.empty() || page.pubs.front()->seq != after + 1)) {
            page.pubs.clear();
            page.result = history_page::status::gone;
        }
        done(std::move(page));
    }, d.cmd_clock);
    if (!sent) done(d.unreadable_page());
}

std::string redis_broker::epoch() const { return impl_->epoch_; }
std::uint64_t redis_broker::last_seq() const { return impl_->last_seq_; }
bool redis_broker::available() const noexcept { return impl_->cmd_up.load() && impl_->sub_up.load(); }

broker_factory make_redis_broker(redis_options opts) {
    return [opts](asio::io_context& ioc) { return std::make_unique<redis_broker>(ioc, opts); };
}

}  // namespace notifier
