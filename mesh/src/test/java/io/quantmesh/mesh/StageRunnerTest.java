package io.quantmesh.mesh;

import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.core.store.StoredArtifact;
import io.quantmesh.kafka.EmbeddedKafka;
import io.quantmesh.proto.v1.ArtifactRef;
import io.quantmesh.proto.v1.CalibrationCompleted;
import io.quantmesh.proto.v1.JobFailed;
import io.quantmesh.proto.v1.JobSpec;
import io.quantmesh.proto.v1.JobStatus;
import io.quantmesh.proto.v1.JobSubmitted;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The runner's delivery semantics on a real (embedded) broker, with a toy stage SUBMITTED → CALIBRATED. */
class StageRunnerTest {
    private static EmbeddedKafka kafka;
    @TempDir
    static Path store;
    private static final AtomicInteger PREFIX = new AtomicInteger();

    @BeforeAll
    static void broker() throws Exception {
        kafka = new EmbeddedKafka().start();
    }

    @AfterAll
    static void stop() throws Exception {
        kafka.close();
    }

    /** Writes "jobs/<id>/toy.bin" through the store and emits CalibrationCompleted; behaviour by recipe. */
    static final class ToyStage implements Stage<JobSubmitted> {
        final ArtifactStore artifacts;
        final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
        final CountDownLatch entered = new CountDownLatch(1);

        ToyStage(Path root) throws Exception {
            artifacts = new ArtifactStore(root);
        }

        @Override public String name() { return "toy"; }
        @Override public Topic input() { return Topic.SUBMITTED; }
        @Override public Parser<JobSubmitted> parser() { return JobSubmitted.parser(); }
        @Override public JobSpec spec(JobSubmitted e) { return e.getSpec(); }
        @Override public String unit(JobSubmitted e) { return "whole " + e.getSpec().getJobId(); }

        @Override
        public List<Emit> handle(JobSubmitted e) throws Exception {
            String id = e.getSpec().getJobId();
            int call = calls.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
            switch (e.getSpec().getRecipe()) {
                case "throw" -> throw new IllegalStateException("boom " + call);
                case "bad" -> throw new BadInputException("unknown recipe 'bad'");
                case "block-once" -> {
                    if (call == 1) {
                        entered.countDown();
                        Thread.sleep(60_000); // interrupted by close()
                    }
                }
                default -> { }
            }
            StoredArtifact a = artifacts.put("jobs/" + id + "/toy.bin", id.getBytes(StandardCharsets.UTF_8));
            return List.of(new Emit(Topic.CALIBRATED, id, CalibrationCompleted.newBuilder().setSpec(e.getSpec())
                    .setHessians(ArtifactRef.newBuilder().setUri(a.uri()).setSha256(a.sha256())
                            .setSizeBytes(a.sizeBytes())).build()));
        }
    }

    private static MeshConfig config() throws Exception {
        MeshConfig cfg = new MeshConfig(kafka.bootstrapServers(), "t" + PREFIX.incrementAndGet() + ".", "g-",
                store, 1, 2, "test-worker");
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            Topics.ensure(admin, cfg);
        }
        return cfg;
    }

    private static void submit(MeshConfig cfg, String job, String recipe) throws Exception {
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(cfg.producerProperties())) {
            p.send(new ProducerRecord<>(cfg.topic(Topic.SUBMITTED), job, JobSubmitted.newBuilder()
                    .setSpec(JobSpec.newBuilder().setJobId(job).setRecipe(recipe).setModel("artifact:models/m"))
                    .build().toByteArray())).get();
        }
    }

    /** Every event of {@code topic} until {@code count} arrived (or 30 s), then 300 ms more to catch extras. */
    private static List<Message> read(MeshConfig cfg, Topic topic, int count) throws Exception {
        List<Message> out = new ArrayList<>();
        try (EventReader r = new EventReader(cfg, Duration.ofSeconds(10))) {
            r.fromBeginning();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            long extra = Long.MAX_VALUE;
            while (System.nanoTime() < Math.min(deadline, extra)) {
                for (EventReader.Event e : r.poll(Duration.ofMillis(100))) {
                    if (e.topic() == topic) out.add(Events.parse(topic, e.record().value()));
                }
                if (out.size() >= count && extra == Long.MAX_VALUE) extra = System.nanoTime() + 300_000_000L;
            }
        }
        return out;
    }

    @Test
    void failureReasonsNameStoreUrisNotHostPaths() {
        Path root = Path.of("/srv/quantmesh-store");
        assertEquals("no such file: artifact:jobs/j1/hessians.safetensors (attempt 3)",
                StageRunner.storeRelative("no such file: /srv/quantmesh-store/jobs/j1/hessians.safetensors (attempt 3)", root));
        assertEquals("/elsewhere/x is not a model", StageRunner.storeRelative("/elsewhere/x is not a model", root));
    }

    @Test
    void handlesAndCommitsThenTheJobViewFoldsIt() throws Exception {
        MeshConfig cfg = config();
        ToyStage stage = new ToyStage(store);
        try (StageRunner runner = new StageRunner(cfg, stage, cfg.group("toy"))) {
            runner.start();
            submit(cfg, "j-ok", "ok");
            List<Message> done = read(cfg, Topic.CALIBRATED, 1);
            assertEquals(1, done.size());
            CalibrationCompleted c = (CalibrationCompleted) done.getFirst();
            assertEquals("j-ok", c.getSpec().getJobId());
            assertEquals("artifact:jobs/j-ok/toy.bin", c.getHessians().getUri());
            assertTrue(Files.exists(store.resolve("jobs/j-ok/toy.bin")));
            JobStatus s = JobView.read(cfg, Duration.ofSeconds(10)).jobs().get("j-ok");
            assertEquals(JobStatus.State.CALIBRATED, s.getState());
        }
        assertEquals(1, stage.calls.get("j-ok").get(), "committed: a new runner in the group does not redo it");
        ToyStage again = new ToyStage(store);
        try (StageRunner runner = new StageRunner(cfg, again, cfg.group("toy"))) {
            runner.start();
            submit(cfg, "j-next", "ok");
            assertEquals(2, read(cfg, Topic.CALIBRATED, 2).size());
        }
        assertEquals(Map.of("j-next", 1), Map.of("j-next", again.calls.get("j-next").get()));
        assertEquals(1, again.calls.size(), "j-ok was not redelivered");
    }

    @Test
    void aThrowingStageFailsTheJobOnceAfterMaxAttemptsAndTheRestGoesOn() throws Exception {
        MeshConfig cfg = config();
        ToyStage stage = new ToyStage(store);
        try (StageRunner runner = new StageRunner(cfg, stage, cfg.group("toy"))) {
            runner.start();
            submit(cfg, "j-poison", "throw");
            submit(cfg, "j-after", "ok");
            List<Message> failed = read(cfg, Topic.FAILED, 1);
            assertEquals(1, failed.size(), failed.toString());
            JobFailed f = (JobFailed) failed.getFirst();
            assertEquals("j-poison", f.getSpec().getJobId());
            assertEquals("toy", f.getStage());
            assertEquals(2, f.getAttempts());
            assertEquals("whole j-poison", f.getUnit());
            assertTrue(f.getReason().startsWith("failed after 2 attempts: boom 2"), f.getReason());
            assertEquals(2, stage.calls.get("j-poison").get());
            assertEquals(1, read(cfg, Topic.CALIBRATED, 1).size(), "the partition is not blocked");
            // a redelivered record of a failed job is skipped, not retried
            submit(cfg, "j-poison", "throw");
            submit(cfg, "j-last", "ok");
            assertEquals(2, read(cfg, Topic.CALIBRATED, 2).size());
            assertEquals(2, stage.calls.get("j-poison").get());
            assertEquals(1, read(cfg, Topic.FAILED, 1).size());
            JobStatus s = JobView.read(cfg, Duration.ofSeconds(10)).job("j-poison");
            assertEquals(JobStatus.State.FAILED, s.getState());
            assertEquals("toy", s.getFailedStage());
        }
    }

    @Test
    void aRecordThatKeepsKillingItsWorkersFailsTheJobWithoutAnotherTry() throws Exception {
        MeshConfig cfg = config();
        org.apache.kafka.clients.producer.RecordMetadata m;
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(cfg.producerProperties())) {
            m = p.send(new ProducerRecord<>(cfg.topic(Topic.SUBMITTED), "j-crasher", JobSubmitted.newBuilder()
                    .setSpec(JobSpec.newBuilder().setJobId("j-crasher").setRecipe("ok")).build().toByteArray())).get();
        }
        // as if five worker processes had died inside the handler: begun, durably counted, never finished
        DeliveryLedger ledger = new DeliveryLedger(store, cfg.group("toy"));
        ledger.begin(m.topic(), m.partition(), m.offset(), DeliveryLedger.MAX_UNFINISHED_DELIVERIES - 1);
        ToyStage stage = new ToyStage(store);
        try (StageRunner runner = new StageRunner(cfg, stage, cfg.group("toy"))) {
            runner.start();
            submit(cfg, "j-fine", "ok");
            JobFailed f = (JobFailed) read(cfg, Topic.FAILED, 1).getFirst();
            assertEquals("j-crasher", f.getSpec().getJobId());
            assertTrue(f.getReason().startsWith("delivered 5 times without finishing"), f.getReason());
            assertEquals(1, read(cfg, Topic.CALIBRATED, 1).size(), "the next record goes on");
        }
        assertEquals(null, stage.calls.get("j-crasher"), "the poison record was not handed to the handler again");
        assertEquals(0, ledger.unfinished(m.topic(), m.partition(), m.offset()), "cleared once committed");
    }

    @Test
    void badInputAndUnparseableRecordsFailAtOnce() throws Exception {
        MeshConfig cfg = config();
        ToyStage stage = new ToyStage(store);
        try (StageRunner runner = new StageRunner(cfg, stage, cfg.group("toy"))) {
            runner.start();
            submit(cfg, "j-bad", "bad");
            try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(cfg.producerProperties())) {
                p.send(new ProducerRecord<>(cfg.topic(Topic.SUBMITTED), "j-garbage", new byte[]{(byte) 0xff, 1, 2}))
                        .get();
            }
            List<Message> failed = read(cfg, Topic.FAILED, 2);
            assertEquals(2, failed.size(), failed.toString());
            for (Message m : failed) {
                JobFailed f = (JobFailed) m;
                if (f.getSpec().getJobId().equals("j-bad")) {
                    assertEquals("unknown recipe 'bad'", f.getReason());
                    assertEquals(1, f.getAttempts());
                } else {
                    assertEquals("j-garbage", f.getSpec().getJobId());
                    assertTrue(f.getReason().startsWith("unparseable checkpoints.submitted record"), f.getReason());
                }
            }
            assertEquals(1, stage.calls.get("j-bad").get(), "no retry for bad input");
        }
    }

    @Test
    void aRunnerClosedBeforeCommittingLeavesTheRecordToTheNextMember() throws Exception {
        MeshConfig cfg = config();
        ToyStage stage = new ToyStage(store);
        StageRunner first = new StageRunner(cfg, stage, cfg.group("toy"));
        first.start();
        submit(cfg, "j-redo", "block-once");
        assertTrue(stage.entered.await(30, TimeUnit.SECONDS));
        long t0 = System.nanoTime();
        first.close();
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10), "close is prompt");
        assertEquals(0, read(cfg, Topic.CALIBRATED, 0).size());
        assertEquals(0, read(cfg, Topic.FAILED, 0).size(), "closing never fails a job");
        try (StageRunner second = new StageRunner(cfg, stage, cfg.group("toy"))) {
            second.start();
            assertEquals(1, read(cfg, Topic.CALIBRATED, 1).size());
        }
        assertEquals(2, stage.calls.get("j-redo").get(), "redelivered once");
    }

    @Test
    void concurrentMembersShareTheTopic() throws Exception {
        MeshConfig cfg = config().withConcurrency(3);
        ToyStage stage = new ToyStage(store);
        try (StageRunner runner = new StageRunner(cfg, stage, cfg.group("toy"))) {
            runner.start();
            for (int i = 0; i < 9; i++) submit(cfg, "j-c" + i, "ok");
            assertEquals(9, read(cfg, Topic.CALIBRATED, 9).size());
        }
        for (int i = 0; i < 9; i++) assertEquals(1, stage.calls.get("j-c" + i).get());
    }
}
