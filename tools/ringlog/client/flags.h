// Flags: the command-line parsing the client subcommands (topics, produce, consume, groups)
// share: `--name value` or `--name=value`, switches without a value, repeatable flags, and
// positional words in any order among them. Each command lists the flags it knows; anything
// else is an error naming it. The bench has its own, richer parser (bench/options.h).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <absl/status/statusor.h>

namespace ringlog::tools::client {

struct FlagSpec {
    std::string_view name;  // with its dashes: "--topic"
    bool takes_value = true;
};

struct Endpoint {
    std::string host;
    uint16_t port = 0;
};

class Flags {
public:
    // kInvalidArgument for an unknown flag or a flag without its value.
    [[nodiscard]] static absl::StatusOr<Flags> parse(std::span<const std::string_view> args,
                                                     std::span<const FlagSpec> specs);

    const std::vector<std::string>& positional() const { return positional_; }

    bool has(std::string_view name) const;

    // The last value given for `name`, if any.
    std::optional<std::string> value(std::string_view name) const;

    // Every value given for `name`, in order (a repeatable flag).
    std::vector<std::string> values(std::string_view name) const;

    // The last value of `name` as an integer in [min, max], or `fallback` when absent;
    // kInvalidArgument naming the flag when it is not one.
    [[nodiscard]] absl::StatusOr<int64_t> integer(std::string_view name, int64_t fallback,
                                                  int64_t min, int64_t max) const;

    // --bootstrap HOST:PORT, required.
    [[nodiscard]] absl::StatusOr<Endpoint> bootstrap() const;

private:
    std::vector<std::string> positional_;
    std::vector<std::pair<std::string, std::string>> values_;  // (flag, value) in order
};

// "HOST:PORT" (the last colon splits); kInvalidArgument otherwise.
[[nodiscard]] absl::StatusOr<Endpoint> parse_endpoint(std::string_view text);

}  // namespace ringlog::tools::client
