// FrameAssembler: random frame sequences fed in random chunkings and at every split point must
// come out byte-identical and in order; zero-length frames; bad sizes (negative, over the
// maximum) fail, also when the size prefix itself is split; in-place frames are not copied; and
// bytes received straight into a frame's buffer mix with fed chunks.
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

// Bytes go in by feed() or straight into receive_space(), at random, as the connection's
// direct receives interleave with multishot chunks: the frames still come out whole, in order.
TEST(FrameAssembler, ReceivingStraightIntoTheFrameMixesWithFeedsInAnyOrder) {
    std::mt19937 random(20261204);
    for (int round = 0; round < 200; ++round) {
        const auto frames = random_frames(random, 1 + random() % 20, round % 2 == 0 ? 300000 : 50);
        Bytes stream;
        for (const auto& frame : frames) {
            append_frame(stream, frame);
        }
        FrameAssembler assembler;
        std::vector<Bytes> out;
        std::vector<FrameAssembler::Frame> completed;
        size_t position = 0;
        size_t direct_bytes = 0;
        while (position < stream.size()) {
            completed.clear();
            const size_t left = stream.size() - position;
            if (assembler.missing_bytes() > 0 && random() % 2 == 0) {
                const std::span<std::byte> space = assembler.receive_space();
                ASSERT_FALSE(space.empty());
                ASSERT_LE(space.size(), assembler.missing_bytes());
                const size_t count =
                    std::uniform_int_distribution<size_t>(1, std::min(space.size(), left))(random);
                std::copy_n(stream.begin() + static_cast<std::ptrdiff_t>(position), count,
                            space.begin());
                assembler.commit_received(count, completed);
                position += count;
                direct_bytes += count;
            } else {
                const size_t count =
                    std::uniform_int_distribution<size_t>(1, std::min<size_t>(left, 70000))(random);
                ASSERT_TRUE(
                    assembler.feed(std::span(stream).subspan(position, count), completed).ok());
                position += count;
            }
            for (const auto& frame : completed) {
                out.emplace_back(frame.begin(), frame.end());
            }
        }
        EXPECT_EQ(out, frames) << "round " << round;
        EXPECT_EQ(assembler.pending_bytes(), 0u);
        EXPECT_EQ(assembler.missing_bytes(), 0u);
        if (round % 2 == 0) {
            EXPECT_GT(direct_bytes, 0u) << "round " << round;
        }
    }
}

// A peer's claimed size is not memory: the space offered grows with the bytes that arrived,
// and there is none between frames or while the size prefix is still split.
TEST(FrameAssembler, ReceiveSpaceFollowsTheBytesThatArrived) {
    FrameAssembler assembler;
    std::vector<FrameAssembler::Frame> frames;
    EXPECT_TRUE(assembler.receive_space().empty());
    Bytes prefix;
    append_size(prefix, 64u << 20);
    ASSERT_TRUE(assembler.feed(std::span(prefix).first(3), frames).ok());
    EXPECT_EQ(assembler.missing_bytes(), 0u);
    EXPECT_TRUE(assembler.receive_space().empty());
    Bytes rest(1, prefix[3]);
    rest.resize(1 + 10, std::byte{5});
    ASSERT_TRUE(assembler.feed(rest, frames).ok());
    EXPECT_EQ(assembler.missing_bytes(), (64u << 20) - 10);
    size_t arrived = 10;
    EXPECT_EQ(assembler.receive_space().size(), 1u << 20);
    while (assembler.missing_bytes() > 0) {
        const std::span<std::byte> space = assembler.receive_space();
        EXPECT_EQ(space.size(),
                  std::min(assembler.missing_bytes(), std::max<size_t>(1u << 20, arrived)));
        std::fill(space.begin(), space.end(), std::byte{5});
        assembler.commit_received(space.size(), frames);
        arrived += space.size();
    }
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].size(), 64u << 20);
    EXPECT_TRUE(std::all_of(frames[0].begin(), frames[0].end(),
                            [](std::byte b) { return b == std::byte{5}; }));
    EXPECT_TRUE(assembler.receive_space().empty());
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
