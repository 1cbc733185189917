// CodecContext: one thread's reusable state for the four record codecs (compression.h says
// which forms they read and write). A hot path that compresses or inflates batch after batch
// (the load generator's producers and consumers) keeps one per connection, so each codec's
// library context (z_stream, LZ4F_cctx/dctx, ZSTD_CCtx/DCtx) is made once and the output
// buffers are the caller's, reused: no allocation per batch once they have grown, except
// snappy's, whose library allocates its hash table on every call. compress()/decompress() in
// compression.h are this with a fresh context and buffer per call.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include <absl/status/statusor.h>

#include "net/kafka/record_batch.h"

namespace ringlog::net::kafka {

// Contract: used by one thread at a time; contexts are created on a codec's first use.
class CodecContext {
public:
    CodecContext();
    ~CodecContext();
    CodecContext(const CodecContext&) = delete;
    CodecContext& operator=(const CodecContext&) = delete;

    // The most bytes compress() can write for `input_bytes` of input.
    [[nodiscard]] static size_t compress_bound(Compression codec, size_t input_bytes);

    // Deflates `input` into the front of `target` (at least compress_bound() bytes) and returns
    // the bytes written, in the same forms and levels as compress().
    [[nodiscard]] absl::StatusOr<size_t> compress(Compression codec,
                                                  std::span<const std::byte> input,
                                                  std::span<std::byte> target);

    // Inflates `input` into out[0, n) and returns n. `out` grows when too small, never past
    // `output_bytes_max` (kResourceExhausted beyond it), and is never shrunk, so a reused
    // buffer stops allocating. Malformed or truncated input is kInvalidArgument.
    [[nodiscard]] absl::StatusOr<size_t> decompress(Compression codec,
                                                    std::span<const std::byte> input,
                                                    size_t output_bytes_max,
                                                    std::vector<std::byte>& out);

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace ringlog::net::kafka
