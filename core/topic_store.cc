#include "core/topic_store.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_split.h>

#include "io/base/absl_compat.h"
#include "io/base/status_macros.h"

namespace ringlog::core {
namespace {

constexpr std::string_view topic_suffix = ".topic";
constexpr std::string_view config_prefix = "config.";

std::string hex_of(const net::kafka::Uuid& id) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string text;
    for (const std::byte byte : id) {
        text.push_back(digits[static_cast<uint8_t>(byte) >> 4]);
        text.push_back(digits[static_cast<uint8_t>(byte) & 0xf]);
    }
    return text;
}

bool parse_hex(std::string_view text, net::kafka::Uuid& id) {
    if (text.size() != 32) {
        return false;
    }
    for (size_t i = 0; i < 16; ++i) {
        uint32_t value = 0;
        if (!absl::SimpleHexAtoi(base::to_absl(text.substr(2 * i, 2)), &value)) {
            return false;
        }
        id[i] = static_cast<std::byte>(value);
    }
    return true;
}

// "<topic>-<partition>" folder names, as Kafka lays partitions out.
bool split_partition_dir(std::string_view name, std::string_view& topic, int32_t& partition) {
    const size_t dash = name.rfind('-');
    if (dash == std::string_view::npos || dash == 0 || dash + 1 == name.size()) {
        return false;
    }
    if (name.find_first_not_of("0123456789", dash + 1) != std::string_view::npos) {
        return false;
    }
    topic = name.substr(0, dash);
    return absl::SimpleAtoi(base::to_absl(name.substr(dash + 1)), &partition) && partition >= 0
           && check_topic_name(topic).ok();
}

}  // namespace

std::string topic_file_text(const TopicInfo& topic) {
    std::string text =
        absl::StrCat("id=", hex_of(topic.id), "\npartitions=", topic.partitions, "\n");
    for (const auto& [name, value] : topic.config.overrides()) {
        absl::StrAppend(&text, base::to_absl(config_prefix), name, "=", value, "\n");
    }
    return text;
}

absl::StatusOr<TopicInfo> parse_topic_file(std::string_view name, std::string_view text) {
    TopicInfo topic;
    topic.name = std::string(name);
    std::vector<std::pair<std::string, std::string>> overrides;
    bool have_id = false;
    for (absl::string_view absl_line :
         absl::StrSplit(base::to_absl(text), '\n', absl::SkipEmpty())) {
        const std::string_view line = base::to_std(absl_line);
        const size_t equals = line.find('=');
        if (equals == std::string_view::npos) {
            return absl::DataLossError(absl::StrCat("topic file of ", base::to_absl(name),
                                                    ": bad line '", base::to_absl(line), "'"));
        }
        const std::string_view key = line.substr(0, equals);
        const std::string_view value = line.substr(equals + 1);
        if (key == "id") {
            have_id = parse_hex(value, topic.id);
        } else if (key == "partitions") {
            if (!absl::SimpleAtoi(base::to_absl(value), &topic.partitions)
                || topic.partitions < 1) {
                return absl::DataLossError(
                    absl::StrCat("topic file of ", base::to_absl(name), ": bad partition count"));
            }
        } else if (key.substr(0, config_prefix.size()) == config_prefix) {
            overrides.emplace_back(std::string(key.substr(config_prefix.size())),
                                   std::string(value));
        }
    }
    if (!have_id || topic.partitions < 1) {
        return absl::DataLossError(
            absl::StrCat("topic file of ", base::to_absl(name), " is incomplete"));
    }
    absl::StatusOr<TopicConfig> config = TopicConfig::parse(overrides);
    if (!config.ok()) {
        return absl::DataLossError(
            absl::StrCat("topic file of ", base::to_absl(name), ": ", config.status().message()));
    }
    topic.config = *std::move(config);
    return topic;
}

std::string partition_dir(std::string_view data_dir, std::string_view topic, int32_t partition) {
    return absl::StrCat(base::to_absl(data_dir), "/", base::to_absl(topic), "-", partition);
}

io::Task<absl::StatusOr<std::vector<TopicInfo>>> TopicStore::load() {
    RL_CO_RETURN_IF_ERROR(fs_.make_dirs(topics_dir()));
    std::map<std::string, TopicInfo> topics;
    RL_CO_ASSIGN_OR_RETURN(std::vector<std::string> files, fs_.list_dir(topics_dir()));
    for (const std::string& file : files) {
        if (file.size() <= topic_suffix.size()
            || file.substr(file.size() - topic_suffix.size()) != topic_suffix) {
            continue;  // a temporary file of an interrupted save, say
        }
        const std::string name = file.substr(0, file.size() - topic_suffix.size());
        RL_CO_ASSIGN_OR_RETURN(std::vector<std::byte> bytes,
                               co_await io::read_whole_file(fs_, topics_dir() + "/" + file));
        const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        RL_CO_ASSIGN_OR_RETURN(TopicInfo topic, parse_topic_file(name, text));
        topics[name] = std::move(topic);
    }
    RL_CO_ASSIGN_OR_RETURN(std::vector<std::string> entries, fs_.list_dir(data_dir_));
    for (const std::string& entry : entries) {
        std::string_view topic_name;
        int32_t partition = 0;
        if (!split_partition_dir(entry, topic_name, partition)) {
            continue;
        }
        auto [it, inserted] = topics.try_emplace(std::string(topic_name));
        TopicInfo& topic = it->second;
        if (inserted) {
            topic.name = std::string(topic_name);
            topic.id = random_topic_id();
            topic.partitions = 0;
            std::fprintf(stderr, "ringlogd: topic %s has partitions but no topic file: adopted\n",
                         topic.name.c_str());
        }
        topic.partitions = std::max(topic.partitions, partition + 1);
    }
    std::vector<TopicInfo> result;
    for (auto& [name, topic] : topics) {
        result.push_back(std::move(topic));
    }
    co_return result;
}

io::Task<absl::Status> TopicStore::save(const TopicInfo& topic) {
    RL_CO_RETURN_IF_ERROR(fs_.make_dirs(topics_dir()));
    const std::string text = topic_file_text(topic);
    const std::string final_path =
        absl::StrCat(topics_dir(), "/", topic.name, base::to_absl(topic_suffix));
    const std::string temporary = final_path + ".tmp";
    std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(text.data()),
                                 reinterpret_cast<const std::byte*>(text.data()) + text.size());
    // Write aside, sync, then rename: a crash leaves the old file or the new one, whole.
    RL_CO_RETURN_IF_ERROR(co_await io::write_whole_file(fs_, temporary, std::move(bytes)));
    RL_CO_RETURN_IF_ERROR(fs_.rename(temporary, final_path));
    co_return co_await fs_.sync_dir(topics_dir());
}

io::Task<absl::Status> TopicStore::remove(std::string name) {
    const std::string path = absl::StrCat(topics_dir(), "/", name, base::to_absl(topic_suffix));
    if (fs_.exists(path)) {
        RL_CO_RETURN_IF_ERROR(fs_.remove(path));
    }
    co_return co_await fs_.sync_dir(topics_dir());
}

}  // namespace ringlog::core
