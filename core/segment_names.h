// Segment files are named by their base offset, zero-padded to 20 digits like Kafka's, so that a
// plain directory listing sorts them in offset order: 00000000000000000042.log.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/offset.h"

namespace ringlog::core {

// `cleaned` is the log cleaner's new copy of a segment while it is written; it is renamed over
// the .log when complete, and recovery deletes one it finds (the .log is still whole).
// `spare` is a sealed segment's file that retention removed from the log and kept, to be
// renamed into the next segment (Log's spare files); recovery deletes spares it finds.
enum class SegmentFileKind { log, offset_index, time_index, cleaned, spare };

std::string segment_file_name(Offset base_offset, SegmentFileKind kind);

std::string segment_path(std::string_view dir, Offset base_offset, SegmentFileKind kind);

// The base offset of a "<20 digits>.log" name; nullopt for any other name.
std::optional<Offset> parse_segment_log_name(std::string_view name);

// Whether `name` is a "<20 digits>.log.cleaned" leftover of a clean that did not finish.
bool is_cleaned_segment_name(std::string_view name);

// Whether `name` is a "<20 digits>.log.spare" file kept for reuse.
bool is_spare_segment_name(std::string_view name);

}  // namespace ringlog::core
