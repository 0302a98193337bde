package io.quantmesh.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmbeddedKafkaTest {
    @TempDir
    Path tmp;

    @Test
    void producesConsumesAndKeepsDataAcrossARestartOnTheSameDirAndPort() throws Exception {
        Path dir = tmp.resolve("kafka");
        try (EmbeddedKafka kafka = new EmbeddedKafka(dir, 0).start()) {
            String bootstrap = kafka.bootstrapServers();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                admin.createTopics(List.of(new NewTopic("t", 2, (short) 1))).all().get();
            }
            produce(bootstrap, "job-1", "hello");
            assertEquals(List.of("job-1=hello"), readAll(bootstrap, 1));

            kafka.stop();
            assertFalse(kafka.running());
            kafka.start();
            assertEquals(bootstrap, kafka.bootstrapServers(), "same port after a restart");
            produce(bootstrap, "job-2", "again");
            List<String> all = readAll(bootstrap, 2);
            assertTrue(all.contains("job-1=hello") && all.contains("job-2=again"), all.toString());
        }
        assertTrue(Files.exists(dir), "a caller's log directory is kept");
    }

    @Test
    void closeDeletesTheTemporaryDirectoryItCreated() throws Exception {
        EmbeddedKafka kafka = new EmbeddedKafka().start();
        Path dir = kafka.logDir();
        assertTrue(Files.exists(dir.resolve("meta.properties")), "formatted");
        kafka.close();
        assertFalse(Files.exists(dir));
        assertThrows(IllegalArgumentException.class, () -> new EmbeddedKafka(tmp, 70000));
    }

    private static void produce(String bootstrap, String key, String value) throws Exception {
        try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), new StringSerializer())) {
            p.send(new ProducerRecord<>("t", key, value)).get();
        }
    }

    private static List<String> readAll(String bootstrap, int expected) {
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> parts = List.of(new TopicPartition("t", 0), new TopicPartition("t", 1));
            c.assign(parts);
            c.seekToBeginning(parts);
            List<String> out = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (out.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) out.add(r.key() + "=" + r.value());
            }
            return out;
        }
    }
}
