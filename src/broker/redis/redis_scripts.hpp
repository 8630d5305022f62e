// SPDX-License-Identifier: MIT
#pragma once
// The Lua scripts that keep a cluster's seq, epoch, stream and channel
// consistent: Redis runs each atomically (docs/scaling.md, "How it works").

#include <string>
#include <string_view>

namespace notifier::redis {

/// Numbers, stores and announces a batch atomically; with no notification
/// it only answers {epoch, seq}. KEYS: epoch, seq, stream, channel. ARGV:
/// maxlen, epoch candidate, the caller's epoch, newest seq and that entry's
/// nonce, the batch's nonce, then (collection, id, body) per notification.
extern const std::string_view publish_script;

/// A new epoch on purpose (broker::restart). KEYS: epoch, seq, stream,
/// channel. ARGV: the new epoch.
extern const std::string_view restart_script;

/// A resume read: {epoch, seq, entries after ARGV[1] (at most ARGV[2])}.
/// KEYS: epoch, seq, stream.
extern const std::string_view read_script;

/// The SHA-1 that EVALSHA names a script by, in lower-case hex.
std::string script_sha1(std::string_view script);

}  // namespace notifier::redis
