package io.quantmesh.mesh;

import com.google.protobuf.Parser;
import io.quantmesh.kafka.EmbeddedKafka;
import io.quantmesh.proto.v1.CalibrationCompleted;
import io.quantmesh.proto.v1.JobSpec;
import io.quantmesh.proto.v1.JobSubmitted;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The broker restarts (same dir and port) while a handler runs: its events are produced after, nothing is lost. */
class BrokerRestartTest {
    @TempDir
    Path tmp;

    @Test
    void aRunnerRidesThroughABrokerRestart() throws Exception {
        CountDownLatch handling = new CountDownLatch(1), restarted = new CountDownLatch(1);
        Stage<JobSubmitted> stage = new Stage<>() {
            @Override public String name() { return "toy"; }
            @Override public Topic input() { return Topic.SUBMITTED; }
            @Override public Parser<JobSubmitted> parser() { return JobSubmitted.parser(); }
            @Override public JobSpec spec(JobSubmitted e) { return e.getSpec(); }
            @Override public String unit(JobSubmitted e) { return ""; }

            @Override
            public List<Emit> handle(JobSubmitted e) throws Exception {
                if (e.getSpec().getJobId().equals("j-during")) {
                    handling.countDown();
                    assertTrue(restarted.await(60, TimeUnit.SECONDS));
                }
                return List.of(new Emit(Topic.CALIBRATED, e.getSpec().getJobId(),
                        CalibrationCompleted.newBuilder().setSpec(e.getSpec()).build()));
            }
        };
        try (EmbeddedKafka kafka = new EmbeddedKafka(tmp.resolve("kafka"), 0).start()) {
            MeshConfig cfg = new MeshConfig(kafka.bootstrapServers(), "r.", "g-", tmp.resolve("store"), 1, 3, "w");
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                Topics.ensure(admin, cfg);
            }
            try (StageRunner runner = new StageRunner(cfg, stage, cfg.group("toy"));
                 KafkaProducer<String, byte[]> p = new KafkaProducer<>(cfg.producerProperties())) {
                runner.start();
                send(p, cfg, "j-before");
                send(p, cfg, "j-during");
                assertTrue(handling.await(60, TimeUnit.SECONDS));
                kafka.stop();
                kafka.start();
                restarted.countDown();
                send(p, cfg, "j-after");
                assertEquals(Set.of("j-before", "j-during", "j-after"), calibrated(cfg, 3));
            }
        }
    }

    private static void send(KafkaProducer<String, byte[]> p, MeshConfig cfg, String job) throws Exception {
        p.send(new ProducerRecord<>(cfg.topic(Topic.SUBMITTED), job,
                JobSubmitted.newBuilder().setSpec(JobSpec.newBuilder().setJobId(job)).build().toByteArray())).get();
    }

    private static Set<String> calibrated(MeshConfig cfg, int count) throws Exception {
        Set<String> jobs = new HashSet<>();
        try (EventReader r = new EventReader(cfg, Duration.ofSeconds(30))) {
            r.fromBeginning();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (jobs.size() < count && System.nanoTime() < deadline) {
                for (EventReader.Event e : r.poll(Duration.ofMillis(200))) {
                    if (e.topic() == Topic.CALIBRATED) jobs.add(e.record().key());
                }
            }
        }
        return jobs;
    }
}
