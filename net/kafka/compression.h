// The four codecs a RecordBatch v2 may use for its records (attributes bits 0-2), as Kafka's
// clients write them: gzip (RFC 1952), snappy (a raw block, as librdkafka writes it, or the
// xerial snappy-java stream framing the Java client writes), lz4 (the LZ4 frame format) and
// zstd (a zstd frame). Bytes in, bytes out: it knows nothing of batches or partitions. The
// compression itself is Debian's zlib, snappy, lz4 and zstd libraries.
// Source of truth: /work/shared/kafka-protocol/RECORD-BATCH.md "Codec notes", Kafka's
// CompressionType.java and KafkaLZ4BlockInputStream.java.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include <absl/status/statusor.h>

#include "net/kafka/record_batch.h"

namespace ringlog::net::kafka {

// Inflates the records region of a batch. `output_bytes_max` bounds the result, because a few
// hostile bytes can claim gigabytes: past it, kResourceExhausted. Malformed or truncated input
// is kInvalidArgument. Compression::none returns a copy.
[[nodiscard]] absl::StatusOr<std::vector<std::byte>> decompress(Compression codec,
                                                                std::span<const std::byte> input,
                                                                size_t output_bytes_max);

// Deflates `input` with the codec's default level, in the form librdkafka writes (so every
// client reads it): gzip with a gzip header, snappy as one raw block, lz4 as a frame of
// independent 64 KiB blocks without a content checksum, zstd as one frame.
[[nodiscard]] absl::StatusOr<std::vector<std::byte>> compress(Compression codec,
                                                              std::span<const std::byte> input);

}  // namespace ringlog::net::kafka
