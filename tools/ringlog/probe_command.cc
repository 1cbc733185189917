// `ringlog probe`: the machine's limits for the bench suite (tools/ringlog/bench/probe.h).
#include <cstdio>
#include <fstream>
#include <string>

#include "tools/ringlog/bench/probe.h"
#include "tools/ringlog/commands.h"

namespace ringlog::tools {

int probe_command(std::span<const std::string_view> args) {
    for (std::string_view arg : args) {
        if (arg == "--help" || arg == "-h") {
            std::fputs(bench::probe_usage, stdout);
            return 0;
        }
    }
    absl::StatusOr<bench::ProbeOptions> options = bench::parse_probe_options(args);
    if (!options.ok()) {
        std::fprintf(stderr, "ringlog probe: %s\n%s",
                     std::string(options.status().message()).c_str(), bench::probe_usage);
        return 2;
    }
    absl::StatusOr<bench::ProbeResult> result = bench::run_probe(*options);
    if (!result.ok()) {
        std::fprintf(stderr, "ringlog probe: %s\n", std::string(result.status().message()).c_str());
        return 1;
    }
    // The summary for a person on stderr; stdout stays the JSON, as before, for scripts.
    std::fputs(bench::probe_summary(*result).c_str(), stderr);
    const std::string json = bench::probe_json(*result);
    std::fputs(json.c_str(), stdout);
    if (!options->json_path.empty()) {
        std::ofstream out(options->json_path);
        out << json;
        out.close();
        if (!out) {
            std::fprintf(stderr, "ringlog probe: cannot write %s\n", options->json_path.c_str());
            return 1;
        }
    }
    return 0;
}

}  // namespace ringlog::tools
