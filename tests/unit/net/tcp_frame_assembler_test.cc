// FrameAssembler: random frame sequences fed in random chunkings and at every split point must
// come out byte-identical and in order; zero-length frames; bad sizes (negative, over the
// maximum) fail, also when the size prefix itself is split; and in-place frames are not copied.
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "net/tcp/frame_assembler.h"

namespace ringlog::net::tcp {
namespace {

using Bytes = std::vector<std::byte>;

void append_frame(Bytes& stream, const Bytes& payload) {
    const auto size = static_cast<uint32_t>(payload.size());
    for (int shift = 24; shift >= 0; shift -= 8) {
        stream.push_back(static_cast<std::byte>((size >> shift) & 0xff));
    }
    stream.insert(stream.end(), payload.begin(), payload.end());
}

void append_size(Bytes& stream, uint32_t size) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        stream.push_back(static_cast<std::byte>((size >> shift) & 0xff));
    }
}

std::vector<Bytes> random_frames(std::mt19937& random, size_t count, size_t bytes_max) {
    std::vector<Bytes> frames(count);
    for (auto& frame : frames) {
        frame.resize(std::uniform_int_distribution<size_t>(0, bytes_max)(random));
        for (auto& byte : frame) {
            byte = static_cast<std::byte>(random());
        }
    }
    return frames;
}

// Feeds `stream` cut at `cuts` (ascending offsets) and returns the frames, copied out at once
// because their spans die at the next feed().
std::vector<Bytes> assemble(FrameAssembler& assembler, const Bytes& stream,
                            const std::vector<size_t>& cuts, absl::Status* status = nullptr) {
    std::vector<Bytes> out;
    std::vector<FrameAssembler::Frame> frames;
    size_t start = 0;
    for (size_t i = 0; i <= cuts.size(); ++i) {
        const size_t end = i < cuts.size() ? cuts[i] : stream.size();
        frames.clear();
        absl::Status result = assembler.feed(std::span(stream).subspan(start, end - start), frames);
        for (const auto& frame : frames) {
            out.emplace_back(frame.begin(), frame.end());
        }
        if (!result.ok()) {
            if (status != nullptr) {
                *status = result;
            }
            return out;
        }
        start = end;
    }
    return out;
}

TEST(FrameAssembler, RandomChunkingsOfRandomFramesRoundTrip) {
    std::mt19937 random(20261122);
    for (int round = 0; round < 300; ++round) {
        const auto frames = random_frames(random, 1 + random() % 40, round % 3 == 0 ? 9000 : 40);
        Bytes stream;
        for (const auto& frame : frames) {
            append_frame(stream, frame);
        }
        std::vector<size_t> cuts;
        const size_t cut_count = random() % 30;
        for (size_t i = 0; i < cut_count; ++i) {
            cuts.push_back(std::uniform_int_distribution<size_t>(0, stream.size())(random));
        }
        std::sort(cuts.begin(), cuts.end());
        FrameAssembler assembler;
        EXPECT_EQ(assemble(assembler, stream, cuts), frames) << "round " << round;
        EXPECT_EQ(assembler.pending_bytes(), 0u);
    }
}

TEST(FrameAssembler, EverySplitPointAndByteByByte) {
    std::mt19937 random(7);
    const std::vector<Bytes> frames = {Bytes(5, std::byte{1}), Bytes(), Bytes(3, std::byte{2}),
                                       Bytes(1, std::byte{3}), Bytes(), Bytes(10, std::byte{4})};
    Bytes stream;
    for (const auto& frame : frames) {
        append_frame(stream, frame);
    }
    for (size_t first = 0; first <= stream.size(); ++first) {
        for (size_t second = first; second <= stream.size(); ++second) {
            FrameAssembler assembler;
            EXPECT_EQ(assemble(assembler, stream, {first, second}), frames)
                << first << " " << second;
        }
    }
    std::vector<size_t> every_byte;
    for (size_t i = 1; i < stream.size(); ++i) {
        every_byte.push_back(i);
    }
    FrameAssembler assembler;
    EXPECT_EQ(assemble(assembler, stream, every_byte), frames);
}

TEST(FrameAssembler, FramesInsideOneChunkAreNotCopied) {
    Bytes stream;
    append_frame(stream, Bytes(8, std::byte{9}));
    append_frame(stream, Bytes(2, std::byte{8}));
    FrameAssembler assembler;
    std::vector<FrameAssembler::Frame> frames;
    ASSERT_TRUE(assembler.feed(stream, frames).ok());
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].data(), stream.data() + 4);
    EXPECT_EQ(frames[1].data(), stream.data() + 16);
}

TEST(FrameAssembler, PendingBytesCountsAnUnfinishedFrame) {
    Bytes stream;
    append_frame(stream, Bytes(10, std::byte{1}));
    FrameAssembler assembler;
    std::vector<FrameAssembler::Frame> frames;
    ASSERT_TRUE(assembler.feed(std::span(stream).first(2), frames).ok());
    EXPECT_EQ(assembler.pending_bytes(), 2u);
    ASSERT_TRUE(assembler.feed(std::span(stream).subspan(2, 5), frames).ok());
    EXPECT_EQ(assembler.pending_bytes(), 7u);
    EXPECT_TRUE(frames.empty());
}

TEST(FrameAssembler, OversizedAndNegativeSizesFailAtEverySplit) {
    for (const uint32_t size : {uint32_t{101}, uint32_t{0x80000000}, uint32_t{0xffffffff}}) {
        Bytes stream;
        append_frame(stream, Bytes(3, std::byte{7}));
        append_size(stream, size);
        stream.resize(stream.size() + 20, std::byte{0});
        for (size_t cut = 0; cut <= stream.size(); ++cut) {
            FrameAssembler assembler(100);
            absl::Status status;
            const auto out = assemble(assembler, stream, {cut}, &status);
            EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << size << " " << cut;
            ASSERT_EQ(out.size(), 1u);
            // Spent: everything after fails too.
            std::vector<FrameAssembler::Frame> frames;
            EXPECT_FALSE(assembler.feed(stream, frames).ok());
            EXPECT_TRUE(frames.empty());
        }
    }
}

TEST(FrameAssembler, FrameOfExactlyTheMaximumIsAccepted) {
    Bytes stream;
    append_frame(stream, Bytes(100, std::byte{5}));
    FrameAssembler assembler(100);
    EXPECT_EQ(assemble(assembler, stream, {50}), std::vector<Bytes>{Bytes(100, std::byte{5})});
}

}  // namespace
}  // namespace ringlog::net::tcp
