package io.quantmesh.cli;

import io.quantmesh.core.recipe.Recipe;
import io.quantmesh.core.recipe.RangeFit;

import io.quantmesh.core.parallel.Parallel;
import io.quantmesh.quant.GptqLoop;
import io.quantmesh.codebook.Cancellation;
import io.quantmesh.codebook.PolarCodebook;
import io.quantmesh.codebook.PolarKey;
import io.quantmesh.quant.GptqResult;
import io.quantmesh.quant.PcdvqQuantizer;
import io.quantmesh.quant.PreparedHessian;
import io.quantmesh.quant.ScalarGroupQuantizer;
import io.quantmesh.quant.SyntheticLayer;
import java.util.List;
import java.util.concurrent.Callable;
import jdk.incubator.vector.FloatVector;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Throughput of the GPTQ loop on synthetic layers ({@link SyntheticLayer}): W (out × in) Gaussian, H a random SPD
 * matrix (2/s·XᵀX of s = 512 correlated samples, plus 10% on the diagonal), GPTQ with a scalar codec (INT-b by
 * default) per group of g, all cores.
 * Speed only — the data are random, never use this for quality.
 */
@Command(name = "bench-gptq", mixinStandardHelpOptions = true,
        description = "Benchmark the GPTQ loop (scalar codec per group of g) on synthetic out×in layers; prints weights/s "
                + "and where the time goes.")
final class BenchGptqCommand implements Callable<Integer> {
    @Option(names = "--shape", split = ",", paramLabel = "OUTxIN",
            description = "weight shapes, out×in (rows × columns; H is in×in). Default: ${DEFAULT-VALUE}",
            defaultValue = "5632x2048,2048x5632")
    List<String> shapes;

    @Option(names = "--codec", defaultValue = "INT2",
            description = "scalar codec: INT2..INT8, FP4, FP3, NF4, NF3. Default: ${DEFAULT-VALUE}")
    String codec;

    @Option(names = "--range", defaultValue = "MIN_MAX",
            description = "group range: MIN_MAX, CLIP_SEARCH or WEIGHTED_CLIP_SEARCH (BitDistiller). "
                    + "Default: ${DEFAULT-VALUE}")
    RangeFit range;

    @Option(names = "--group", defaultValue = "128", description = "group size, -1 per channel. Default: ${DEFAULT-VALUE}")
    int group;

    @Option(names = "--block", defaultValue = "128", description = "GPTQ block size B. Default: ${DEFAULT-VALUE}")
    int block;

    @Option(names = "--act-order", description = "process columns by descending diag H")
    boolean actOrder;

    @Option(names = "--feedback", defaultValue = "INVERSE_CHOLESKY",
            description = "INVERSE_CHOLESKY (U = chol(H⁻¹), DESIGN §3) or LDL (same Q, half the Hessian work; "
                    + "needs --group -1). Default: ${DEFAULT-VALUE}")
    PreparedHessian.Feedback feedback;

    @Option(names = "--threads", defaultValue = "0", description = "threads, 0 = all cores. Default: ${DEFAULT-VALUE}")
    int threads;

    @Option(names = "--reps", defaultValue = "2", description = "timed runs per shape (after one warm-up). Default: ${DEFAULT-VALUE}")
    int reps;

    @Option(names = "--seed", defaultValue = "1", description = "RNG seed. Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--pcdvq", paramLabel = "A", defaultValue = "0",
            description = "benchmark PCDVQ instead: k=8 vectors, 2^A DACC directions (built first, untimed), "
                    + "2^b magnitudes (--pcdvq-b); 0 = off. Default: ${DEFAULT-VALUE}")
    int pcdvqA;

    @Option(names = "--pcdvq-b", defaultValue = "2", description = "PCDVQ magnitude bits b. Default: ${DEFAULT-VALUE}")
    int pcdvqB;

    @Option(names = "--kernels", description = "first time the linalg kernels against their plain-Java twins "
            + "(one thread, thread CPU time)")
    boolean kernels;

    @Override
    public Integer call() {
        if (reps < 1) throw new IllegalArgumentException("--reps must be >= 1");
        var options = GptqLoop.Options.defaults().withBlockSize(block).withActOrder(actOrder).withThreads(threads)
                .withFeedback(feedback);
        var quantizer = ScalarGroupQuantizer.of(codec, group, range);
        int cores = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        PcdvqQuantizer pcdvq = pcdvqA == 0 ? null : buildPcdvq();
        String method = pcdvq == null ? "GPTQ-" + quantizer.codec().name() + " g" + group + " (" + range + ")"
                : "PCDVQ k=8 a=" + pcdvqA + " b=" + pcdvqB + " (" + pcdvq.indexBitsPerWeight() + " index bits/weight)";
        System.out.printf("bench-gptq: %s, B=%d, act-order %s, %s feedback, %d thread(s), float vector %d lanes%n",
                method, block, actOrder ? "on" : "off", feedback, cores, FloatVector.SPECIES_PREFERRED.length());

        if (kernels) KernelBench.run(seed);
        GptqLoop loop = new GptqLoop(options);
        float[] ww = weights(512, 512, 99);
        double[] wh = hessian(512, 98, Parallel.ofThreads(1));
        for (int i = 0; i < 2; i++) {   // small runs, so that the timed ones measure compiled code
            if (pcdvq == null) loop.quantize(ww, 512, 512, wh, quantizer); else pcdvq.quantize(ww, 512, 512, wh, i, loop);
        }
        for (String shape : shapes) {
            int[] dims = parseShape(shape);
            int out = dims[0], in = dims[1];
            float[] w = weights(out, in, seed);
            double[] h = hessian(in, seed + 1, Parallel.common());
            System.out.printf("%nW %d out × %d in (%,d weights), H %d×%d%n", out, in, (long) out * in, in, in);
            for (int rep = 1; rep <= reps; rep++) {
                long cpu0 = processCpuNanos();
                if (pcdvq == null) {
                    var r = loop.quantize(w, out, in, h, quantizer);
                    report(rep, out, in, r.timings(), 0, r.proxyLoss(), processCpuNanos() - cpu0);
                } else {
                    var r = pcdvq.quantize(w, out, in, h, seed + rep, loop);
                    report(rep, out, in, r.loopTimings(), r.rotateNanos(), r.proxyLoss(), processCpuNanos() - cpu0);
                }
            }
        }
        return 0;
    }

    private PcdvqQuantizer buildPcdvq() {
        long t0 = System.nanoTime();
        var key = new PolarKey(8, pcdvqA, pcdvqB, 0, PolarCodebook.Recipe.LATEST);
        var codebook = PolarCodebook.build(key, Parallel.common(), Cancellation.NONE);
        System.out.printf("polar codebook %s built in %.2f s (not counted below)%n", key.id(), (System.nanoTime() - t0) / 1e9);
        return new PcdvqQuantizer(codebook.codec());
    }

    /** {@code extra}: time outside the loop's own timings (PCDVQ's rotations), counted in the totals. */
    private static void report(int rep, int rows, int cols, GptqResult.Timings t, long extra, double proxyLoss,
            long processCpu) {
        double weights = (double) rows * cols;
        double total = (t.total() + extra) / 1e9, noLoss = (t.total() + extra - t.loss()) / 1e9, loop = t.loop() / 1e9;
        double cpu = t.columnLoopCpu() + t.propagationCpu();
        System.out.printf("  run %d: %.2f s total → %,.0f weights/s with the proxy loss, %,.0f without; "
                        + "loop alone %,.0f weights/s%n", rep, total, weights / total, weights / noLoss, weights / loop);
        System.out.printf("         process CPU %.2f s → %,.0f weights per CPU-second (load average now %s)%n",
                processCpu / 1e9, weights / (processCpu / 1e9), loadAverage());
        System.out.printf("         %sH factor (+checks, damping) %.3f s | W prep %.3f s | loop %.3f s wall "
                        + "[column steps %.0f%%, block propagation %.0f%% of thread time] | proxy loss %.3f s (= %.4g)%n",
                extra > 0 ? String.format("rotations %.3f s | ", extra / 1e9) : "", t.hessian() / 1e9, t.prepare() / 1e9,
                loop, 100 * t.columnLoopCpu() / cpu, 100 * t.propagationCpu() / cpu, t.loss() / 1e9, proxyLoss);
    }

    /** CPU time of the whole JVM (all threads, GC included): robust where wall time is not, on a shared machine. */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** The 1-minute load average, or "n/a": other work on the machine makes wall-clock figures meaningless. */
    static String loadAverage() {
        double l = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        return l < 0 ? "n/a" : String.format("%.1f", l);
    }

    static int[] parseShape(String s) {
        String[] p = s.toLowerCase(java.util.Locale.ROOT).split("x");
        try {
            if (p.length == 2) {
                int out = Integer.parseInt(p[0].trim()), in = Integer.parseInt(p[1].trim());
                if (out > 0 && in > 0 && (long) out * in <= Integer.MAX_VALUE / 2 && in <= 16384) return new int[] {out, in};
            }
        } catch (NumberFormatException e) {
            // fall through to the one-line reason below
        }
        throw new IllegalArgumentException("bad --shape '" + s + "': expected OUTxIN with positive sizes, in <= 16384");
    }

    static float[] weights(int out, int in, long seed) {
        return SyntheticLayer.weights(out, in, seed);
    }

    /** 2/s·XᵀX over s = 512 samples sharing 16 common factors, plus a noise diagonal so that H is definite. */
    static double[] hessian(int n, long seed, Parallel par) {
        double[] h = SyntheticLayer.correlatedHessian(n, 512, 16, 0.5, seed, par);
        for (int j = 0; j < n; j++) h[j * n + j] += 0.1 * h[j * n + j] + 1e-3;
        return h;
    }
}
