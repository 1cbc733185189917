// A librdkafka producer loop in C++ over librdkafka's C API, for the bench suite's comparison
// (Debian packages no rdkafka_performance): as fast as librdkafka goes, one fixed value copied
// per message (RD_KAFKA_MSG_F_COPY, as rdkafka_performance -P does), errors counted by the
// delivery report callback. Prints one JSON object like librdkafka_produce.py. Built by
// scripts/bench/suite.py when librdkafka-dev is installed; not part of the CMake build.
//   rdkafka_produce BOOTSTRAP TOPIC MSG_SIZE ACKS DURATION_S WARMUP_S
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

long delivery_errors = 0;

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++delivery_errors;
    }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool set(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
    char error[512];
    if (rd_kafka_conf_set(conf, name, value.c_str(), error, sizeof(error)) != RD_KAFKA_CONF_OK) {
        std::fprintf(stderr, "%s: %s\n", name, error);
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 7) {
        std::fprintf(stderr, "usage: %s BOOTSTRAP TOPIC MSG_SIZE ACKS DURATION_S WARMUP_S\n",
                     argv[0]);
        return 2;
    }
    const std::string topic_name = argv[2];
    const size_t msg_size = std::strtoul(argv[3], nullptr, 10);
    const double duration = std::atof(argv[5]);
    const double warmup = std::atof(argv[6]);
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    const bool ok = set(conf, "bootstrap.servers", argv[1]) && set(conf, "acks", argv[4])
                    && set(conf, "linger.ms", "5") && set(conf, "batch.size", "1000000")
                    && set(conf, "batch.num.messages", "100000")
                    && set(conf, "queue.buffering.max.messages", "2000000")
                    && set(conf, "queue.buffering.max.kbytes", "2097151")
                    && set(conf, "compression.type", "none")
                    && set(conf, "enable.idempotence", "false")
                    && set(conf, "max.in.flight.requests.per.connection", "5");
    if (!ok) {
        return 2;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char error[512];
    rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
    if (producer == nullptr) {
        std::fprintf(stderr, "rd_kafka_new: %s\n", error);
        return 1;
    }
    rd_kafka_topic_t* topic = rd_kafka_topic_new(producer, topic_name.c_str(), nullptr);
    std::vector<char> value(msg_size, 'x');
    auto measure_from = std::chrono::steady_clock::now();
    bool warming = warmup > 0;
    long count = 0;
    long counted_before = 0;
    for (;;) {
        if (rd_kafka_produce(topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, value.data(),
                             value.size(), nullptr, 0, nullptr)
            != 0) {
            rd_kafka_poll(producer, 1);  // the queue is full: let deliveries drain it
            continue;
        }
        ++count;
        if ((count & 1023) == 0) {
            rd_kafka_poll(producer, 0);
            if (warming && seconds_since(measure_from) >= warmup) {
                rd_kafka_flush(producer, 60000);
                warming = false;
                counted_before = count;
                measure_from = std::chrono::steady_clock::now();
            } else if (!warming && seconds_since(measure_from) >= duration) {
                break;
            }
        }
    }
    rd_kafka_flush(producer, 60000);
    const double elapsed = seconds_since(measure_from);
    const long measured = count - counted_before;
    const double delivered = static_cast<double>(measured - delivery_errors);
    std::printf(
        "{\"client\": \"librdkafka %s (C API loop)\", \"messages\": %ld, \"total_messages\": %ld, "
        "\"errors\": %ld, "
        "\"seconds\": %.3f, \"messages_per_sec\": %.1f, \"mb_per_sec\": %.3f}\n",
        rd_kafka_version_str(), measured, count, delivery_errors, elapsed, delivered / elapsed,
        delivered * static_cast<double>(msg_size) / 1e6 / elapsed);
    rd_kafka_topic_destroy(topic);
    rd_kafka_destroy(producer);
    return delivery_errors == 0 ? 0 : 1;
}
