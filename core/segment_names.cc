#include "core/segment_names.h"

#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>

namespace ringlog::core {

namespace {

std::string_view extension(SegmentFileKind kind) {
    switch (kind) {
        case SegmentFileKind::log:
            return ".log";
        case SegmentFileKind::offset_index:
            return ".index";
        case SegmentFileKind::time_index:
            return ".timeindex";
        case SegmentFileKind::cleaned:
            return ".log.cleaned";
        case SegmentFileKind::spare:
            return ".log.spare";
    }
    return "";
}

constexpr size_t digits = 20;

}  // namespace

std::string segment_file_name(Offset base_offset, SegmentFileKind kind) {
    const std::string_view ext = extension(kind);
    return absl::StrCat(absl::StrFormat("%020d", base_offset.value()),
                        absl::string_view(ext.data(), ext.size()));
}

std::string segment_path(std::string_view dir, Offset base_offset, SegmentFileKind kind) {
    return absl::StrCat(absl::string_view(dir.data(), dir.size()), "/",
                        segment_file_name(base_offset, kind));
}

std::optional<Offset> parse_segment_log_name(std::string_view name) {
    if (name.size() != digits + 4 || name.substr(digits) != ".log") {
        return std::nullopt;
    }
    int64_t value = 0;
    for (char c : name.substr(0, digits)) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        if (value > (INT64_MAX - (c - '0')) / 10) {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    return Offset(value);
}

namespace {

bool is_segment_name_with(std::string_view name, std::string_view suffix) {
    return name.size() == digits + 4 + suffix.size() && name.ends_with(suffix)
           && parse_segment_log_name(name.substr(0, digits + 4)).has_value();
}

}  // namespace

bool is_cleaned_segment_name(std::string_view name) {
    return is_segment_name_with(name, ".cleaned");
}

bool is_spare_segment_name(std::string_view name) {
    return is_segment_name_with(name, ".spare");
}

}  // namespace ringlog::core
