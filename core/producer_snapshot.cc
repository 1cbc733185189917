#include "core/producer_snapshot.h"

#include <cstdint>

#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>

#include "io/base/assert.h"
#include "net/kafka/crc32c.h"
#include "net/kafka/record_batch.h"

namespace ringlog::core {
namespace {

namespace big_endian = net::kafka::big_endian;

constexpr std::string_view suffix = ".producers";
constexpr size_t digits = 20;
constexpr uint32_t magic = 0x524c5053;  // "RLPS"
constexpr uint16_t version = 1;
constexpr size_t header_bytes = 4 + 2 + 2 + 8 + 4;
constexpr size_t entry_header_bytes = 8 + 2 + 1 + 1;
constexpr size_t batch_bytes = 4 + 4 + 8 + 8;
constexpr size_t crc_bytes = 4;

class Out {
public:
    explicit Out(size_t size) : bytes_(size) {}

    template <typename Int>
    void put(Int value) {
        big_endian::store<Int>(bytes_.data() + position_, value);
        position_ += sizeof(Int);
    }

    size_t position() const { return position_; }

    std::vector<std::byte> take() { return std::move(bytes_); }

    std::span<const std::byte> written() const { return {bytes_.data(), position_}; }

private:
    std::vector<std::byte> bytes_;
    size_t position_ = 0;
};

class In {
public:
    explicit In(std::span<const std::byte> bytes) : bytes_(bytes) {}

    bool has(size_t count) const { return bytes_.size() - position_ >= count; }

    template <typename Int>
    Int get() {
        const Int value = big_endian::load<Int>(bytes_.data() + position_);
        position_ += sizeof(Int);
        return value;
    }

    size_t position() const { return position_; }

private:
    std::span<const std::byte> bytes_;
    size_t position_ = 0;
};

}  // namespace

std::string producer_snapshot_name(Offset offset) {
    return absl::StrCat(absl::StrFormat("%020d", offset.value()),
                        absl::string_view(suffix.data(), suffix.size()));
}

std::optional<Offset> parse_producer_snapshot_name(std::string_view name) {
    if (name.size() != digits + suffix.size() || name.substr(digits) != suffix) {
        return std::nullopt;
    }
    int64_t value = 0;
    for (const char c : name.substr(0, digits)) {
        if (c < '0' || c > '9' || value > (INT64_MAX - (c - '0')) / 10) {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    return Offset(value);
}

std::vector<std::byte> serialize_producer_snapshot(const ProducerStateTable& table, Offset offset) {
    size_t size = header_bytes + crc_bytes;
    for (const auto& [id, entry] : table.entries()) {
        size += entry_header_bytes + entry.count * batch_bytes;
    }
    Out out(size);
    out.put<uint32_t>(magic);
    out.put<uint16_t>(version);
    out.put<uint16_t>(static_cast<uint16_t>(producer_batches_kept));
    out.put<int64_t>(offset.value());
    out.put<uint32_t>(static_cast<uint32_t>(table.size()));
    for (const auto& [id, entry] : table.entries()) {
        out.put<int64_t>(id);
        out.put<int16_t>(entry.epoch);
        out.put<uint8_t>(entry.count);
        out.put<uint8_t>(0);
        for (size_t i = 0; i < entry.count; ++i) {
            const StoredBatch& batch = entry.batches[i];
            out.put<int32_t>(batch.first_sequence);
            out.put<int32_t>(batch.last_sequence);
            out.put<int64_t>(batch.base_offset.value());
            out.put<int64_t>(batch.last_offset.value());
        }
    }
    out.put<uint32_t>(net::kafka::crc32c(out.written()));
    RL_ASSERT(out.position() == size);
    return out.take();
}

absl::StatusOr<ProducerSnapshot> parse_producer_snapshot(std::span<const std::byte> bytes) {
    if (bytes.size() < header_bytes + crc_bytes) {
        return absl::DataLossError(absl::StrCat("producer snapshot of ", bytes.size(), " bytes"));
    }
    const std::span<const std::byte> body = bytes.first(bytes.size() - crc_bytes);
    const uint32_t stored_crc = big_endian::load<uint32_t>(bytes.data() + body.size());
    if (net::kafka::crc32c(body) != stored_crc) {
        return absl::DataLossError("producer snapshot CRC mismatch");
    }
    In in(body);
    if (in.get<uint32_t>() != magic || in.get<uint16_t>() != version
        || in.get<uint16_t>() != producer_batches_kept) {
        return absl::DataLossError("producer snapshot: unknown magic or version");
    }
    ProducerSnapshot snapshot{Offset(in.get<int64_t>()), {}};
    const uint32_t count = in.get<uint32_t>();
    for (uint32_t i = 0; i < count; ++i) {
        if (!in.has(entry_header_bytes)) {
            return absl::DataLossError("producer snapshot ends inside an entry");
        }
        const int64_t id = in.get<int64_t>();
        ProducerEntry entry;
        entry.epoch = in.get<int16_t>();
        const uint8_t batches = in.get<uint8_t>();
        (void)in.get<uint8_t>();
        if (id < 0 || batches > producer_batches_kept || !in.has(batches * batch_bytes)) {
            return absl::DataLossError("producer snapshot: bad entry");
        }
        for (uint8_t b = 0; b < batches; ++b) {
            StoredBatch batch;
            batch.first_sequence = in.get<int32_t>();
            batch.last_sequence = in.get<int32_t>();
            batch.base_offset = Offset(in.get<int64_t>());
            batch.last_offset = Offset(in.get<int64_t>());
            entry.push(batch);
        }
        snapshot.table.insert(id, entry);
    }
    if (in.position() != body.size()) {
        return absl::DataLossError("producer snapshot: bytes after the last entry");
    }
    return snapshot;
}

}  // namespace ringlog::core
