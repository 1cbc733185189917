// The subcommands of the `ringlog` CLI. Each takes the arguments after its name and returns the
// process exit code.
#pragma once

#include <span>
#include <string_view>

namespace ringlog::tools {

// ringlog dump PATH...: prints a segment's batches (or an index's entries) and verifies every
// CRC; exits 1 if anything is corrupt.
int dump_command(std::span<const std::string_view> args);

// ringlog datagram-check --bootstrap HOST:PORT ...: produce and fetch through the datagram
// transport (udp or dpdk) and check every message comes back; --ping N measures round trips.
int datagram_command(std::span<const std::string_view> args);

// ringlog bench [produce|consume|e2e] [flags]: the load generator (tools/ringlog/bench/).
int bench_command(std::span<const std::string_view> args);

// ringlog probe [flags]: measures the machine's limits (disk and loopback TCP).
int probe_command(std::span<const std::string_view> args);

}  // namespace ringlog::tools
