// SPDX-License-Identifier: MIT
#pragma once
// JSON Web Token verification (RFC 7519 / RFC 7515 compact form) for the
// algorithms notifierd accepts: HS256, RS256, ES256. Pure (no sockets).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace notifier::core {

/// What a verified token grants.
struct token_claims {
    std::int64_t exp = 0;            ///< seconds since the epoch; 0 when absent
    std::vector<std::string> read;   ///< the "notifier":{"read":[…]} entries
};

/// Why a token was refused; `code` is one of the documented error codes.
struct token_error {
    std::string code;     ///< invalid_token, invalid_signature, wrong_algorithm, expired, not_yet_valid, wrong_issuer, wrong_audience
    std::string message;
};

class jwt_verifier {
public:
    enum class algorithm { hs256, rs256, es256 };

    /// HS256 with a shared secret.
    static std::unique_ptr<jwt_verifier> hs256(std::string secret);
    /// RS256 or ES256 (P-256), chosen by the key type of a PEM public key.
    /// Throws std::runtime_error with the reason when the key is unusable.
    static std::unique_ptr<jwt_verifier> from_public_key_pem(std::string_view pem);

    ~jwt_verifier();
    jwt_verifier(const jwt_verifier&) = delete;
    jwt_verifier& operator=(const jwt_verifier&) = delete;

    /// Required `iss` / `aud` (empty: not checked).
    void require_issuer(std::string iss) { issuer_ = std::move(iss); }
    void require_audience(std::string aud) { audience_ = std::move(aud); }
    /// Tolerated clock difference for exp/nbf, in seconds.
    void set_leeway(std::int64_t seconds) { leeway_ = seconds; }

    algorithm alg() const noexcept { return alg_; }

    /// Verifies signature, header `alg` (exactly the configured one), exp,
    /// nbf, iss, aud; `now` in seconds since the epoch.
    std::variant<token_claims, token_error> verify(std::string_view token, std::int64_t now) const;

private:
    struct key;
    jwt_verifier(algorithm a, std::unique_ptr<key> k);
    bool check_signature(std::string_view signed_part, const std::string& sig) const;

    algorithm alg_;
    std::unique_ptr<key> key_;
    std::string issuer_, audience_;
    std::int64_t leeway_ = 0;
};

/// Seconds since the Unix epoch: the clock of exp and nbf.
inline std::int64_t unix_now() noexcept {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// base64url without padding (RFC 4648 section 5); nullopt-like empty
/// optional on bad input.
bool base64url_decode(std::string_view in, std::string& out);
std::string base64url_encode(std::string_view in);

}  // namespace notifier::core
