// CodecContext: see codec_context.h. Each codec's library is driven in streaming mode for
// decompression, so the output can be bounded without trusting any length the input claims,
// and in one shot for compression, into a target sized by compress_bound().
#include "net/kafka/codec_context.h"

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>

#include <absl/strings/str_cat.h>

namespace ringlog::net::kafka {

namespace {

// The output grows in steps of at least this, up to the caller's maximum.
constexpr size_t growth_bytes = 64 * 1024;

// deflateBound leaves out the gzip header and trailer (18 bytes).
constexpr size_t gzip_wrapper_bytes = 32;

absl::Status too_large(const char* codec, size_t output_bytes_max) {
    return absl::ResourceExhaustedError(
        absl::StrCat(codec, " records inflate past ", output_bytes_max, " bytes"));
}

// Makes room for output past `used`: a reused buffer with room is left alone; otherwise it
// grows by at least growth_bytes (or doubles), never past the maximum. Returns false when the
// output is already at the maximum.
bool grow(std::vector<std::byte>& out, size_t used, size_t output_bytes_max) {
    if (used >= output_bytes_max) {
        return false;
    }
    if (out.size() > used) {
        return true;
    }
    const size_t wanted = std::max(used + growth_bytes, std::min(2 * used, output_bytes_max));
    out.resize(std::min(wanted, output_bytes_max));
    return true;
}

LZ4F_preferences_t lz4_preferences() {
    LZ4F_preferences_t preferences{};
    // Kafka's KafkaLZ4BlockInputStream reads only independent blocks.
    preferences.frameInfo.blockMode = LZ4F_blockIndependent;
    preferences.frameInfo.blockSizeID = LZ4F_max64KB;
    return preferences;
}

// xerial snappy-java's stream: this magic, int32 version and int32 compatible version, then
// chunks of (int32 big-endian length, raw snappy block).
constexpr unsigned char xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t xerial_header_bytes = 16;

bool is_xerial(std::span<const std::byte> input) {
    return input.size() >= xerial_header_bytes
           && std::memcmp(input.data(), xerial_magic, sizeof(xerial_magic)) == 0;
}

// Inflates one raw snappy block into out[used, ...) and advances `used`.
absl::Status unsnappy_block(std::span<const std::byte> block, std::vector<std::byte>& out,
                            size_t& used, size_t output_bytes_max) {
    const auto* data = reinterpret_cast<const char*>(block.data());
    size_t length = 0;
    if (!snappy::GetUncompressedLength(data, block.size(), &length)) {
        return absl::InvalidArgumentError("snappy block has a bad length");
    }
    if (length > output_bytes_max - used) {
        return too_large("snappy", output_bytes_max);
    }
    if (out.size() < used + length) {
        out.resize(used + length);
    }
    if (!snappy::RawUncompress(data, block.size(), reinterpret_cast<char*>(out.data() + used))) {
        return absl::InvalidArgumentError("snappy block is corrupt");
    }
    used += length;
    return absl::OkStatus();
}

absl::StatusOr<size_t> unsnappy(std::span<const std::byte> input, size_t output_bytes_max,
                                std::vector<std::byte>& out) {
    size_t used = 0;
    if (!is_xerial(input)) {
        if (absl::Status status = unsnappy_block(input, out, used, output_bytes_max);
            !status.ok()) {
            return status;
        }
        return used;
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
                unsnappy_block(input.subspan(position, length), out, used, output_bytes_max);
            !status.ok()) {
            return status;
        }
        position += length;
    }
    return used;
}

}  // namespace

// Each member is made on its codec's first use and freed with the context.
struct CodecContext::State {
    z_stream deflate{};
    bool deflate_ready = false;
    z_stream inflate{};
    bool inflate_ready = false;
    LZ4F_cctx* lz4_compress = nullptr;
    LZ4F_dctx* lz4_decompress = nullptr;
    ZSTD_CCtx* zstd_compress = nullptr;
    ZSTD_DCtx* zstd_decompress = nullptr;

    ~State() {
        if (deflate_ready) {
            deflateEnd(&deflate);
        }
        if (inflate_ready) {
            inflateEnd(&inflate);
        }
        LZ4F_freeCompressionContext(lz4_compress);
        LZ4F_freeDecompressionContext(lz4_decompress);
        ZSTD_freeCCtx(zstd_compress);
        ZSTD_freeDCtx(zstd_decompress);
    }

    absl::Status ready_deflate() {
        if (deflate_ready) {
            return deflateReset(&deflate) == Z_OK ? absl::OkStatus()
                                                  : absl::InternalError("deflateReset failed");
        }
        // 15 + 16: a 32 KiB window and a gzip (not zlib) header, as Kafka's GZIPOutputStream.
        if (deflateInit2(&deflate, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                         Z_DEFAULT_STRATEGY)
            != Z_OK) {
            return absl::InternalError("deflateInit2 failed");
        }
        deflate_ready = true;
        return absl::OkStatus();
    }

    absl::Status ready_inflate() {
        if (inflate_ready) {
            return inflateReset(&inflate) == Z_OK ? absl::OkStatus()
                                                  : absl::InternalError("inflateReset failed");
        }
        // 15 + 32: a 32 KiB window, and detect a gzip or zlib header by itself.
        if (inflateInit2(&inflate, 15 + 32) != Z_OK) {
            return absl::InternalError("inflateInit2 failed");
        }
        inflate_ready = true;
        return absl::OkStatus();
    }

    absl::StatusOr<size_t> gzip(std::span<const std::byte> input, std::span<std::byte> target) {
        if (absl::Status status = ready_deflate(); !status.ok()) {
            return status;
        }
        deflate.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(input.data()));
        deflate.avail_in = static_cast<uInt>(input.size());
        deflate.next_out = reinterpret_cast<Bytef*>(target.data());
        deflate.avail_out = static_cast<uInt>(target.size());
        if (::deflate(&deflate, Z_FINISH) != Z_STREAM_END) {
            return absl::InternalError("deflate did not finish within its bound");
        }
        return target.size() - deflate.avail_out;
    }

    absl::StatusOr<size_t> gunzip(std::span<const std::byte> input, size_t output_bytes_max,
                                  std::vector<std::byte>& out) {
        if (absl::Status status = ready_inflate(); !status.ok()) {
            return status;
        }
        size_t used = 0;
        inflate.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(input.data()));
        inflate.avail_in = static_cast<uInt>(input.size());
        while (true) {
            if (!grow(out, used, output_bytes_max)) {
                return too_large("gzip", output_bytes_max);
            }
            const size_t room = std::min(out.size(), output_bytes_max) - used;
            inflate.next_out = reinterpret_cast<Bytef*>(out.data() + used);
            inflate.avail_out = static_cast<uInt>(room);
            const int result = ::inflate(&inflate, Z_NO_FLUSH);
            used += room - inflate.avail_out;
            if (result == Z_STREAM_END) {
                if (inflate.avail_in == 0) {
                    break;
                }
                // Concatenated gzip members form one stream (RFC 1952 section 2.2).
                if (inflateReset(&inflate) != Z_OK) {
                    return absl::InternalError("inflateReset failed");
                }
                continue;
            }
            if (result == Z_BUF_ERROR && inflate.avail_in == 0) {
                return absl::InvalidArgumentError("gzip records are truncated");
            }
            if (result != Z_OK && result != Z_BUF_ERROR) {
                return absl::InvalidArgumentError(
                    absl::StrCat("gzip records are corrupt: ", inflate.msg ? inflate.msg : "?"));
            }
        }
        return used;
    }

    absl::StatusOr<size_t> lz4(std::span<const std::byte> input, std::span<std::byte> target) {
        if (lz4_compress == nullptr
            && LZ4F_isError(LZ4F_createCompressionContext(&lz4_compress, LZ4F_VERSION))) {
            return absl::InternalError("LZ4F_createCompressionContext failed");
        }
        const LZ4F_preferences_t preferences = lz4_preferences();
        size_t used = LZ4F_compressBegin(lz4_compress, target.data(), target.size(), &preferences);
        if (!LZ4F_isError(used)) {
            const size_t body =
                LZ4F_compressUpdate(lz4_compress, target.data() + used, target.size() - used,
                                    input.data(), input.size(), nullptr);
            used = LZ4F_isError(body) ? body : used + body;
        }
        if (!LZ4F_isError(used)) {
            const size_t end =
                LZ4F_compressEnd(lz4_compress, target.data() + used, target.size() - used, nullptr);
            used = LZ4F_isError(end) ? end : used + end;
        }
        if (LZ4F_isError(used)) {
            return absl::InternalError(absl::StrCat("lz4 frame: ", LZ4F_getErrorName(used)));
        }
        return used;
    }

    absl::StatusOr<size_t> unlz4(std::span<const std::byte> input, size_t output_bytes_max,
                                 std::vector<std::byte>& out) {
        if (lz4_decompress == nullptr) {
            if (LZ4F_isError(LZ4F_createDecompressionContext(&lz4_decompress, LZ4F_VERSION))) {
                return absl::InternalError("LZ4F_createDecompressionContext failed");
            }
        } else {
            LZ4F_resetDecompressionContext(lz4_decompress);
        }
        size_t used = 0;
        size_t position = 0;
        while (true) {
            if (!grow(out, used, output_bytes_max)) {
                return too_large("lz4", output_bytes_max);
            }
            size_t out_size = std::min(out.size(), output_bytes_max) - used;
            size_t in_size = input.size() - position;
            const size_t hint = LZ4F_decompress(lz4_decompress, out.data() + used, &out_size,
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
        return used;
    }

    absl::StatusOr<size_t> zstd(std::span<const std::byte> input, std::span<std::byte> target) {
        if (zstd_compress == nullptr && (zstd_compress = ZSTD_createCCtx()) == nullptr) {
            return absl::InternalError("ZSTD_createCCtx failed");
        }
        const size_t length = ZSTD_compressCCtx(zstd_compress, target.data(), target.size(),
                                                input.data(), input.size(), ZSTD_CLEVEL_DEFAULT);
        if (ZSTD_isError(length)) {
            return absl::InternalError(absl::StrCat("ZSTD_compress: ", ZSTD_getErrorName(length)));
        }
        return length;
    }

    absl::StatusOr<size_t> unzstd(std::span<const std::byte> input, size_t output_bytes_max,
                                  std::vector<std::byte>& out) {
        if (zstd_decompress == nullptr) {
            if ((zstd_decompress = ZSTD_createDCtx()) == nullptr) {
                return absl::InternalError("ZSTD_createDCtx failed");
            }
        } else {
            ZSTD_DCtx_reset(zstd_decompress, ZSTD_reset_session_only);
        }
        ZSTD_inBuffer in{input.data(), input.size(), 0};
        ZSTD_outBuffer target{nullptr, 0, 0};
        size_t remaining = 1;  // ZSTD_decompressStream's "more to come" hint
        while (remaining != 0) {
            if (target.pos == target.size && !grow(out, target.pos, output_bytes_max)) {
                return too_large("zstd", output_bytes_max);
            }
            target.dst = out.data();
            target.size = std::min(out.size(), output_bytes_max);
            const size_t before_in = in.pos;
            const size_t before_out = target.pos;
            remaining = ZSTD_decompressStream(zstd_decompress, &target, &in);
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
        return target.pos;
    }
};

CodecContext::CodecContext() : state_(std::make_unique<State>()) {}

CodecContext::~CodecContext() = default;

size_t CodecContext::compress_bound(Compression codec, size_t input_bytes) {
    switch (codec) {
        case Compression::none:
            return input_bytes;
        case Compression::gzip:
            // compressBound covers zlib's default parameters (deflateInit2 above uses them).
            return compressBound(static_cast<uLong>(input_bytes)) + gzip_wrapper_bytes;
        case Compression::snappy:
            return snappy::MaxCompressedLength(input_bytes);
        case Compression::lz4: {
            const LZ4F_preferences_t preferences = lz4_preferences();
            return LZ4F_HEADER_SIZE_MAX + LZ4F_compressBound(input_bytes, &preferences);
        }
        case Compression::zstd:
            return ZSTD_compressBound(input_bytes);
    }
    return input_bytes;
}

absl::StatusOr<size_t> CodecContext::compress(Compression codec, std::span<const std::byte> input,
                                              std::span<std::byte> target) {
    if (target.size() < compress_bound(codec, input.size())) {
        return absl::InternalError("compress: the target is smaller than compress_bound()");
    }
    switch (codec) {
        case Compression::none:
            if (!input.empty()) {  // memcpy's pointers must not be null, even for 0 bytes
                std::memcpy(target.data(), input.data(), input.size());
            }
            return input.size();
        case Compression::gzip:
            return state_->gzip(input, target);
        case Compression::snappy: {
            size_t length = 0;
            snappy::RawCompress(reinterpret_cast<const char*>(input.data()), input.size(),
                                reinterpret_cast<char*>(target.data()), &length);
            return length;
        }
        case Compression::lz4:
            return state_->lz4(input, target);
        case Compression::zstd:
            return state_->zstd(input, target);
    }
    return absl::InvalidArgumentError(absl::StrCat("unknown codec ", static_cast<int>(codec)));
}

absl::StatusOr<size_t> CodecContext::decompress(Compression codec, std::span<const std::byte> input,
                                                size_t output_bytes_max,
                                                std::vector<std::byte>& out) {
    switch (codec) {
        case Compression::none:
            if (input.size() > output_bytes_max) {
                return too_large("uncompressed", output_bytes_max);
            }
            if (out.size() < input.size()) {
                out.resize(input.size());
            }
            if (!input.empty()) {
                std::memcpy(out.data(), input.data(), input.size());
            }
            return input.size();
        case Compression::gzip:
            return state_->gunzip(input, output_bytes_max, out);
        case Compression::snappy:
            return unsnappy(input, output_bytes_max, out);
        case Compression::lz4:
            return state_->unlz4(input, output_bytes_max, out);
        case Compression::zstd:
            return state_->unzstd(input, output_bytes_max, out);
    }
    return absl::InvalidArgumentError(absl::StrCat("unknown codec ", static_cast<int>(codec)));
}

}  // namespace ringlog::net::kafka
