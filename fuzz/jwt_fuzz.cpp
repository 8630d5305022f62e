// SPDX-License-Identifier: MIT
// Subscriber tokens: any input is accepted or refused with a documented code,
// never crashes, and what a token grants stays within its read claim.
//
// The first byte selects the mode:
//   even: the rest is a token, verified as HS256, RS256 and ES256;
//   odd:  the rest is "<header>\n<payload>", signed here with the HS256
//         secret, so the claim checks past the signature are reached.
// The seeds (fuzz/corpus/jwt) include tokens signed with the private halves
// of the keys below.

#include "core/jwt_verifier.hpp"
#include "core/permissions.hpp"
#include "core/topic.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

namespace {

using notifier::core::jwt_verifier;
using notifier::core::token_claims;
using notifier::core::token_error;

constexpr std::int64_t now = 1'700'000'000;
constexpr std::int64_t leeway = 5;
constexpr std::string_view secret = "fuzz-secret-0123456789abcdef";

constexpr std::string_view rsa_public_pem = R"(-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEArsFHC4CbtvoL6cbY/eAp
Y44rctqFeRz+DSrxu2wffTN0fprgEhX1Zm942Oo3vhx/wi3YKbMg+LRX7HIhv6eR
MHhpH1aYM/a486v8UORAGkExdmogRSBAUCEF0hgEwkqPyQvcepq3WCUME2O3eA2d
vE7QCum+0riZnCIzkV84i5nmPpSV5gPy+Yjh3Tt1Yn1Tx4dfnm7TgjIza9eFqVIW
S1Z69JXQ6nPhZUGsrYoqQ6udGpYt2AHZgQokKZcDLBJvyI4xSvK13IHQfIP09X+P
sz6PB6vHFSjGnUhTfk2P7vAUdVKtl+FxqGhqZxhVW5SX2sEcAIMqn0iOQU1krNI7
kwIDAQAB
-----END PUBLIC KEY-----
)";

constexpr std::string_view ec_public_pem = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAECueutGoLTyQ+rFdWMtGlgofXf3s0
dBXE3vXGmmt0ZqlAAlDwXyzsM+9ufwXoaPQd7nnq8w+0X14DWKb7nEzRYw==
-----END PUBLIC KEY-----
)";

struct verifiers {
    std::unique_ptr<jwt_verifier> hs = jwt_verifier::hs256(std::string(secret));
    std::unique_ptr<jwt_verifier> hs_strict = jwt_verifier::hs256(std::string(secret));
    std::unique_ptr<jwt_verifier> rs = jwt_verifier::from_public_key_pem(rsa_public_pem);
    std::unique_ptr<jwt_verifier> es = jwt_verifier::from_public_key_pem(ec_public_pem);
    verifiers() {
        for (auto* v : {hs.get(), hs_strict.get(), rs.get(), es.get()}) v->set_leeway(leeway);
        hs_strict->require_issuer("https://auth.example");
        hs_strict->require_audience("notifier");
    }
};

const verifiers& get() {
    static const verifiers v;
    return v;
}

bool documented(const std::string& code) {
    return code == "invalid_token" || code == "invalid_signature" || code == "wrong_algorithm" ||
           code == "expired" || code == "not_yet_valid" || code == "wrong_issuer" || code == "wrong_audience";
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
    std::int64_t r = 0;
    if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

// Returns the refusal code, or empty when accepted.
std::string check(const jwt_verifier& v, std::string_view token) {
    const auto r = v.verify(token, now);
    // Pure: the same answer twice.
    const auto again = v.verify(token, now);
    if (r.index() != again.index()) std::abort();
    if (const auto* e = std::get_if<token_error>(&r)) {
        if (!documented(e->code) || e->message.empty()) std::abort();
        if (std::get<token_error>(again).code != e->code) std::abort();
        return e->code;
    }
    const auto& c = std::get<token_claims>(r);
    if (c.exp != 0 && now >= saturating_add(c.exp, leeway)) std::abort();  // expired yet accepted
    if (token.size() > 8192) std::abort();
    // Whatever the claim lists, the grants stay within it.
    const auto perms = notifier::core::permissions::from_entries(c.read);
    bool star = false;
    for (const auto& e : c.read) {
        star = star || e == "*";
        if (auto t = notifier::core::parse_topic(e); t && !perms.allows(*t)) std::abort();
    }
    if (perms.everything() != star) std::abort();
    if (!star && perms.allows(notifier::core::topic{"*", {}})) std::abort();
    for (const auto& e : perms.entries())
        if (!notifier::core::parse_topic(e)) std::abort();
    return {};
}

void check_base64url(std::string_view in) {
    std::string out;
    if (notifier::core::base64url_decode(in, out)) {
        // Only canonical encodings decode.
        if (notifier::core::base64url_encode(out) != in) std::abort();
    }
    std::string back;
    if (!notifier::core::base64url_decode(notifier::core::base64url_encode(in), back) || back != in) std::abort();
}

std::string hs256_sign(std::string_view header, std::string_view payload) {
    std::string in = notifier::core::base64url_encode(header) + "." + notifier::core::base64url_encode(payload);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(in.data()), in.size(), mac, &len);
    return in + "." + notifier::core::base64url_encode(std::string_view(reinterpret_cast<char*>(mac), len));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto& v = get();
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    if ((data[0] & 1) == 0) {
        const auto hs = check(*v.hs, rest);
        check(*v.hs_strict, rest);
        const auto rs = check(*v.rs, rest);
        const auto es = check(*v.es, rest);
        // One token cannot be valid for two algorithms.
        if (hs.empty() + rs.empty() + es.empty() > 1) std::abort();
        if (rest.size() <= 4096) check_base64url(rest);
    } else {
        const auto nl = rest.find('\n');
        const auto header = rest.substr(0, nl);
        const auto payload = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        const auto token = hs256_sign(header, payload);
        // Correctly signed: refused for its content, never for its signature.
        if (check(*v.hs, token) == "invalid_signature") std::abort();
        if (check(*v.hs_strict, token) == "invalid_signature") std::abort();
        // The same token is never valid as RS256 or ES256.
        if (check(*v.rs, token).empty() || check(*v.es, token).empty()) std::abort();
    }
    return 0;
}
