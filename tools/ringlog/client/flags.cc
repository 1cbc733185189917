// Flags: see flags.h.
#include "tools/ringlog/client/flags.h"

#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>

#include "io/base/absl_compat.h"

namespace ringlog::tools::client {

namespace {

const FlagSpec* find_spec(std::span<const FlagSpec> specs, std::string_view name) {
    for (const FlagSpec& spec : specs) {
        if (spec.name == name) {
            return &spec;
        }
    }
    return nullptr;
}

}  // namespace

absl::StatusOr<Flags> Flags::parse(std::span<const std::string_view> args,
                                   std::span<const FlagSpec> specs) {
    Flags flags;
    for (size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (!arg.starts_with("-") || arg == "-") {
            flags.positional_.emplace_back(arg);
            continue;
        }
        std::string_view name = arg;
        std::optional<std::string_view> value;
        const size_t equals = arg.find('=');
        if (equals != std::string_view::npos) {
            name = arg.substr(0, equals);
            value = arg.substr(equals + 1);
        }
        const FlagSpec* spec = find_spec(specs, name);
        if (spec == nullptr) {
            return absl::InvalidArgumentError(
                absl::StrCat("unknown flag '", base::to_absl(name), "'"));
        }
        if (!spec->takes_value) {
            if (value.has_value()) {
                return absl::InvalidArgumentError(
                    absl::StrCat(base::to_absl(name), " takes no value"));
            }
            flags.values_.emplace_back(std::string(name), std::string());
            continue;
        }
        if (!value.has_value()) {
            if (i + 1 >= args.size()) {
                return absl::InvalidArgumentError(
                    absl::StrCat(base::to_absl(name), " needs a value"));
            }
            value = args[++i];
        }
        flags.values_.emplace_back(std::string(name), std::string(*value));
    }
    return flags;
}

bool Flags::has(std::string_view name) const {
    for (const auto& [flag, value] : values_) {
        if (flag == name) {
            return true;
        }
    }
    return false;
}

std::optional<std::string> Flags::value(std::string_view name) const {
    std::optional<std::string> last;
    for (const auto& [flag, value] : values_) {
        if (flag == name) {
            last = value;
        }
    }
    return last;
}

std::vector<std::string> Flags::values(std::string_view name) const {
    std::vector<std::string> all;
    for (const auto& [flag, value] : values_) {
        if (flag == name) {
            all.push_back(value);
        }
    }
    return all;
}

absl::StatusOr<int64_t> Flags::integer(std::string_view name, int64_t fallback, int64_t min,
                                       int64_t max) const {
    const std::optional<std::string> text = value(name);
    if (!text.has_value()) {
        return fallback;
    }
    int64_t number = 0;
    if (!absl::SimpleAtoi(*text, &number) || number < min || number > max) {
        return absl::InvalidArgumentError(absl::StrCat("bad value for ", base::to_absl(name), ": '",
                                                       *text, "' (an integer from ", min, " to ",
                                                       max, ")"));
    }
    return number;
}

absl::StatusOr<Endpoint> Flags::bootstrap() const {
    const std::optional<std::string> text = value("--bootstrap");
    if (!text.has_value()) {
        return absl::InvalidArgumentError("--bootstrap HOST:PORT is required");
    }
    return parse_endpoint(*text);
}

absl::StatusOr<Endpoint> parse_endpoint(std::string_view text) {
    const size_t colon = text.rfind(':');
    int port = 0;
    if (colon == std::string_view::npos || colon == 0
        || !absl::SimpleAtoi(base::to_absl(text.substr(colon + 1)), &port) || port <= 0
        || port > 65535) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad address '", base::to_absl(text), "' (HOST:PORT)"));
    }
    return Endpoint{.host = std::string(text.substr(0, colon)),
                    .port = static_cast<uint16_t>(port)};
}

}  // namespace ringlog::tools::client
