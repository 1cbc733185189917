// Debian 12's Abseil (20220623, inline namespace debian3) was built without
// ABSL_USES_STD_STRING_VIEW, so absl::string_view is its own type: absl::StrCat, SimpleAtoi and
// Status::message() do not take or give std::string_view. These two conversions bridge it.
#pragma once

#include <string_view>

#include <absl/strings/string_view.h>

namespace ringlog::base {

inline absl::string_view to_absl(std::string_view text) {
    return absl::string_view(text.data(), text.size());
}

inline std::string_view to_std(absl::string_view text) {
    return std::string_view(text.data(), text.size());
}

}  // namespace ringlog::base
