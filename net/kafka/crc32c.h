// CRC-32C (Castagnoli), the checksum of Kafka record batches (magic 2) and of our own index
// files. crc32c() picks the fastest implementation the CPU supports once, at start-up: SSE4.2
// with three interleaved chains joined by carry-less multiplication (LIMITS.md M3: ~14-19 GB/s),
// else a portable slicing-by-8 table loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ringlog::net::kafka {

// The standard reflected CRC-32C with the initial and final inversion applied inside, so
// crc32c("123456789") == 0xE3069283 and crc32c(b, crc32c(a)) == crc32c(a followed by b).
uint32_t crc32c(std::span<const std::byte> data, uint32_t crc = 0);

// The implementations behind crc32c(), for tests and benchmarks. crc32c_hardware() needs SSE4.2
// (check crc32c_hardware_supported()); it uses the three-chain path only where PCLMULQDQ is
// available too.
uint32_t crc32c_portable(std::span<const std::byte> data, uint32_t crc = 0);
uint32_t crc32c_hardware(std::span<const std::byte> data, uint32_t crc = 0);
bool crc32c_hardware_supported();

}  // namespace ringlog::net::kafka
