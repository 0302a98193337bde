package io.quantmesh.cli;

import io.quantmesh.core.linalg.DoubleMatrix;
import io.quantmesh.core.linalg.FloatMatrix;
import io.quantmesh.core.linalg.Hadamard;
import io.quantmesh.core.linalg.MatMul;
import io.quantmesh.quant.SyntheticLayer;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * Vector API kernels of {@code io.quantmesh.core.linalg} against their plain-Java twins, side by side in one run,
 * single-threaded, timed in thread CPU time (robust on a shared machine). Part of {@code bench-gptq --kernels}.
 */
final class KernelBench {
    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

    private KernelBench() {}

    static void run(long seed) {
        int m = 256, n = 512, k = 128;       // the GPTQ propagation shape: C (later cols × band) -= Uᵀ·E
        float[] a = SyntheticLayer.weights(k, m, seed), b = SyntheticLayer.weights(k, n, seed + 1);
        float[] c = new float[m * n];
        double[] ad = toDouble(a), bd = toDouble(b), cd = new double[m * n];
        double flops = 2.0 * m * n * k;
        double fv = rate(flops, () -> MatMul.subtractAtB(FloatMatrix.of(c, m, n), FloatMatrix.of(a, k, m), FloatMatrix.of(b, k, n)));
        double fn = rate(flops, () -> MatMul.subtractAtBNaive(FloatMatrix.of(c, m, n), FloatMatrix.of(a, k, m), FloatMatrix.of(b, k, n)));
        double dv = rate(flops, () -> MatMul.subtractAtB(DoubleMatrix.of(cd, m, n), DoubleMatrix.of(ad, k, m), DoubleMatrix.of(bd, k, n)));
        double dn = rate(flops, () -> MatMul.subtractAtBNaive(DoubleMatrix.of(cd, m, n), DoubleMatrix.of(ad, k, m), DoubleMatrix.of(bd, k, n)));
        System.out.printf("kernels (1 thread, GFLOP/s of thread CPU time), C(%dx%d) -= Aᵀ·B with k=%d:%n", m, n, k);
        System.out.printf("  float  Vector API %.1f | naive %.1f | ratio %.1fx%n", fv, fn, fv / fn);
        System.out.printf("  double Vector API %.1f | naive %.1f | ratio %.1fx%n", dv, dn, dv / dn);
        int len = 5632, rows = 64;       // 11 blocks of 512
        float[] x = SyntheticLayer.weights(rows, len, seed + 2);
        double hflops = 2.0 * rows * len * Math.log(512) / Math.log(2); // adds+subs: n·log2(p), + scaling
        double hv = rate(hflops, () -> { for (int r = 0; r < rows; r++) Hadamard.transform(x, r * len, len); });
        double hn = rate(hflops, () -> { for (int r = 0; r < rows; r++) Hadamard.transformNaive(x, r * len, len); });
        System.out.printf("  Walsh-Hadamard (n=%d, blocks of 512) Vector API %.2f | naive %.2f GFLOP/s | ratio %.1fx%n%n",
                len, hv, hn, hv / hn);
    }

    /**
     * Best of 5 timed batches of ≥ 100 ms, after ≥ 1.5 s of warm-up: on a loaded machine the JIT compiler threads
     * get little CPU, and a short warm-up can end before the kernel is compiled.
     */
    private static double rate(double flopsPerCall, Runnable call) {
        long warm = MX.getCurrentThreadCpuTime();
        while (MX.getCurrentThreadCpuTime() - warm < 1_500_000_000L) call.run();
        double best = 0;
        for (int batch = 0; batch < 5; batch++) {
            long t0 = MX.getCurrentThreadCpuTime();
            int calls = 0;
            do {
                call.run();
                calls++;
            } while (MX.getCurrentThreadCpuTime() - t0 < 100_000_000L);
            best = Math.max(best, calls * flopsPerCall / (MX.getCurrentThreadCpuTime() - t0));
        }
        return best;
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }
}
