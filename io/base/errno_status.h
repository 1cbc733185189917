// The one place where errno becomes a Status. Above io/, nobody reads errno.
#pragma once

#include <string_view>

#include <absl/status/status.h>

namespace ringlog::io {

// err is a positive errno value (io_uring reports -err in cqe->res; pass -res).
[[nodiscard]] absl::Status errno_to_status(int err, std::string_view context);

}  // namespace ringlog::io
