// SPDX-License-Identifier: MIT
#include <notifier/errors.hpp>

#include <string>

namespace notifier {

namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "notifier"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::invalid_collection: return "collection must match [A-Za-z0-9_.:-]{1,128}";
            case errc::invalid_action: return "action must match [A-Za-z0-9_.:-]{1,64}";
            case errc::invalid_id: return "id must be 1 to 256 bytes of UTF-8";
            case errc::invalid_data: return "data must be one valid JSON value";
            case errc::overloaded: return "too many notifications waiting to be published";
            case errc::stopped: return "the hub is stopped";
            case errc::broker_unavailable: return "the broker cannot accept publications";
            case errc::already_finished: return "the transaction was already committed or rolled back";
            case errc::invalid_old: return "old must be one JSON object";
        }
        return "unknown notifier error";
    }
};

}  // namespace

const std::error_category& error_category() noexcept {
    static const category c;
    return c;
}

}  // namespace notifier
