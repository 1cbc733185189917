// `ringlog bench`: the bundled load generator. The engine lives in tools/ringlog/bench/; this
// is the flag parsing and the outputs.
#include <cstdio>

#include "tools/ringlog/bench/options.h"
#include "tools/ringlog/bench/report.h"
#include "tools/ringlog/bench/runner.h"
#include "tools/ringlog/commands.h"

namespace ringlog::tools {

int bench_command(std::span<const std::string_view> args) {
    for (std::string_view arg : args) {
        if (arg == "--help" || arg == "-h") {
            std::fputs(bench::bench_usage, stdout);
            return 0;
        }
    }
    absl::StatusOr<bench::BenchOptions> options = bench::parse_bench_options(args);
    if (!options.ok()) {
        std::fprintf(stderr, "ringlog bench: %s\n%s",
                     std::string(options.status().message()).c_str(), bench::bench_usage);
        return 2;
    }
    absl::StatusOr<bench::BenchResult> result = bench::run_bench(*options);
    if (!result.ok()) {
        std::fprintf(stderr, "ringlog bench: %s\n", std::string(result.status().message()).c_str());
        return 1;
    }
    bench::print_summary(*result);
    if (!options->json_path.empty()) {
        const absl::Status written = bench::write_json(*result, options->json_path);
        if (!written.ok()) {
            std::fprintf(stderr, "ringlog bench: %s\n", std::string(written.message()).c_str());
            return 1;
        }
    }
    if (!options->plots_prefix.empty()) {
        const absl::Status written = bench::write_plots(*result, options->plots_prefix);
        if (!written.ok()) {
            std::fprintf(stderr, "ringlog bench: %s\n", std::string(written.message()).c_str());
            return 1;
        }
    }
    return result->errors.empty() && result->failed == 0 ? 0 : 1;
}

}  // namespace ringlog::tools
