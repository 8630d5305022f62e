// Client text messages: any input yields a message or a documented error.

#include "core/protocol_codec.hpp"
#include "core/topic.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto r = notifier::core::parse_client_message(text);
    if (auto* err = std::get_if<notifier::core::protocol_error>(&r)) {
        const auto& c = err->code;
        if (c != "invalid_json" && c != "invalid_message" && c != "unknown_type" && c != "unknown_field" &&
            c != "invalid_name")
            std::abort();
        (void)notifier::core::encode_error(err->code, err->message);
    } else {
        for (const auto& e : std::get<notifier::core::client_message>(r).collections)
            if (!notifier::core::parse_topic(e)) std::abort();
    }
    return 0;
}
