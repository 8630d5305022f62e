// SPDX-License-Identifier: MIT
#pragma once
// Epochs: random ids naming one history (docs/protocol.md, resume).

#include <string>

namespace notifier::core {

/// 16 random hex digits from std::random_device.
std::string random_epoch();

}  // namespace notifier::core
