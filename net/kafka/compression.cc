// Each codec's library is driven in streaming mode for decompression, so the output can be
// bounded without trusting any length the input claims, and in one shot for compression.
#include "net/kafka/compression.h"

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include <absl/strings/str_cat.h>

namespace ringlog::net::kafka {

namespace {

// The output grows in steps of this, up to the caller's maximum.
constexpr size_t growth_bytes = 64 * 1024;

absl::Status too_large(const char* codec, size_t output_bytes_max) {
    return absl::ResourceExhaustedError(
        absl::StrCat(codec, " records inflate past ", output_bytes_max, " bytes"));
}

// Makes room for more output: at least growth_bytes more, never past the maximum. Returns
// false when the output is already at the maximum.
bool grow(std::vector<std::byte>& out, size_t used, size_t output_bytes_max) {
    if (used >= output_bytes_max) {
        return false;
    }
    const size_t wanted = std::max(used + growth_bytes, std::min(2 * used, output_bytes_max));
    out.resize(std::min(wanted, output_bytes_max));
    return true;
}

// ---------------------------------------------------------------------------------------------
// gzip

absl::StatusOr<std::vector<std::byte>> gunzip(std::span<const std::byte> input,
                                              size_t output_bytes_max) {
    z_stream stream{};
    // 15 + 32: a 32 KiB window, and detect a gzip or zlib header by itself.
    if (inflateInit2(&stream, 15 + 32) != Z_OK) {
        return absl::InternalError("inflateInit2 failed");
    }
    const std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&stream, inflateEnd);
    std::vector<std::byte> out;
    size_t used = 0;
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(input.data()));
    stream.avail_in = static_cast<uInt>(input.size());
    while (true) {
        if (used == out.size() && !grow(out, used, output_bytes_max)) {
            return too_large("gzip", output_bytes_max);
        }
        stream.next_out = reinterpret_cast<Bytef*>(out.data() + used);
        stream.avail_out = static_cast<uInt>(out.size() - used);
        const int result = inflate(&stream, Z_NO_FLUSH);
        used = out.size() - stream.avail_out;
        if (result == Z_STREAM_END) {
            if (stream.avail_in == 0) {
                break;
            }
            // Concatenated gzip members form one stream (RFC 1952 section 2.2).
            if (inflateReset(&stream) != Z_OK) {
                return absl::InternalError("inflateReset failed");
            }
            continue;
        }
        if (result == Z_BUF_ERROR && stream.avail_in == 0) {
            return absl::InvalidArgumentError("gzip records are truncated");
        }
        if (result != Z_OK && result != Z_BUF_ERROR) {
            return absl::InvalidArgumentError(
                absl::StrCat("gzip records are corrupt: ", stream.msg ? stream.msg : "?"));
        }
    }
    out.resize(used);
    return out;
}

absl::StatusOr<std::vector<std::byte>> gzip(std::span<const std::byte> input) {
    z_stream stream{};
    // 15 + 16: a 32 KiB window and a gzip (not zlib) header, as Kafka's GZIPOutputStream.
    if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)
        != Z_OK) {
        return absl::InternalError("deflateInit2 failed");
    }
    const std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&stream, deflateEnd);
    // deflateBound leaves out the gzip header and trailer (18 bytes).
    std::vector<std::byte> out(deflateBound(&stream, static_cast<uLong>(input.size())) + 32);
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(input.data()));
    stream.avail_in = static_cast<uInt>(input.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    if (deflate(&stream, Z_FINISH) != Z_STREAM_END) {
        return absl::InternalError("deflate did not finish within its bound");
    }
    out.resize(out.size() - stream.avail_out);
    return out;
}

// ---------------------------------------------------------------------------------------------
// snappy

// xerial snappy-java's stream: this magic, int32 version and int32 compatible version, then
// chunks of (int32 big-endian length, raw snappy block).
constexpr unsigned char xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t xerial_header_bytes = 16;

bool is_xerial(std::span<const std::byte> input) {
    return input.size() >= xerial_header_bytes
           && std::memcmp(input.data(), xerial_magic, sizeof(xerial_magic)) == 0;
}

// Appends one raw snappy block to `out`.
absl::Status unsnappy_block(std::span<const std::byte> block, std::vector<std::byte>& out,
                            size_t output_bytes_max) {
    const auto* data = reinterpret_cast<const char*>(block.data());
    size_t length = 0;
    if (!snappy::GetUncompressedLength(data, block.size(), &length)) {
        return absl::InvalidArgumentError("snappy block has a bad length");
    }
    if (length > output_bytes_max - out.size()) {
        return too_large("snappy", output_bytes_max);
    }
    const size_t used = out.size();
    out.resize(used + length);
    if (!snappy::RawUncompress(data, block.size(), reinterpret_cast<char*>(out.data() + used))) {
        return absl::InvalidArgumentError("snappy block is corrupt");
    }
    return absl::OkStatus();
}

absl::StatusOr<std::vector<std::byte>> unsnappy(std::span<const std::byte> input,
                                                size_t output_bytes_max) {
    std::vector<std::byte> out;
    if (!is_xerial(input)) {
        if (absl::Status status = unsnappy_block(input, out, output_bytes_max); !status.ok()) {
            return status;
        }
        return out;
    }
    size_t position = xerial_header_bytes;
    while (position < input.size()) {
        if (input.size() - position < 4) {
            return absl::InvalidArgumentError("xerial snappy chunk length is cut off");
        }
        const auto length = big_endian::load<uint32_t>(input.data() + position);
        position += 4;
        if (length > input.size() - position) {
            return absl::InvalidArgumentError("xerial snappy chunk is cut off");
        }
        if (absl::Status status =
                unsnappy_block(input.subspan(position, length), out, output_bytes_max);
            !status.ok()) {
            return status;
        }
        position += length;
    }
    return out;
}

absl::StatusOr<std::vector<std::byte>> snappy_compress(std::span<const std::byte> input) {
    std::vector<std::byte> out(snappy::MaxCompressedLength(input.size()));
    size_t length = 0;
    snappy::RawCompress(reinterpret_cast<const char*>(input.data()), input.size(),
                        reinterpret_cast<char*>(out.data()), &length);
    out.resize(length);
    return out;
}

// ---------------------------------------------------------------------------------------------
// lz4

absl::StatusOr<std::vector<std::byte>> unlz4(std::span<const std::byte> input,
                                             size_t output_bytes_max) {
    LZ4F_dctx* context = nullptr;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&context, LZ4F_VERSION))) {
        return absl::InternalError("LZ4F_createDecompressionContext failed");
    }
    const std::unique_ptr<LZ4F_dctx, LZ4F_errorCode_t (*)(LZ4F_dctx*)> guard(
        context, LZ4F_freeDecompressionContext);
    std::vector<std::byte> out;
    size_t used = 0;
    size_t position = 0;
    while (true) {
        if (used == out.size() && !grow(out, used, output_bytes_max)) {
            return too_large("lz4", output_bytes_max);
        }
        size_t out_size = out.size() - used;
        size_t in_size = input.size() - position;
        const size_t hint = LZ4F_decompress(context, out.data() + used, &out_size,
                                            input.data() + position, &in_size, nullptr);
        if (LZ4F_isError(hint)) {
            return absl::InvalidArgumentError(
                absl::StrCat("lz4 records are corrupt: ", LZ4F_getErrorName(hint)));
        }
        used += out_size;
        position += in_size;
        if (hint == 0) {
            break;  // the frame is complete
        }
        if (position == input.size() && out_size == 0) {
            return absl::InvalidArgumentError("lz4 records are truncated");
        }
    }
    out.resize(used);
    return out;
}

absl::StatusOr<std::vector<std::byte>> lz4(std::span<const std::byte> input) {
    LZ4F_preferences_t preferences{};
    // Kafka's KafkaLZ4BlockInputStream reads only independent blocks.
    preferences.frameInfo.blockMode = LZ4F_blockIndependent;
    preferences.frameInfo.blockSizeID = LZ4F_max64KB;
    std::vector<std::byte> out(LZ4F_compressFrameBound(input.size(), &preferences));
    const size_t length =
        LZ4F_compressFrame(out.data(), out.size(), input.data(), input.size(), &preferences);
    if (LZ4F_isError(length)) {
        return absl::InternalError(absl::StrCat("LZ4F_compressFrame: ", LZ4F_getErrorName(length)));
    }
    out.resize(length);
    return out;
}

// ---------------------------------------------------------------------------------------------
// zstd

absl::StatusOr<std::vector<std::byte>> unzstd(std::span<const std::byte> input,
                                              size_t output_bytes_max) {
    ZSTD_DCtx* context = ZSTD_createDCtx();
    if (context == nullptr) {
        return absl::InternalError("ZSTD_createDCtx failed");
    }
    const std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> guard(context, ZSTD_freeDCtx);
    std::vector<std::byte> out;
    ZSTD_inBuffer in{input.data(), input.size(), 0};
    ZSTD_outBuffer target{nullptr, 0, 0};
    size_t remaining = 1;  // ZSTD_decompressStream's "more to come" hint
    while (remaining != 0) {
        if (target.pos == out.size() && !grow(out, target.pos, output_bytes_max)) {
            return too_large("zstd", output_bytes_max);
        }
        target.dst = out.data();
        target.size = out.size();
        const size_t before_in = in.pos;
        const size_t before_out = target.pos;
        remaining = ZSTD_decompressStream(context, &target, &in);
        if (ZSTD_isError(remaining)) {
            return absl::InvalidArgumentError(
                absl::StrCat("zstd records are corrupt: ", ZSTD_getErrorName(remaining)));
        }
        if (remaining != 0 && in.pos == input.size() && before_in == in.pos
            && before_out == target.pos) {
            return absl::InvalidArgumentError("zstd records are truncated");
        }
        if (remaining == 0 && in.pos < input.size()) {
            remaining = 1;  // another frame follows
        }
    }
    out.resize(target.pos);
    return out;
}

absl::StatusOr<std::vector<std::byte>> zstd(std::span<const std::byte> input) {
    std::vector<std::byte> out(ZSTD_compressBound(input.size()));
    const size_t length =
        ZSTD_compress(out.data(), out.size(), input.data(), input.size(), ZSTD_CLEVEL_DEFAULT);
    if (ZSTD_isError(length)) {
        return absl::InternalError(absl::StrCat("ZSTD_compress: ", ZSTD_getErrorName(length)));
    }
    out.resize(length);
    return out;
}

}  // namespace

absl::StatusOr<std::vector<std::byte>> decompress(Compression codec,
                                                  std::span<const std::byte> input,
                                                  size_t output_bytes_max) {
    switch (codec) {
        case Compression::none:
            if (input.size() > output_bytes_max) {
                return too_large("uncompressed", output_bytes_max);
            }
            return std::vector<std::byte>(input.begin(), input.end());
        case Compression::gzip:
            return gunzip(input, output_bytes_max);
        case Compression::snappy:
            return unsnappy(input, output_bytes_max);
        case Compression::lz4:
            return unlz4(input, output_bytes_max);
        case Compression::zstd:
            return unzstd(input, output_bytes_max);
    }
    return absl::InvalidArgumentError(absl::StrCat("unknown codec ", static_cast<int>(codec)));
}

absl::StatusOr<std::vector<std::byte>> compress(Compression codec,
                                                std::span<const std::byte> input) {
    switch (codec) {
        case Compression::none:
            return std::vector<std::byte>(input.begin(), input.end());
        case Compression::gzip:
            return gzip(input);
        case Compression::snappy:
            return snappy_compress(input);
        case Compression::lz4:
            return lz4(input);
        case Compression::zstd:
            return zstd(input);
    }
    return absl::InvalidArgumentError(absl::StrCat("unknown codec ", static_cast<int>(codec)));
}

}  // namespace ringlog::net::kafka
