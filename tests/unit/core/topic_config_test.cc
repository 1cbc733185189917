// TopicConfig: Kafka's topic config names are checked, mapped onto the log's settings, listed
// with their effective values; topic names follow Kafka's rule.
#include "core/topic_config.h"

#include <gtest/gtest.h>

#include "io/base/limits.h"

namespace ringlog::core {
namespace {

TEST(TopicConfig, OverridesMapOntoTheLogConfig) {
    auto config = TopicConfig::parse({{"retention.ms", "3600000"},
                                      {"retention.bytes", "1048576"},
                                      {"segment.bytes", "65536"},
                                      {"segment.ms", "600000"},
                                      {"max.message.bytes", "2048"}});
    ASSERT_TRUE(config.ok()) << config.status();
    TopicDefaults defaults;
    const LogConfig log = config->log_config(defaults);
    EXPECT_EQ(log.retention_ms, 3600000);
    EXPECT_EQ(log.retention_bytes, 1048576);
    EXPECT_EQ(log.segment_bytes, 65536);
    EXPECT_EQ(log.segment_ms, 600000);
    EXPECT_EQ(config->max_message_bytes(defaults), 2048);
    EXPECT_EQ(log.durability, defaults.log.durability);  // not a topic setting
}

// Kafka accepts segment.bytes from 14; the log needs DMA blocks and a minimum: rounded up, never
// an assertion in the log.
TEST(TopicConfig, SmallOrRaggedSegmentBytesAreRoundedUpForTheLog) {
    TopicDefaults defaults;
    auto tiny = TopicConfig::parse({{"segment.bytes", "14"}});
    ASSERT_TRUE(tiny.ok());
    EXPECT_EQ(tiny->log_config(defaults).segment_bytes, limits::segment_bytes_min);
    auto ragged = TopicConfig::parse({{"segment.bytes", "1000001"}});
    ASSERT_TRUE(ragged.ok());
    const int64_t bytes = ragged->log_config(defaults).segment_bytes;
    EXPECT_GE(bytes, 1000001);
    EXPECT_EQ(bytes % static_cast<int64_t>(limits::dma_alignment), 0);
}

TEST(TopicConfig, DefaultsApplyWithoutOverrides) {
    auto config = TopicConfig::parse({});
    ASSERT_TRUE(config.ok());
    TopicDefaults defaults;
    defaults.log.retention_ms = 1234;
    EXPECT_EQ(config->log_config(defaults).retention_ms, 1234);
    EXPECT_EQ(config->cleanup_policy(), CleanupPolicy::delete_segments);
    EXPECT_EQ(config->timestamp_policy(), TimestampPolicy::create_time);
}

TEST(TopicConfig, RejectsBadValuesNamingTheConfig) {
    for (const auto& [name, value] :
         std::vector<std::pair<std::string, std::string>>{{"retention.ms", "soon"},
                                                          {"retention.ms", "-2"},
                                                          {"segment.bytes", "1"},
                                                          {"cleanup.policy", "shred"},
                                                          {"message.timestamp.type", "Now"},
                                                          {"max.message.bytes", "99999999999"}}) {
        auto config = TopicConfig::parse({{name, value}});
        ASSERT_FALSE(config.ok()) << name << "=" << value;
        EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
        EXPECT_NE(std::string(config.status().message()).find(name), std::string::npos)
            << config.status();
    }
}

TEST(TopicConfig, CleanupAndTimestampPolicies) {
    auto compact = TopicConfig::parse(
        {{"cleanup.policy", "compact,delete"}, {"message.timestamp.type", "LogAppendTime"}});
    ASSERT_TRUE(compact.ok());
    EXPECT_EQ(compact->cleanup_policy(), CleanupPolicy::compact_and_delete);
    EXPECT_EQ(compact->timestamp_policy(), TimestampPolicy::log_append_time);
}

TEST(TopicConfig, DescribeListsEffectiveValuesAndMarksOverrides) {
    auto config = TopicConfig::parse({{"retention.ms", "5000"}, {"min.insync.replicas", "2"}});
    ASSERT_TRUE(config.ok());
    TopicDefaults defaults;
    defaults.log.segment_bytes = 777777;
    bool saw_retention = false, saw_segment = false, saw_kept = false;
    for (const auto& entry : config->describe(defaults)) {
        if (entry.name == "retention.ms") {
            saw_retention = entry.value == "5000" && entry.is_override;
        } else if (entry.name == "segment.bytes") {
            saw_segment = entry.value == "777777" && !entry.is_override;
        } else if (entry.name == "min.insync.replicas") {
            saw_kept = entry.value == "2" && entry.is_override;
        }
    }
    EXPECT_TRUE(saw_retention);
    EXPECT_TRUE(saw_segment);
    EXPECT_TRUE(saw_kept);  // kept as given though the broker does not act on it
}

TEST(TopicConfig, CompactionSettingsMapOntoTheLogConfig) {
    TopicDefaults defaults;
    const LogConfig plain = TopicConfig::parse({})->log_config(defaults);
    EXPECT_FALSE(plain.compact);
    EXPECT_TRUE(plain.retention_deletes);
    auto compact = TopicConfig::parse({{"cleanup.policy", "compact"},
                                       {"delete.retention.ms", "2000"},
                                       {"min.cleanable.dirty.ratio", "0.25"}});
    ASSERT_TRUE(compact.ok()) << compact.status();
    const LogConfig log = compact->log_config(defaults);
    EXPECT_TRUE(log.compact);
    EXPECT_FALSE(log.retention_deletes);  // compact alone never deletes by age or size
    EXPECT_EQ(log.delete_retention_ms, 2000);
    EXPECT_EQ(log.min_cleanable_dirty_ratio, 0.25);
    const LogConfig both =
        TopicConfig::parse({{"cleanup.policy", "compact,delete"}})->log_config(defaults);
    EXPECT_TRUE(both.compact);
    EXPECT_TRUE(both.retention_deletes);
    for (const auto& [name, value] :
         std::vector<std::pair<std::string, std::string>>{{"delete.retention.ms", "-1"},
                                                          {"min.cleanable.dirty.ratio", "1.5"},
                                                          {"min.cleanable.dirty.ratio", "half"}}) {
        EXPECT_EQ(TopicConfig::parse({{name, value}}).status().code(),
                  absl::StatusCode::kInvalidArgument)
            << name << "=" << value;
    }
}

TEST(TopicName, FollowsKafkasRule) {
    EXPECT_TRUE(check_topic_name("orders.v2_eu-west").ok());
    EXPECT_TRUE(check_topic_name(std::string(249, 'a')).ok());
    EXPECT_FALSE(check_topic_name("").ok());
    EXPECT_FALSE(check_topic_name(std::string(250, 'a')).ok());
    EXPECT_FALSE(check_topic_name(".").ok());
    EXPECT_FALSE(check_topic_name("..").ok());
    EXPECT_FALSE(check_topic_name("a/b").ok());
    EXPECT_FALSE(check_topic_name("a b").ok());
}

}  // namespace
}  // namespace ringlog::core
