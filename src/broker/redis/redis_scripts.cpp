// SPDX-License-Identifier: MIT
#include "broker/redis/redis_scripts.hpp"

#include <openssl/sha.h>

namespace notifier::redis {

// Lost data means a new epoch: no key (restart without persistence), a seq
// behind what the caller already saw, or an entry at that seq with another
// nonce than the one the caller saw (restored from an older snapshot, then
// renumbered by a node that did not know). Reusing those seqs would make
// clients skip notifications silently. Entries from before nonces existed
// (no `n` field) and a caller that knows no nonce are not compared.
// Stream entry: c collection, i id, j the JSON, n the batch's nonce; on the
// channel: `epoch\n`, then per publication `seq clen ilen jlen nonce\n` and
// the bytes (readers that know four numbers skip the nonce with the line).
const std::string_view publish_script = R"lua(
local epoch = redis.call('GET', KEYS[1])
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
local lost = not epoch
if epoch and epoch == ARGV[3] then
  local seen = tonumber(ARGV[4])
  if seq < seen then
    lost = true
  elseif ARGV[5] ~= '' and seen > 0 then
    local at = redis.call('XRANGE', KEYS[3], ARGV[4] .. '-0', ARGV[4] .. '-0')
    if at[1] then
      local f = at[1][2]
      for k = 1, #f - 1, 2 do
        if f[k] == 'n' and f[k + 1] ~= ARGV[5] then lost = true end
      end
    end
  end
end
if lost then
  epoch = ARGV[2]
  seq = 0
  redis.call('SET', KEYS[1], epoch)
  redis.call('SET', KEYS[2], 0)
  redis.call('DEL', KEYS[3])
end
local n = (#ARGV - 6) / 3
if n == 0 then return {epoch, seq} end
local last = redis.call('INCRBY', KEYS[2], n)
local first = last - n + 1
local nonce = ARGV[6]
local msg = {epoch, '\n'}
for k = 0, n - 1 do
  local c, i, body = ARGV[7 + 3 * k], ARGV[8 + 3 * k], ARGV[9 + 3 * k]
  local seq = string.format('%d', first + k)
  local json = '{"seq":' .. seq .. ',' .. body
  redis.call('XADD', KEYS[3], 'MAXLEN', ARGV[1], seq .. '-0', 'c', c, 'i', i, 'j', json, 'n', nonce)
  msg[#msg + 1] = seq .. ' ' .. #c .. ' ' .. #i .. ' ' .. #json .. ' ' .. nonce .. '\n' .. c .. i .. json
end
redis.call('PUBLISH', KEYS[4], table.concat(msg))
return {epoch, first}
)lua";

// Announced with no publication, so every node resets its clients.
const std::string_view restart_script = R"lua(
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], 0)
redis.call('DEL', KEYS[3])
redis.call('PUBLISH', KEYS[4], ARGV[1] .. '\n')
return ARGV[1]
)lua";

// One snapshot: epoch, seq and the entries agree with each other.
const std::string_view read_script = R"lua(
local epoch = redis.call('GET', KEYS[1]) or ''
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
local entries = redis.call('XRANGE', KEYS[3], ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])
return {epoch, seq, entries}
)lua";

// Scripts go by their SHA-1 (EVALSHA): the text is not resent with every
// publish.
std::string script_sha1(std::string_view s) {
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

}  // namespace notifier::redis
