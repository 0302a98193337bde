package io.quantmesh.cli;

import io.quantmesh.core.model.InferenceState;
import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.model.Models;
import io.quantmesh.core.model.llama.LlamaModel;
import io.quantmesh.core.ops.KernelPool;
import io.quantmesh.core.ops.Matrix;
import io.quantmesh.core.ops.ReferenceMatmul;
import io.quantmesh.core.ops.VectorMatmul;
import io.quantmesh.core.sampling.GreedySampler;
import io.quantmesh.core.tensor.DType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Speed figures, each a ratio measured side by side in this run: Vector API matvec against its plain-Java twin on
 * one thread and on all; decode tokens/s of a tinyllama-1.1b-shaped checkpoint, the bandwidth it implies, and the
 * time to merely stream the same weights once (the memory roofline of decode).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Matvec GFLOP/s (Vector API vs naive, 1 thread vs all); decode tokens/s against a weight-streaming roofline.")
final class BenchCommand implements Callable<Integer> {
    /** A static final species: the JIT only intrinsifies Vector API calls on a constant species. */
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;

    @Option(names = "--rows", defaultValue = "2048", description = "matvec rows (default: ${DEFAULT-VALUE})")
    int rows;

    @Option(names = "--cols", defaultValue = "2048", description = "matvec columns (default: ${DEFAULT-VALUE})")
    int cols;

    @Option(names = "--dtype", defaultValue = "F32", description = "matvec weight dtype: F32, F16, BF16 (default: ${DEFAULT-VALUE})")
    DType dtype;

    @Option(names = "--seconds", defaultValue = "1.0", description = "timed seconds per figure (default: ${DEFAULT-VALUE})")
    double seconds;

    @Option(names = "--model", paramLabel = "PATH",
            description = "model for the decode figure (default: a synthetic tinyllama-1.1b in a temp dir, deleted after)")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.bin for a raw llama2.c --model")
    Path tokenizer;

    @Option(names = "--synth-dtype", defaultValue = "BF16", description = "dtype of the synthetic model (default: ${DEFAULT-VALUE})")
    DType synthDtype;

    @Option(names = "--tokens", defaultValue = "16", description = "decode steps timed (default: ${DEFAULT-VALUE})")
    int tokens;

    @Option(names = "--prefill", defaultValue = "16",
            description = "tokens in the batched prefill figure, 0 to skip (default: ${DEFAULT-VALUE})")
    int prefill;

    @Option(names = "--no-decode", description = "skip the decode and prefill figures")
    boolean noDecode;

    @Override
    public Integer call() throws Exception {
        if (rows < 1 || cols < 1 || tokens < 1 || !(seconds > 0)) throw new IllegalArgumentException("sizes must be positive");
        KernelPool all = KernelPool.shared();
        System.out.printf("machine: %d cores available, kernel pool %d threads, Vector species %d bits, JVM %s%n",
                Runtime.getRuntime().availableProcessors(), all.threads(),
                FloatVector.SPECIES_PREFERRED.vectorBitSize(), System.getProperty("java.vm.version"));
        try (KernelPool one = new KernelPool(1)) {
            matvec(one, all);
        }
        if (!noDecode) decode(all);
        return 0;
    }

    private void matvec(KernelPool one, KernelPool all) {
        SplittableRandom rnd = new SplittableRandom(1);
        float[] values = new float[Math.multiplyExact(rows, cols)];
        for (int i = 0; i < values.length; i++) values[i] = (float) rnd.nextGaussian();
        Matrix w = Matrix.ofFloats(values, rows, cols, dtype);
        float[] x = new float[cols], out = new float[rows];
        for (int i = 0; i < cols; i++) x[i] = (float) rnd.nextGaussian();
        double flops = 2.0 * rows * cols;
        System.out.printf("%nmatvec %dx%d %s (%.1f MiB of weights): GFLOP/s (weight GB/s)%n", rows, cols, dtype,
                w.byteSize() / 1048576.0);
        System.out.printf("  %-8s %22s %22s%n", "", "1 thread", all.threads() + " threads");
        double[][] t = new double[2][2];
        KernelPool[] pools = {one, all};
        for (int p = 0; p < 2; p++) {
            KernelPool pool = pools[p];
            t[0][p] = time(() -> ReferenceMatmul.matvec(w, x, out, pool));
            t[1][p] = time(() -> VectorMatmul.matmul(w, x, 1, out, pool));
        }
        String[] names = {"naive", "vector"};
        for (int k = 0; k < 2; k++) {
            System.out.printf("  %-8s %22s %22s%n", names[k], rate(flops, w.byteSize(), t[k][0]), rate(flops, w.byteSize(), t[k][1]));
        }
        System.out.printf("  %-8s %21.1fx %21.1fx%n", "speed-up", t[0][0] / t[1][0], t[0][1] / t[1][1]);
        System.out.printf("  %-8s %21.1fx %21.1fx%n", "threads", 1.0, t[1][0] / t[1][1]);
    }

    private static String rate(double flops, long bytes, double secs) {
        return String.format("%8.2f (%6.2f GB/s)", flops / secs / 1e9, bytes / secs / 1e9);
    }

    /** Seconds per call: warm up ~0.3 s, then repeat until the budget is spent. */
    private double time(Runnable r) {
        long warm = System.nanoTime() + 300_000_000L;
        while (System.nanoTime() < warm) r.run();
        long budget = (long) (seconds * 1e9), t0 = System.nanoTime();
        long n = 0;
        do {
            r.run();
            n++;
        } while (System.nanoTime() - t0 < budget);
        return (System.nanoTime() - t0) / 1e9 / n;
    }

    /**
     * The decode roofline measured on the model's own weights: seconds to stream every byte of the matrices a
     * decode step reads, on all threads (same pages, same memory as the decode itself).
     */
    private double streamSeconds(List<Matrix> matrices, KernelPool pool) {
        long chunk = 256 << 10;
        List<MemorySegment> parts = new ArrayList<>();
        for (Matrix m : matrices) {
            for (long off = 0; off < m.byteSize(); off += chunk) {
                parts.add(m.data().asSlice(off, Math.min(chunk, m.byteSize() - off) & ~255L));
            }
        }
        float[] sink = new float[1];
        for (int i = 0; i < 2000; i++) sink[0] += readChunks(parts, i % parts.size(), i % parts.size() + 1); // JIT first
        double secs = time(() -> pool.forRange(parts.size(), 1, (from, to) -> {
            float s = readChunks(parts, from, to);
            synchronized (sink) {
                sink[0] += s;
            }
        }));
        return sink[0] == 42 ? secs + 0 : secs;
    }

    /** Sums parts [from, to): four independent vector accumulators so loads, not adds, are the limit. */
    private static float readChunks(List<MemorySegment> parts, int from, int to) {
        int step = FS.vectorByteSize();
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0;
        for (int c = from; c < to; c++) {
            MemorySegment part = parts.get(c);
            int n = (int) part.byteSize();
            for (int off = 0; off + 4 * step <= n; off += 4 * step) {
                a0 = a0.add(FloatVector.fromMemorySegment(FS, part, off, ByteOrder.LITTLE_ENDIAN));
                a1 = a1.add(FloatVector.fromMemorySegment(FS, part, off + step, ByteOrder.LITTLE_ENDIAN));
                a2 = a2.add(FloatVector.fromMemorySegment(FS, part, off + 2L * step, ByteOrder.LITTLE_ENDIAN));
                a3 = a3.add(FloatVector.fromMemorySegment(FS, part, off + 3L * step, ByteOrder.LITTLE_ENDIAN));
            }
        }
        return a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
    }

    private void decode(KernelPool all) throws Exception {
        Path dir = model;
        Path temp = null;
        if (dir == null) {
            temp = Files.createTempDirectory("quantmesh-bench-");
            dir = temp.resolve("tinyllama-1.1b");
            System.out.println();
            SynthCommand.write("tinyllama-1.1b", synthDtype, 1, dir, null);
        }
        try (LanguageModel m = Models.open(dir, tokenizer)) {
            InferenceState s = m.newState();
            GreedySampler greedy = new GreedySampler();
            int tok = m.tokenizer().bosId();
            int steps = Math.min(tokens + 2, m.contextLength());
            long t0 = 0;
            for (int i = 0; i < steps; i++) {
                if (i == 2) t0 = System.nanoTime(); // two untimed steps: JIT and page-in
                tok = greedy.sample(m.next(s, tok));
                System.err.printf("\r  decode step %d/%d", i + 1, steps);
            }
            System.err.println();
            double secs = (System.nanoTime() - t0) / 1e9;
            int timed = steps - 2;
            double tps = timed / secs;
            System.out.printf("%ndecode %s (%s): %d tokens, %.3f s/token, %.2f tokens/s%n", dir, m.family(), timed,
                    secs / timed, tps);
            if (prefill > 0) {
                // Seeded random ids: a prompt of one repeated token would send every token to the same experts.
                SplittableRandom ids = new SplittableRandom(2);
                int[] prompt = ids.ints(Math.min(prefill, m.contextLength()), 0, m.vocabSize()).toArray();
                LanguageModel lm = m;
                double ps = time(() -> lm.forwardAll(lm.newState(), prompt)); // warmed: the batched kernels JIT too
                System.out.printf("prefill (forwardAll, one batch): %d tokens in %.3f s, %.2f tokens/s = %.1fx decode%n",
                        prompt.length, ps, prompt.length / ps, prompt.length / ps / tps);
            }
            if (m instanceof LlamaModel llama) {
                long perToken = llama.weights().bytesReadPerToken();
                double stream = streamSeconds(llama.weights().decodeMatrices(), all);
                System.out.printf("  weights read per token %.3f GB -> %.1f GB/s effective%n", perToken / 1e9,
                        perToken * tps / 1e9);
                System.out.printf("  roofline: streaming those weights once (Vector loads, %d threads) takes %.3f s"
                        + " = %.1f GB/s; decode runs at %.0f%% of it%n", all.threads(), stream, perToken / stream / 1e9,
                        100 * stream / (secs / timed));
            }
        } finally {
            if (temp != null) deleteTree(temp);
        }
    }

    static void deleteTree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
