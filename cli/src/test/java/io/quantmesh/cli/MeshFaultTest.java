package io.quantmesh.cli;

import io.quantmesh.core.store.Sha256;
import io.quantmesh.core.Shared;
import io.quantmesh.core.synth.SyntheticCheckpoint;
import io.quantmesh.core.tensor.DType;
import io.quantmesh.proto.v1.JobSpec;
import io.quantmesh.proto.v1.QuantResult;
import io.quantmesh.quant.CheckpointQuantizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 7 item 2: the mesh survives kill -9 of its quant workers (separate JVMs) and a broker restart in the middle
 * of a job, and the checkpoint is byte-identical to the one-process {@code quantmesh quantize}. The broker, the
 * calibration / codebook / planner / assembler stages run in this JVM ({@link MeshHarness}); workers are child
 * processes ({@link WorkerProcess}). Synthetic {@code layered-8x256}: 56 quant tasks of ~20-300 ms.
 */
@Tag("mesh-faults")
final class MeshFaultTest {
    static final int LAYERS = 8, WIDTH = 256, TASKS = 7 * LAYERS;
    static final String RECIPE = "gptq-int2-g128";
    static final Duration JOB_TIMEOUT = Duration.ofMinutes(4);

    @TempDir
    static Path tmp;
    static MeshHarness mesh;
    static String modelUri;
    static Map<String, String> reference;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        Path model = tmp.resolve("model");
        SyntheticCheckpoint.write(model, SyntheticCheckpoint.layered(LAYERS, WIDTH), DType.BF16, 1,
                Shared.resolve("models/stories260K/tok512.bin"), null);
        mesh = MeshHarness.start(tmp);
        modelUri = mesh.importModel(model, "layered-" + LAYERS + "x" + WIDTH);
    }

    @AfterAll
    static void stop() throws Exception {
        if (mesh != null) mesh.close();
    }

    /** The one-process checkpoint, computed once: every job here calibrates with the same spec, so the same H. */
    static synchronized Map<String, String> reference(JobSpec spec) throws Exception {
        if (reference == null) reference = mesh.oneProcessReference(spec, tmp.resolve("reference"));
        return reference;
    }

    @Test
    void tenKillNinesOfWorkerProcessesLoseNothingAndChangeNoByte() throws Exception {
        String job = "faults-kill";
        SplittableRandom rnd = new SplittableRandom(20261122);
        // 10 moments, as numbers of layers done (always with work left) plus a delay, all from the seed
        TreeSet<Integer> at = new TreeSet<>();
        while (at.size() < 10) at.add(1 + rnd.nextInt(TASKS - 12));
        WorkerProcess[] slots = new WorkerProcess[2];
        List<String> kills = new ArrayList<>();
        try {
            for (int i = 0; i < slots.length; i++) slots[i] = worker("kill-" + i, 0);
            JobSpec spec = MeshHarness.spec(job, modelUri, RECIPE);
            long t0 = System.currentTimeMillis();
            mesh.submit(spec);
            int generation = 0;
            long lastKill = 0;
            for (int threshold : at) {
                awaitLayers(job, threshold);
                Thread.sleep(rnd.nextInt(400));
                int victim = rnd.nextInt(slots.length);
                int done = (int) mesh.tail().snapshot(job).distinctLayers();
                slots[victim].kill();
                lastKill = System.currentTimeMillis();
                slots[victim] = worker(slots[victim].workerId(), ++generation);
                kills.add("kill-" + victim + " at " + done + " layers, " + (System.currentTimeMillis() - t0) + " ms");
            }
            JobTail.Job result = mesh.tail().await(job, JOB_TIMEOUT);
            long wall = System.currentTimeMillis() - t0;
            System.out.printf("faults-kill: done in %.1f s after %d kills %s; %d results for %d layers%n", wall / 1e3,
                    kills.size(), kills, result.results().size(), TASKS);
            assertCompleteAndIdentical(spec, result);
            assertEquals(10, kills.size());
            assertTrue(result.quantized().getFirst().receivedMs() > lastKill, "all 10 kills hit the running job");
        } finally {
            for (WorkerProcess w : slots) if (w != null) w.close();
        }
    }

    @Test
    void aBrokerRestartInTheMiddleOfAJobChangesNoByte() throws Exception {
        String job = "faults-broker";
        WorkerProcess[] slots = new WorkerProcess[2];
        try {
            for (int i = 0; i < slots.length; i++) slots[i] = worker("restart-" + i, 0);
            JobSpec spec = MeshHarness.spec(job, modelUri, RECIPE);
            long t0 = System.currentTimeMillis();
            mesh.submit(spec);
            awaitLayers(job, TASKS / 3);
            int before = (int) mesh.tail().snapshot(job).distinctLayers();
            mesh.kafka().stop();
            Thread.sleep(2000);
            mesh.kafka().start();
            JobTail.Job result = mesh.tail().await(job, JOB_TIMEOUT);
            System.out.printf("faults-broker: broker stopped at %d layers done; job done in %.1f s; %d results%n",
                    before, (System.currentTimeMillis() - t0) / 1e3, result.results().size());
            assertTrue(before < TASKS, "the restart happened in the middle of the job");
            assertCompleteAndIdentical(spec, result);
        } finally {
            for (WorkerProcess w : slots) if (w != null) w.close();
        }
    }

    private static WorkerProcess worker(String id, int generation) throws Exception {
        return WorkerProcess.start(mesh.config().bootstrapServers(), mesh.store().root(), id, 1, "1g",
                tmp.resolve(id + "." + generation + ".log"));
    }

    private static void awaitLayers(String job, int n) throws Exception {
        long end = System.nanoTime() + JOB_TIMEOUT.toNanos();
        while (mesh.tail().snapshot(job).distinctLayers() < n) {
            if (System.nanoTime() > end) throw new TimeoutException(job + ": fewer than " + n + " layers done");
            if (!mesh.tail().snapshot(job).failed().isEmpty()) break;   // reported by assertCompleteAndIdentical
            Thread.sleep(20);
        }
    }

    /** Done, no failure, every layer present once, and the checkpoint is the one-process checkpoint's bytes. */
    private static void assertCompleteAndIdentical(JobSpec spec, JobTail.Job result) throws Exception {
        assertTrue(result.failed().isEmpty(), () -> "job failed: " + result.failed().getFirst().event());
        assertTrue(!result.quantized().isEmpty(), "a checkpoint was reported");
        // the assembler saw a result for every layer (redeliveries may repeat some: they carry the same artifact)
        assertEquals(TASKS, result.distinctLayers(), "distinct layers with a result");
        for (int i = 0; i < TASKS; i++) {
            int index = i;
            var shas = result.results().stream().map(JobTail.Seen::event).filter(r -> r.getLayerIndex() == index)
                    .map(r -> r.getLayer().getSha256()).distinct().toList();
            assertEquals(1, shas.size(), () -> "layer " + index + ": one artifact, whoever wrote it: " + shas);
        }
        // every layer artifact exists exactly once, under its own name, and nothing else is published there
        List<String> files = mesh.layerFiles(spec.getJobId(), false).stream().map(p -> p.getFileName().toString()).toList();
        System.out.printf("%s: %d layer artifacts, %d temporaries of killed writers left%n", spec.getJobId(),
                files.size(), mesh.layerFiles(spec.getJobId(), true).size());
        assertEquals(IntStream.range(0, TASKS).mapToObj(i -> String.format("%05d.safetensors", i)).toList(), files);
        // and one digest per layer, each naming the published artifact's sha256
        for (int i = 0; i < TASKS; i++) {
            Path layer = mesh.store().resolve(String.format("artifact:jobs/%s/layers/%05d.safetensors", spec.getJobId(), i));
            String digest = Files.readString(mesh.store().resolve(
                    String.format("artifact:jobs/%s/layer-digests/%05d.sha256", spec.getJobId(), i)));
            assertEquals(Sha256.of(layer), digest.split(" ")[0], "digest of layer " + i);
        }
        for (var q : result.quantized()) assertEquals(TASKS, q.event().getLayers());
        assertEquals(reference(spec), mesh.checkpoint(spec), "mesh checkpoint == quantmesh quantize, file by file");
        assertTrue(result.results().stream().map(JobTail.Seen::event).map(QuantResult::getTiming)
                .allMatch(t -> t.getComputeMs() >= 0 && !t.getWorker().isEmpty()));
    }
}
