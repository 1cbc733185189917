// compress() and decompress(): a fresh CodecContext and output buffer per call, for the paths
// that see one batch now and then (the broker's compaction and tests); hot paths keep a
// CodecContext of their own.
#include "net/kafka/compression.h"

#include "net/kafka/codec_context.h"

namespace ringlog::net::kafka {

absl::StatusOr<std::vector<std::byte>> decompress(Compression codec,
                                                  std::span<const std::byte> input,
                                                  size_t output_bytes_max) {
    CodecContext context;
    std::vector<std::byte> out;
    absl::StatusOr<size_t> size = context.decompress(codec, input, output_bytes_max, out);
    if (!size.ok()) {
        return size.status();
    }
    out.resize(*size);
    return out;
}

absl::StatusOr<std::vector<std::byte>> compress(Compression codec,
                                                std::span<const std::byte> input) {
    CodecContext context;
    std::vector<std::byte> out(context.compress_bound(codec, input.size()));
    absl::StatusOr<size_t> size = context.compress(codec, input, out);
    if (!size.ok()) {
        return size.status();
    }
    out.resize(*size);
    return out;
}

}  // namespace ringlog::net::kafka
