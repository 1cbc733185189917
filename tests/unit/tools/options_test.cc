// parse_bench_options: the flag names the issue fixes, defaults, and refusals.
#include "tools/ringlog/bench/options.h"

#include <vector>

#include <gtest/gtest.h>

namespace ringlog::tools::bench {
namespace {

absl::StatusOr<BenchOptions> parse(std::vector<std::string_view> args) {
    return parse_bench_options(args);
}

TEST(BenchOptions, ParsesTheNamedFlags) {
    auto options = parse({"e2e", "--bootstrap", "10.0.0.1:9093", "--topic", "t", "--partitions",
                          "8", "--msg-size", "100", "--acks", "all", "--rate", "5000", "--duration",
                          "2.5", "--json", "/tmp/x.json"});
    ASSERT_TRUE(options.ok()) << options.status();
    EXPECT_EQ(options->mode, Mode::e2e);
    EXPECT_EQ(options->bootstrap_host, "10.0.0.1");
    EXPECT_EQ(options->bootstrap_port, 9093);
    EXPECT_EQ(options->topic, "t");
    EXPECT_EQ(options->partitions, 8);
    EXPECT_EQ(options->msg_bytes, 100u);
    EXPECT_EQ(options->acks, -1);
    EXPECT_DOUBLE_EQ(options->rate, 5000);
    EXPECT_DOUBLE_EQ(options->duration_s, 2.5);
    EXPECT_EQ(options->json_path, "/tmp/x.json");
    EXPECT_EQ(options->batch_messages(), 64 * 1024 / 100);
}

TEST(BenchOptions, DefaultsToProduce) {
    auto options = parse({"--acks=1"});
    ASSERT_TRUE(options.ok()) << options.status();
    EXPECT_EQ(options->mode, Mode::produce);
    EXPECT_EQ(options->acks, 1);
}

TEST(BenchOptions, RefusesBadInput) {
    EXPECT_FALSE(parse({"sideways"}).ok());
    EXPECT_FALSE(parse({"--acks", "2"}).ok());
    EXPECT_FALSE(parse({"--bootstrap", "nohost"}).ok());
    EXPECT_FALSE(parse({"--partitions", "0"}).ok());
    EXPECT_FALSE(parse({"--frobnicate", "1"}).ok());
    EXPECT_FALSE(parse({"--topic"}).ok());
    EXPECT_FALSE(parse({"e2e", "--msg-size", "8"}).ok());
    EXPECT_FALSE(parse({"--compression", "brotli"}).ok());
    EXPECT_FALSE(parse({"--value-entropy", "9"}).ok());
    EXPECT_FALSE(parse({"--value-entropy", "lots"}).ok());
    EXPECT_FALSE(parse({"--keys", "-1"}).ok());
    EXPECT_FALSE(parse({"--key-distribution", "pareto"}).ok());
    EXPECT_FALSE(parse({"--key-distribution", "zipf:0"}).ok());
    EXPECT_FALSE(parse({"--key-distribution", "zipf:x"}).ok());
    EXPECT_FALSE(parse({"--consumer-threads", "-1"}).ok());
    EXPECT_FALSE(parse({"--idle-spin-us", "-5"}).ok());
}

TEST(BenchOptions, ParsesThreadSharingAndIdleSpin) {
    auto defaults = parse({"e2e"});
    ASSERT_TRUE(defaults.ok()) << defaults.status();
    EXPECT_EQ(defaults->consumer_threads, 1);
    EXPECT_EQ(defaults->idle_spin_us, 0);
    auto options = parse({"e2e", "--consumer-threads", "0", "--idle-spin-us", "50"});
    ASSERT_TRUE(options.ok()) << options.status();
    EXPECT_EQ(options->consumer_threads, 0);
    EXPECT_EQ(options->idle_spin_us, 50);
}

TEST(BenchOptions, ParsesCodecsValuesAndKeyDistributions) {
    using net::kafka::Compression;
    EXPECT_EQ(parse({}).value().compression, Compression::none);
    EXPECT_EQ(parse({}).value().value_entropy_bits, value_entropy_fixed);
    EXPECT_EQ(parse({}).value().key_distribution, KeyDistribution::uniform);
    const std::pair<const char*, Compression> codecs[] = {{"none", Compression::none},
                                                          {"gzip", Compression::gzip},
                                                          {"snappy", Compression::snappy},
                                                          {"lz4", Compression::lz4},
                                                          {"zstd", Compression::zstd}};
    for (const auto& [name, codec] : codecs) {
        absl::StatusOr<BenchOptions> options = parse({"--compression", name});
        ASSERT_TRUE(options.ok()) << name;
        EXPECT_EQ(options->compression, codec);
        EXPECT_STREQ(compression_name(codec), name);
    }
    EXPECT_EQ(parse({"--value-entropy", "4"}).value().value_entropy_bits, 4);
    EXPECT_EQ(parse({"--value-entropy", "fixed"}).value().value_entropy_bits, value_entropy_fixed);
    absl::StatusOr<BenchOptions> zipf = parse({"--keys", "100", "--key-distribution", "zipf"});
    ASSERT_TRUE(zipf.ok());
    EXPECT_EQ(zipf->key_distribution, KeyDistribution::zipf);
    EXPECT_DOUBLE_EQ(zipf->zipf_exponent, 1.0);
    zipf = parse({"--key-distribution", "zipf:1.5"});
    ASSERT_TRUE(zipf.ok());
    EXPECT_DOUBLE_EQ(zipf->zipf_exponent, 1.5);
    EXPECT_EQ(key_distribution_name(*zipf), "zipf:1.5");
    EXPECT_EQ(parse({"--key-distribution", "sequential"}).value().key_distribution,
              KeyDistribution::sequential);
}

}  // namespace
}  // namespace ringlog::tools::bench
