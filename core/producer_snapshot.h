// The on-disk form of a partition's ProducerStateTable: "<20-digit offset>.producers" in the
// partition folder, the table as it was when everything below that offset was stored and
// nothing at or after it. Written when a segment rolls and when the log closes; on open the
// newest snapshot that checks out is loaded and the batch headers from its offset on are
// replayed, so the table is rebuilt without reading the whole log. Not a journal: a lost or
// damaged snapshot costs only a longer replay.
//
// Layout (big-endian), protected by a CRC-32C trailer:
//   u32 magic "RLPS" | u16 version 1 | u16 batches per producer (5) | i64 offset | u32 count
//   count x { i64 producer id | i16 epoch | u8 batch count | u8 0 |
//             batch count x { i32 first seq | i32 last seq | i64 base offset | i64 last offset } }
//   u32 CRC-32C of everything before it
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/statusor.h>

#include "core/offset.h"
#include "core/producer_state.h"

namespace ringlog::core {

std::string producer_snapshot_name(Offset offset);

// The offset of a "<20 digits>.producers" name; nullopt for any other name.
std::optional<Offset> parse_producer_snapshot_name(std::string_view name);

std::vector<std::byte> serialize_producer_snapshot(const ProducerStateTable& table, Offset offset);

struct ProducerSnapshot {
    Offset offset;
    ProducerStateTable table;
};

// kDataLoss for anything that does not check out: length, magic, version, CRC, counts.
[[nodiscard]] absl::StatusOr<ProducerSnapshot> parse_producer_snapshot(
    std::span<const std::byte> bytes);

}  // namespace ringlog::core
