// Segment file names: zero-padded base offsets that sort like the offsets they name.
#include "core/segment_names.h"

#include <gtest/gtest.h>

namespace ringlog::core {
namespace {

TEST(SegmentNames, FormatsTwentyDigitBaseOffsets) {
    EXPECT_EQ(segment_file_name(Offset(42), SegmentFileKind::log), "00000000000000000042.log");
    EXPECT_EQ(segment_file_name(Offset(0), SegmentFileKind::offset_index),
              "00000000000000000000.index");
    EXPECT_EQ(segment_path("/d", Offset(7), SegmentFileKind::time_index),
              "/d/00000000000000000007.timeindex");
}

TEST(SegmentNames, ParsesOnlySegmentLogNames) {
    EXPECT_EQ(parse_segment_log_name("00000000000000000042.log"), Offset(42));
    EXPECT_EQ(parse_segment_log_name("09223372036854775807.log"), Offset(INT64_MAX));
    EXPECT_FALSE(parse_segment_log_name("99999999999999999999.log").has_value());
    EXPECT_FALSE(parse_segment_log_name("00000000000000000042.index").has_value());
    EXPECT_FALSE(parse_segment_log_name("0000000000000000042.log").has_value());
    EXPECT_FALSE(parse_segment_log_name("0000000000000000004x.log").has_value());
    EXPECT_FALSE(parse_segment_log_name("notes.txt").has_value());
}

}  // namespace
}  // namespace ringlog::core
