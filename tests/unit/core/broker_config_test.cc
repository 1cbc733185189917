// Broker settings from flags and a config file: the fixed flag names, both flag spellings,
// flags overriding the file, and clear errors for anything wrong.
#include "core/broker_config.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace ringlog::core {
namespace {

absl::StatusOr<BrokerConfig> parse(std::vector<std::string_view> args) {
    return parse_broker_config(args);
}

TEST(BrokerConfig, DefaultsAreTheEmbeddedSetup) {
    auto config = parse({});
    ASSERT_TRUE(config.ok());
    EXPECT_EQ(config->port, 9092);
    EXPECT_EQ(config->shards, 0);
    EXPECT_EQ(config->idle_spin_us, 0);
    EXPECT_EQ(config->log.durability, Durability::always);
}

TEST(BrokerConfig, IdleSpinIsMicrosecondsAndNeverNegative) {
    auto config = parse({"--idle-spin-us", "40"});
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->idle_spin_us, 40);
    EXPECT_FALSE(parse({"--idle-spin-us", "-1"}).ok());
}

TEST(BrokerConfig, ReadsTheFixedFlagNamesInBothSpellings) {
    auto config = parse({"--data-dir", "/srv/log", "--port=19092", "--advertised-host", "b1",
                         "--shards", "2", "--durability", "interval", "--segment-bytes", "1048576",
                         "--retention-ms", "-1", "--auto-create-topics", "false"});
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->data_dir, "/srv/log");
    EXPECT_EQ(config->port, 19092);
    EXPECT_EQ(config->advertised_host, "b1");
    EXPECT_EQ(config->shards, 2);
    EXPECT_EQ(config->log.durability, Durability::interval);
    EXPECT_EQ(config->log.segment_bytes, 1048576);
    EXPECT_EQ(config->log.retention_ms, -1);
    EXPECT_FALSE(config->auto_create_topics);
}

TEST(BrokerConfig, LogMemoryFlags) {
    auto config = parse(
        {"--log-tail-bytes", "0", "--log-dirty-bytes", "1048576", "--log-prewrite-bytes", "0"});
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->log.tail_bytes_max, 0u);
    EXPECT_EQ(config->log.dirty_bytes_max, 1048576u);
    EXPECT_EQ(config->log.prewrite_ahead_bytes, 0);
    EXPECT_FALSE(parse({"--log-dirty-bytes", "100"}).ok());  // less than one block
    EXPECT_FALSE(parse({"--log-prewrite-bytes", "-1"}).ok());
}

TEST(BrokerConfig, GroupSyncIsOnUnlessTurnedOff) {
    auto defaults = parse({});
    ASSERT_TRUE(defaults.ok()) << defaults.status();
    EXPECT_TRUE(defaults->group_sync);
    auto off = parse({"--group-sync", "false"});
    ASSERT_TRUE(off.ok()) << off.status();
    EXPECT_FALSE(off->group_sync);
    EXPECT_FALSE(parse({"--group-sync", "sometimes"}).ok());
}

TEST(BrokerConfig, SyncMethodIsFdatasyncUnlessAnotherIsAskedFor) {
    auto defaults = parse({});
    ASSERT_TRUE(defaults.ok()) << defaults.status();
    EXPECT_EQ(defaults->log.sync_method, SyncMethod::write_then_fdatasync);
    auto dsync = parse({"--sync-method", "dsync"});
    ASSERT_TRUE(dsync.ok()) << dsync.status();
    EXPECT_EQ(dsync->log.sync_method, SyncMethod::dsync_write);
    auto fdatasync = parse({"--sync-method", "fdatasync"});
    ASSERT_TRUE(fdatasync.ok()) << fdatasync.status();
    EXPECT_EQ(fdatasync->log.sync_method, SyncMethod::write_then_fdatasync);
    auto adaptive = parse({"--sync-method", "adaptive"});
    ASSERT_TRUE(adaptive.ok()) << adaptive.status();
    EXPECT_EQ(adaptive->log.sync_method, SyncMethod::adaptive);
    auto back = parse({"--sync-method", "dsync", "--sync-method", "fdatasync"});
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->log.sync_method, SyncMethod::write_then_fdatasync);
    const auto bad = parse({"--sync-method", "fsync"});
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().message().find("sync-method"), std::string::npos) << bad.status();
}

TEST(BrokerConfig, DatagramTransportFlags) {
    auto config = parse({"--dpdk", "--no-huge -m 256 --no-pci --vdev=net_memif0,role=server",
                         "--datagram-host", "127.0.1.1", "--dpdk-udp-port", "9300",
                         "--dpdk-peer-mac", "02:00:00:00:00:01"});
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->dpdk_eal_args, "--no-huge -m 256 --no-pci --vdev=net_memif0,role=server");
    EXPECT_EQ(config->datagram_host, "127.0.1.1");
    EXPECT_EQ(config->dpdk_udp_port, 9300);
    EXPECT_EQ(config->dpdk_peer_mac, "02:00:00:00:00:01");
    EXPECT_EQ(config->udp_port, 0);
    auto udp = parse({"--udp-port", "9200"});
    ASSERT_TRUE(udp.ok()) << udp.status();
    EXPECT_EQ(udp->udp_port, 9200);
    EXPECT_TRUE(udp->dpdk_eal_args.empty());
    auto both = parse({"--udp-port", "9200", "--dpdk", "--no-pci"});
    EXPECT_EQ(both.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(parse({"--udp-port", "70000"}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(BrokerConfig, FlagsOverrideTheConfigFile) {
    const auto path = std::filesystem::temp_directory_path() / "ringlog-config-test.conf";
    {
        std::ofstream file(path);
        file << "# a comment\n\nport = 7000\ndata-dir = /from/file\n  durability=none  \n";
    }
    auto config = parse({"--port", "7001", "--config", path.string()});
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->port, 7001);
    EXPECT_EQ(config->data_dir, "/from/file");
    EXPECT_EQ(config->log.durability, Durability::none);
    std::filesystem::remove(path);
}

TEST(BrokerConfig, BadInputIsAClearError) {
    EXPECT_NE(parse({"--port", "x"}).status().message().find("--port"), absl::string_view::npos);
    EXPECT_FALSE(parse({"--port", "70000"}).ok());
    EXPECT_FALSE(parse({"--durability", "sometimes"}).ok());
    EXPECT_FALSE(parse({"--no-such-flag", "1"}).ok());
    EXPECT_FALSE(parse({"--port"}).ok());
    EXPECT_FALSE(parse({"stray"}).ok());
    EXPECT_EQ(parse({"--config", "/nonexistent/ringlog.conf"}).status().code(),
              absl::StatusCode::kNotFound);
    const auto path = std::filesystem::temp_directory_path() / "ringlog-config-bad.conf";
    {
        std::ofstream file(path);
        file << "port = 1\nthis line has no equals sign\n";
    }
    auto bad = parse({"--config", path.string()});
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().message().find(":2:"), absl::string_view::npos) << bad.status();
    std::filesystem::remove(path);
}

TEST(BrokerConfig, UsageListsEverySetting) {
    const std::string usage = broker_usage();
    for (const char* name : {"--data-dir", "--port", "--advertised-host", "--shards", "--config"}) {
        EXPECT_NE(usage.find(name), std::string::npos) << name;
    }
}

}  // namespace
}  // namespace ringlog::core
