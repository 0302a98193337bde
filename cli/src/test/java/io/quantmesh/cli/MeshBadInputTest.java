package io.quantmesh.cli;

import io.quantmesh.calibration.kafka.CalibrationStage;
import io.quantmesh.core.Shared;
import io.quantmesh.core.synth.SyntheticCheckpoint;
import io.quantmesh.core.tensor.DType;
import io.quantmesh.mesh.JobView;
import io.quantmesh.mesh.Topic;
import io.quantmesh.proto.v1.JobFailed;
import io.quantmesh.proto.v1.JobSpec;
import io.quantmesh.proto.v1.JobStatus;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 7 item 4: bad input through the real stages on the embedded broker. A missing model, a truncated checkpoint,
 * an unknown recipe and a model URI outside the store each fail their job within seconds with a reason that names
 * the problem, on jobs.failed and in the job view; poison quant tasks (a Hessian corrupted or deleted after planning)
 * fail their job, the second after bounded retries; and a good job submitted after all of them still completes
 * byte-identically to {@code quantmesh quantize}.
 */
final class MeshBadInputTest {
    static final Duration FAST = Duration.ofSeconds(30);   // generous: the machine is shared; typical is < 2 s

    @TempDir
    Path tmp;

    @Test
    void badJobsFailFastWithAReasonAndTheMeshKeepsServing() throws Exception {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        Path tok = Shared.resolve("models/stories260K/tok512.bin");
        Path small = tmp.resolve("small"), tiny = tmp.resolve("tiny"), corrupt = tmp.resolve("corrupt");
        SyntheticCheckpoint.write(small, SyntheticCheckpoint.layered(2, 64), DType.BF16, 3, tok, null);
        SyntheticCheckpoint.write(tiny, SyntheticCheckpoint.layered(1, 64), DType.BF16, 4, tok, null);
        SyntheticCheckpoint.write(corrupt, SyntheticCheckpoint.layered(1, 64), DType.BF16, 5, tok, null);
        Path st = corrupt.resolve("model.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(st.toFile(), "rw")) {
            f.setLength(f.length() / 2);   // a download cut short
        }
        try (MeshHarness mesh = MeshHarness.start(tmp)) {
            String good = mesh.importModel(small, "small"), tinyUri = mesh.importModel(tiny, "tiny");
            String truncatedUri = mesh.importModel(corrupt, "trunc");
            String recipe = "gptq-int2-g128";

            // bad input: each fails in calibration, the first stage, before any compute
            Map<String, JobSpec> bad = new LinkedHashMap<>();
            bad.put("missing", MeshHarness.spec("bad-missing", "artifact:models/not-there", recipe));
            bad.put("truncated", MeshHarness.spec("bad-truncated", truncatedUri, recipe));
            bad.put("recipe", MeshHarness.spec("bad-recipe", good, "int1-magic"));
            bad.put("escape", MeshHarness.spec("bad-escape", "artifact:../../etc", recipe));
            Map<String, Long> submitted = new HashMap<>();
            for (JobSpec s : bad.values()) {
                submitted.put(s.getJobId(), System.currentTimeMillis());
                mesh.submit(s);
            }
            // poison tasks: planned while no worker runs, then their Hessian is corrupted / deleted
            JobSpec corrupted = MeshHarness.spec("poison-corrupt", tinyUri, recipe);
            JobSpec deleted = MeshHarness.spec("poison-deleted", tinyUri, recipe);
            mesh.submit(corrupted);
            mesh.submit(deleted);
            awaitTasks(mesh, 2 * 7);

            Map<String, JobFailed> failed = new LinkedHashMap<>();
            bad.forEach((expected, s) -> failed.put(expected, failure(mesh, s, submitted.get(s.getJobId()))));
            assertTrue(failed.get("missing").getReason().contains("models/not-there"), failed::toString);
            assertTrue(failed.get("truncated").getReason().contains("model.safetensors"), failed::toString);
            assertTrue(failed.get("recipe").getReason().contains("int1-magic"), failed::toString);
            assertTrue(failed.get("escape").getReason().contains("../../etc"), failed::toString);
            for (JobFailed f : failed.values()) {
                assertEquals("calibration", f.getStage(), f::toString);
                assertEquals(1, f.getAttempts(), "bad input is not retried: " + f);
                assertTrue(!f.getReason().contains("\n"), "one line");
            }

            Path h1 = mesh.store().resolve(CalibrationStage.hessiansUri(corrupted.getJobId()));
            byte[] bytes = Files.readAllBytes(h1);
            bytes[bytes.length - 3] ^= 0x40;   // same size, another sha256
            Files.write(h1, bytes);
            Files.delete(mesh.store().resolve(CalibrationStage.hessiansUri(deleted.getJobId())));
            long workerStart = System.currentTimeMillis();
            mesh.startInProcessWorker();
            JobFailed c = failure(mesh, corrupted, workerStart), d = failure(mesh, deleted, workerStart);
            assertEquals("quant", c.getStage());
            assertTrue(c.getReason().contains("corrupt"), c::toString);
            assertEquals(1, c.getAttempts(), "a sha256 mismatch will not heal: no retry");
            assertEquals("quant", d.getStage());
            assertEquals(mesh.config().maxAttempts(), d.getAttempts(), "a missing file is retried, boundedly: " + d);
            assertTrue(d.getReason().contains("no such file: ") && d.getReason().endsWith("hessians.safetensors"), d::toString);
            assertTrue(d.getUnit().startsWith("layer "), d::toString);

            // the mesh still serves: a good job after all of them completes, byte-identical to quantmesh quantize
            JobSpec ok = MeshHarness.spec("good-after", good, recipe);
            mesh.submit(ok);
            JobTail.Job done = mesh.tail().await(ok.getJobId(), Duration.ofMinutes(3));
            assertTrue(done.failed().isEmpty(), () -> done.failed().toString());
            assertEquals(mesh.oneProcessReference(ok, tmp.resolve("reference")), mesh.checkpoint(ok));

            // the job view (what quantmesh jobs prints) agrees
            Map<String, JobStatus> view = JobView.read(mesh.config(), Duration.ofSeconds(30)).jobs();
            for (JobSpec s : bad.values()) assertFailedInView(view, s.getJobId());
            assertFailedInView(view, corrupted.getJobId());
            assertFailedInView(view, deleted.getJobId());
            assertEquals(JobStatus.State.QUANTIZED, view.get(ok.getJobId()).getState());

            // and so does quantmesh jobs: one line per job, the failed ones with their stage and reason
            String jobs = jobsCommand(mesh);
            for (JobSpec s : bad.values()) {
                JobStatus js = view.get(s.getJobId());
                assertTrue(jobs.lines().anyMatch(l -> l.startsWith(s.getJobId() + " ") && l.contains("FAILED")
                        && l.contains(js.getFailedStage() + ": " + js.getReason())), jobs);
            }
            assertTrue(jobs.lines().anyMatch(l -> l.startsWith("good-after ") && l.contains("QUANTIZED")), jobs);
        }
    }

    private static String jobsCommand(MeshHarness mesh) {
        java.io.PrintStream out = System.out;
        var buf = new java.io.ByteArrayOutputStream();
        try (var capture = new java.io.PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8)) {
            System.setOut(capture);
            int rc = Main.commandLine().execute("jobs", "--kafka", mesh.config().bootstrapServers(), "--store",
                    mesh.store().root().toString());
            assertEquals(0, rc);
        } finally {
            System.setOut(out);
        }
        String text = buf.toString(java.nio.charset.StandardCharsets.UTF_8);
        System.out.print(text);
        return text;
    }

    private static void assertFailedInView(Map<String, JobStatus> view, String job) {
        JobStatus s = view.get(job);
        assertTrue(s != null, job + " in the view");
        assertEquals(JobStatus.State.FAILED, s.getState(), job);
        assertTrue(!s.getReason().isBlank() && !s.getFailedStage().isBlank(), s::toString);
    }

    /** The job's JobFailed, which must come within {@link #FAST} of {@code sinceMs}. */
    private static JobFailed failure(MeshHarness mesh, JobSpec spec, long sinceMs) {
        try {
            JobTail.Job j = mesh.tail().await(spec.getJobId(), FAST);
            assertTrue(j.quantized().isEmpty(), spec.getJobId() + " must not produce a checkpoint");
            var f = j.failed().getFirst();
            assertTrue(f.receivedMs() - sinceMs < FAST.toMillis(), spec.getJobId() + " failed fast");
            System.out.printf("%s: failed in %d ms at %s: %s%n", spec.getJobId(), f.receivedMs() - sinceMs,
                    f.event().getStage(), f.event().getReason());
            return f.event();
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError(spec.getJobId() + " did not fail within " + FAST, e);
        }
    }

    /** Waits until {@code n} quant tasks are on the tasks topic (the planner has run). */
    private static void awaitTasks(MeshHarness mesh, long n) throws Exception {
        String topic = mesh.config().topic(Topic.TASKS);
        Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
        for (int p = 0; p < Topic.TASKS.partitions(); p++) ends.put(new TopicPartition(topic, p), OffsetSpec.latest());
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", mesh.config().bootstrapServers()))) {
            while (true) {
                long sum = admin.listOffsets(ends).all().get().values().stream().mapToLong(o -> o.offset()).sum();
                if (sum >= n) return;
                if (System.nanoTime() > deadline) throw new TimeoutException(sum + " of " + n + " quant tasks planned");
                Thread.sleep(100);
            }
        }
    }
}
