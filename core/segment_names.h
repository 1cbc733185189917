// Segment files are named by their base offset, zero-padded to 20 digits like Kafka's, so that a
// plain directory listing sorts them in offset order: 00000000000000000042.log.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/offset.h"

namespace ringlog::core {

enum class SegmentFileKind { log, offset_index, time_index };

std::string segment_file_name(Offset base_offset, SegmentFileKind kind);

std::string segment_path(std::string_view dir, Offset base_offset, SegmentFileKind kind);

// The base offset of a "<20 digits>.log" name; nullopt for any other name.
std::optional<Offset> parse_segment_log_name(std::string_view name);

}  // namespace ringlog::core
