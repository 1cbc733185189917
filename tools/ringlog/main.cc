// ringlog: the operator's CLI. `ringlog help` lists the commands.
#include <cstdio>
#include <string_view>
#include <vector>

#include "io/allocator_tuning.h"
#include "tools/ringlog/commands.h"

namespace {

struct Command {
    std::string_view name;
    std::string_view usage;
    int (*run)(std::span<const std::string_view>);
};

constexpr Command commands[] = {
    {"topics",
     "topics --bootstrap HOST:PORT list | create NAME [--partitions N] [--config K=V]... | "
     "delete NAME | describe NAME",
     ringlog::tools::topics_command},
    {"produce",
     "produce --bootstrap HOST:PORT --topic T [--partition P] [--key-separator S] "
     "[--acks 0|1|all]   one record per line of stdin",
     ringlog::tools::produce_command},
    {"consume",
     "consume --bootstrap HOST:PORT --topic T [--partition P] [--from earliest|latest|OFFSET] "
     "[--count N] [--timeout-ms MS] [--group G] [--print-key] [--print-offset]",
     ringlog::tools::consume_command},
    {"groups", "groups --bootstrap HOST:PORT list | describe GROUP   offsets and lag",
     ringlog::tools::groups_command},
    {"dump", "dump PATH...   print a segment's batches or an index's entries; verify CRCs",
     ringlog::tools::dump_command},
    {"bench", "bench [produce|consume|e2e] [flags]   load generator (bench --help)",
     ringlog::tools::bench_command},
    {"probe", "probe [flags]   the machine's disk and loopback limits (probe --help)",
     ringlog::tools::probe_command},
    {"datagram-check",
     "datagram-check --bootstrap HOST:PORT [--transport udp|dpdk|tcp] ...   produce and consume "
     "over the datagram transport; --ping N measures round trips",
     ringlog::tools::datagram_command},
};

int usage(FILE* out) {
    std::fprintf(out, "usage: ringlog COMMAND [ARGS]\n\ncommands:\n");
    for (const Command& command : commands) {
        std::fprintf(out, "  %.*s\n", static_cast<int>(command.usage.size()), command.usage.data());
    }
    return out == stderr ? 2 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    ringlog::io::keep_freed_memory_for_reuse();
    if (argc < 2) {
        return usage(stderr);
    }
    const std::string_view name = argv[1];
    if (name == "help" || name == "--help" || name == "-h") {
        return usage(stdout);
    }
    const std::vector<std::string_view> args(argv + 2, argv + argc);
    for (const Command& command : commands) {
        if (command.name == name) {
            return command.run(args);
        }
    }
    std::fprintf(stderr, "ringlog: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
