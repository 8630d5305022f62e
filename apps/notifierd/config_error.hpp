// SPDX-License-Identifier: MIT
#pragma once
// A configuration notifierd refuses to start with: the message names the
// option (and the file and line when it came from one) and says why.
// notifierd prints it and exits with status 2.

#include <stdexcept>

namespace notifierd {

struct config_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace notifierd
