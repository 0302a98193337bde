package io.quantmesh.cli;

import io.quantmesh.calibration.CalibrationSet;
import io.quantmesh.calibration.Cancellation;
import io.quantmesh.calibration.Corpora;
import io.quantmesh.calibration.CorpusSampler;
import io.quantmesh.calibration.GramBenchmark;
import io.quantmesh.calibration.HessianCollector;
import io.quantmesh.calibration.Progress;
import io.quantmesh.core.Shared;
import io.quantmesh.core.importer.Llama2cImporter;
import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.model.Models;
import io.quantmesh.core.ops.KernelPool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Hessian collection speed, as ratios measured in one run: the rank-k update (Vector API vs its plain twin, one
 * thread vs all) at several widths, and a model's forward pass over a calibration set with and without the
 * Hessians.
 */
@Command(name = "bench-hessian", mixinStandardHelpOptions = true,
        description = "H += X^T X GFLOP/s (Vector API vs naive, 1 thread vs all); calibration forward with and "
                + "without Hessian collection.")
final class BenchHessianCommand implements Callable<Integer> {
    @Option(names = "--dims", split = ",", defaultValue = "64,172,1024,2048",
            description = "Hessian widths (default: ${DEFAULT-VALUE})")
    List<Integer> dims;

    @Option(names = "--block", defaultValue = "128", description = "tokens per update (default: ${DEFAULT-VALUE})")
    int block;

    @Option(names = "--seconds", defaultValue = "1.0",
            description = "timed seconds per figure (default: ${DEFAULT-VALUE})")
    double seconds;

    @Option(names = "--model", paramLabel = "DIR",
            description = "model directory for the end-to-end figure (default: stories260K imported to a temp dir)")
    Path model;

    @Option(names = "--samples", defaultValue = "128", description = "end-to-end sequences (default: ${DEFAULT-VALUE})")
    int samples;

    @Option(names = "--rounds", defaultValue = "3", description = "end-to-end rounds (default: ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--seq-len", paramLabel = "L",
            description = "end-to-end tokens per sequence (default: min(2048, context/2))")
    Integer seqLen;

    @Override
    public Integer call() throws Exception {
        if (block < 1 || samples < 1 || rounds < 1 || !(seconds > 0)) {
            throw new IllegalArgumentException("sizes must be positive");
        }
        KernelPool all = KernelPool.shared();
        System.out.printf("machine: %d cores available, kernel pool %d threads, JVM %s%n",
                Runtime.getRuntime().availableProcessors(), all.threads(), System.getProperty("java.vm.version"));
        System.out.printf("%nH += X^T X, k = %d tokens per update: GFLOP/s of the full d x d update (2kd^2 flops)%n",
                block);
        System.out.printf("  %6s %10s %12s %12s %10s %10s%n", "d", "naive", "vector 1t",
                "vector " + all.threads() + "t", "vec/naive", "threads");
        try (KernelPool one = new KernelPool(1)) {
            for (int d : dims) {
                GramBenchmark.Figure f = GramBenchmark.run(d, block, one, all, seconds);
                System.out.printf("  %6d %10.2f %12.2f %12.2f %9.1fx %9.1fx%n", d, f.gflops(f.naive()),
                        f.gflops(f.vectorOne()), f.gflops(f.vectorAll()), f.naive() / f.vectorOne(),
                        f.vectorOne() / f.vectorAll());
            }
        }
        endToEnd();
        return 0;
    }

    private void endToEnd() throws Exception {
        Path dir = model, temp = null;
        if (dir == null) {
            temp = Files.createTempDirectory("quantmesh-bench-hessian-");
            dir = temp.resolve("stories260K");
            Llama2cImporter.importTo(Shared.resolve("models/stories260K/stories260K.bin"),
                    Shared.resolve("models/stories260K/tok512.bin"), dir);
        }
        try (LanguageModel m = Models.open(dir, null)) {
            int len = seqLen != null ? seqLen : CorpusSampler.defaultSeqLen(m.contextLength());
            long t0 = System.nanoTime();
            CalibrationSet set = new CorpusSampler(Corpora.shared().load(List.of()), m.tokenizer())
                    .sample(samples, len, 0);
            double sampling = (System.nanoTime() - t0) / 1e9;
            HessianCollector collector = HessianCollector.withDefaultBudget();
            forward(m, set); // warm-up pass: JIT and page-in for both timings
            // alternate the two, best of --rounds each: other load on the machine hits both alike
            double plain = Double.MAX_VALUE, withH = Double.MAX_VALUE;
            for (int r = 0; r < rounds; r++) {
                t0 = System.nanoTime();
                forward(m, set);
                plain = Math.min(plain, (System.nanoTime() - t0) / 1e9);
                t0 = System.nanoTime();
                collector.collect(m, set, Progress.NONE, Cancellation.NONE);
                withH = Math.min(withH, (System.nanoTime() - t0) / 1e9);
                System.err.printf("\r  round %d/%d", r + 1, rounds);
            }
            System.err.println();
            System.out.printf("%n%s, %d x %d tokens (sampling %.2f s), best of %d rounds:%n", dir.getFileName(),
                    samples, len, sampling, rounds);
            System.out.printf("  forward only      %8.2f s  %9.0f tokens/s%n", plain, set.tokens() / plain);
            System.out.printf("  forward + H       %8.2f s  %9.0f tokens/s  (%.2fx the forward alone)%n", withH,
                    set.tokens() / withH, withH / plain);
        } finally {
            if (temp != null) {
                try (var files = Files.walk(temp)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    private static void forward(LanguageModel m, CalibrationSet set) {
        for (int[] s : set.sequences()) m.forwardAll(m.newState(), s);
    }
}
