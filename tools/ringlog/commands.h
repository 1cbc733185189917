// The subcommands of the `ringlog` CLI. Each takes the arguments after its name and returns the
// process exit code.
#pragma once

#include <span>
#include <string_view>

namespace ringlog::tools {

// ringlog dump PATH...: prints a segment's batches (or an index's entries) and verifies every
// CRC; exits 1 if anything is corrupt.
int dump_command(std::span<const std::string_view> args);

// ringlog topics --bootstrap HOST:PORT list|create|delete|describe ...: topic administration.
int topics_command(std::span<const std::string_view> args);

// ringlog produce --bootstrap HOST:PORT --topic T ...: one record per line of stdin.
int produce_command(std::span<const std::string_view> args);

// ringlog consume --bootstrap HOST:PORT --topic T ...: prints records' values, one per line.
int consume_command(std::span<const std::string_view> args);

// ringlog groups --bootstrap HOST:PORT list|describe G: consumer groups, their offsets and lag.
int groups_command(std::span<const std::string_view> args);

// ringlog datagram-check --bootstrap HOST:PORT ...: produce and fetch through the datagram
// transport (udp or dpdk) and check every message comes back; --ping N measures round trips.
int datagram_command(std::span<const std::string_view> args);

// ringlog bench [produce|consume|e2e] [flags]: the load generator (tools/ringlog/bench/).
int bench_command(std::span<const std::string_view> args);

// ringlog probe [flags]: measures the machine's limits (disk and loopback TCP).
int probe_command(std::span<const std::string_view> args);

}  // namespace ringlog::tools
