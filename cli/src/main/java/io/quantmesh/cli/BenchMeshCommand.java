package io.quantmesh.cli;

import io.quantmesh.core.Shared;
import io.quantmesh.core.synth.SyntheticCheckpoint;
import io.quantmesh.core.tensor.DType;
import io.quantmesh.proto.v1.JobSpec;
import io.quantmesh.proto.v1.QuantResult;
import io.quantmesh.quant.CheckpointQuantizer;
import org.apache.kafka.clients.admin.Admin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Scale-out of the quant stage: the same synthetic checkpoint through the mesh with 1, then 2, … quant workers as
 * separate processes. Prints the job's wall time and, per layer, the quantization compute and the overhead that Kafka
 * and the store add around it (docs/MESH.md "Scale-out").
 */
@Command(name = "bench-mesh", mixinStandardHelpOptions = true,
        description = "Run one synthetic checkpoint through the mesh with 1, 2, ... quant worker processes; print job "
                + "wall time, per-layer compute and the per-layer overhead of Kafka + the artifact store.")
final class BenchMeshCommand implements Callable<Integer> {
    @Option(names = "--layers", defaultValue = "12", description = "decoder layers (7 linears each). Default: ${DEFAULT-VALUE}")
    int layers;

    @Option(names = "--width", defaultValue = "256", description = "model width (SwiGLU 3x). Default: ${DEFAULT-VALUE}")
    int width;

    @Option(names = "--workers", split = ",", defaultValue = "1,2",
            description = "worker process counts to run, one job each. Default: ${DEFAULT-VALUE}")
    List<Integer> workers;

    @Option(names = "--threads", defaultValue = "1",
            description = "GPTQ threads per worker process (default ${DEFAULT-VALUE}: on a 2-core machine 2 workers "
                    + "x 1 thread use the cores that 1 worker x 1 thread leaves idle)")
    int threads;

    @Option(names = "--recipe", defaultValue = "gptq-int2-g128", description = "Default: ${DEFAULT-VALUE}")
    String recipe;

    @Option(names = "--worker-heap", defaultValue = "4g",
            description = "-Xmx of each worker process (a layer needs ~40·cols² + 24·rows·cols bytes). Default: ${DEFAULT-VALUE}")
    String workerHeap;

    @Option(names = "--dir", paramLabel = "DIR", description = "work directory (default: a temporary one, deleted)")
    Path dir;

    @Override
    public Integer call() throws Exception {
        if (workers.isEmpty() || workers.stream().anyMatch(n -> n < 1 || n > 16)) {
            throw new IllegalArgumentException("--workers takes counts in 1..16, got " + workers);
        }
        boolean temp = dir == null;
        Path work = temp ? Files.createTempDirectory("quantmesh-bench-mesh-") : dir;
        try {
            run(work);
        } finally {
            if (temp) BenchCommand.deleteTree(work);
        }
        return 0;
    }

    private void run(Path work) throws Exception {
        String shape = "layered-" + layers + "x" + width;
        Path model = work.resolve("model");
        SyntheticCheckpoint.write(model, SyntheticCheckpoint.preset(shape).config(), DType.BF16, 1,
                Shared.resolve("models/stories260K/tok512.bin"), null);
        System.out.printf("bench-mesh: %s (%d quant tasks), %s, %d GPTQ thread(s) per worker, %d cores, load %s%n",
                shape, 7 * layers, recipe, threads, Runtime.getRuntime().availableProcessors(), BenchGptqCommand.loadAverage());
        Map<Integer, Map<String, String>> checkpoints = new TreeMap<>();
        try (MeshHarness mesh = MeshHarness.start(work)) {
            String modelUri = mesh.importModel(model, shape);
            for (int n : workers) {
                List<WorkerProcess> procs = new ArrayList<>();
                try {
                    for (int i = 0; i < n; i++) {
                        procs.add(WorkerProcess.start(mesh.config().bootstrapServers(), mesh.store().root(),
                                "bench-" + n + "w-" + i, threads, workerHeap, work.resolve("worker-" + n + "w-" + i + ".log")));
                    }
                    awaitMembers(mesh, n);
                    String job = "bench-" + n + "w";
                    JobSpec spec = MeshHarness.spec(job, modelUri, recipe);
                    long t0 = System.currentTimeMillis();
                    mesh.submit(spec);
                    JobTail.Job done = mesh.tail().await(job, Duration.ofMinutes(30));
                    long wall = System.currentTimeMillis() - t0;
                    if (!done.failed().isEmpty()) {
                        throw new IllegalStateException("job " + job + " failed: " + done.failed().getFirst().event().getReason());
                    }
                    report(n, wall, done);
                    checkpoints.put(n, CheckpointQuantizer.filesSha256(mesh.store().resolve(spec.getOutput())));
                } finally {
                    for (WorkerProcess p : procs) p.close();
                }
            }
        }
        boolean same = checkpoints.values().stream().distinct().count() == 1;
        System.out.printf("checkpoints of all runs byte-identical: %s; load %s%n", same ? "yes" : "NO", BenchGptqCommand.loadAverage());
        if (!same) throw new IllegalStateException("the runs wrote different checkpoints: " + checkpoints);
    }

    /** Waits until the worker group has {@code n} members, so JVM start-up is not counted in the job's time. */
    private static void awaitMembers(MeshHarness mesh, int n) throws Exception {
        String group = mesh.config().group(MeshStages.QUANT_WORKER.cliName);
        long end = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", mesh.config().bootstrapServers()))) {
            while (System.nanoTime() < end) {
                try {
                    var d = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                    if (d != null && d.members().size() == n) return;
                } catch (java.util.concurrent.ExecutionException e) {
                    // the group does not exist until its first member joins
                }
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException(n + " quant workers did not join group " + group + " within 2 minutes");
    }

    /**
     * Per worker, consecutive tasks: cycle = next start − this start (the worker is never idle between two of its
     * tasks while its partitions hold work), split into compute (timing.compute_ms), store I/O inside the handler
     * (finished − started − compute: reading W and H, writing the layer with fsync + rename) and Kafka outside it
     * (next start − finished: produce + flush the result, commit the offset, poll the next task).
     */
    private static void report(int n, long wallMs, JobTail.Job job) {
        Map<Integer, QuantResult> first = new LinkedHashMap<>();
        for (var s : job.results()) first.putIfAbsent(s.event().getLayerIndex(), s.event());
        List<QuantResult> results = new ArrayList<>(first.values());
        long compute = results.stream().mapToLong(r -> r.getTiming().getComputeMs()).sum();
        long minStart = results.stream().mapToLong(r -> r.getTiming().getStartedMs()).min().orElseThrow();
        long lastResult = job.results().stream().mapToLong(JobTail.Seen::receivedMs).max().orElseThrow();
        long cycles = 0, cycleCompute = 0, store = 0, kafka = 0, pairs = 0, read = 0, write = 0;
        List<Double> perTask = new ArrayList<>();   // overhead / compute of one task
        Map<String, List<QuantResult>> byWorker = new TreeMap<>();
        for (QuantResult r : results) byWorker.computeIfAbsent(r.getTiming().getWorker(), k -> new ArrayList<>()).add(r);
        for (List<QuantResult> rs : byWorker.values()) {
            rs.sort(Comparator.comparingLong(r -> r.getTiming().getStartedMs()));
            for (int i = 0; i + 1 < rs.size(); i++) {
                var a = rs.get(i).getTiming();
                var b = rs.get(i + 1).getTiming();
                cycles += b.getStartedMs() - a.getStartedMs();
                cycleCompute += a.getComputeMs();
                store += a.getFinishedMs() - a.getStartedMs() - a.getComputeMs();
                read += a.getReadMs();
                write += a.getWriteMs();
                kafka += b.getStartedMs() - a.getFinishedMs();
                pairs++;
                perTask.add((double) (b.getStartedMs() - a.getStartedMs() - a.getComputeMs()) / Math.max(1, a.getComputeMs()));
            }
        }
        System.out.printf("%d worker(s): job wall %.2f s (submit -> checkpoint), quant phase %.2f s (first task start "
                        + "-> last result), %d layers on %s%n", n, wallMs / 1e3, (lastResult - minStart) / 1e3,
                results.size(), byWorker.keySet());
        System.out.printf("  compute per layer: mean %.1f ms (sum %.2f s)%n", (double) compute / results.size(), compute / 1e3);
        System.out.printf("  per-layer overhead over %d back-to-back tasks: %.2f ms = %.2f%% of compute "
                        + "(store I/O in the handler %.2f ms, Kafka between tasks %.2f ms)%n", pairs,
                (double) (cycles - cycleCompute) / pairs, 100.0 * (cycles - cycleCompute) / cycleCompute,
                (double) store / pairs, (double) kafka / pairs);
        // what the mesh adds over a one-process run, which reads W and H too: the durable write and Kafka
        System.out.printf("  of which: reading W, H (a one-process run does this too) %.2f ms; added by the mesh: durable "
                        + "layer write %.2f ms + Kafka %.2f ms + other handler work %.2f ms = %.2f%% of compute%n",
                (double) read / pairs, (double) write / pairs, (double) kafka / pairs,
                (double) (store - read - write) / pairs,
                100.0 * (cycles - cycleCompute - read) / cycleCompute);
        perTask.sort(null);
        // the median leaves out one-off costs (the first task hashes the whole Hessian artifact; JIT warm-up)
        System.out.printf("  median task: overhead %.2f%% of its compute; duplicate results: %d%n",
                100 * perTask.get(perTask.size() / 2), job.results().size() - results.size());
    }
}
