package io.quantmesh.quant;

import io.quantmesh.core.linalg.DoubleMatrix;
import io.quantmesh.core.linalg.MatMul;
import io.quantmesh.core.parallel.Parallel;
import java.util.SplittableRandom;

/**
 * Seeded synthetic layers for tests and speed benchmarks (never for quality claims): Gaussian weights and
 * a Hessian {@code H = 2/s·XᵀX} of s input samples whose features share a few common factors (so they are
 * strongly correlated, which is what GPTQ's error feedback exploits) with per-feature scales spread
 * log-normally (a few loud channels, as in LLM activations).
 */
public final class SyntheticLayer {
    private SyntheticLayer() {}

    /** rows×cols weights, N(0, 0.02²). */
    public static float[] weights(int rows, int cols, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] w = new float[Math.multiplyExact(rows, cols)];
        for (int i = 0; i < w.length; i++) w[i] = (float) (0.02 * rng.nextGaussian());
        return w;
    }

    /**
     * @param samples      s, rows of X (s < cols gives a singular H that only damping makes definite)
     * @param factors      common factors z: x_j = scale_j·(Σ_i G_ji·z_i + 0.3·ε_j)
     * @param scaleSigma   σ of log(scale_j)
     * @param deadColumns  inputs that are always 0 (their row and column of H are 0)
     */
    public static double[] correlatedHessian(int cols, int samples, int factors, double scaleSigma, long seed,
            Parallel par, int... deadColumns) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[] g = new double[cols * factors], scale = new double[cols], z = new double[factors];
        for (int i = 0; i < g.length; i++) g[i] = rng.nextGaussian();
        for (int j = 0; j < cols; j++) scale[j] = Math.exp(scaleSigma * rng.nextGaussian());
        for (int d : deadColumns) scale[d] = 0;
        double[] x = new double[Math.multiplyExact(samples, cols)];
        for (int s = 0; s < samples; s++) {
            for (int i = 0; i < factors; i++) z[i] = rng.nextGaussian();
            for (int j = 0; j < cols; j++) {
                double v = 0.3 * rng.nextGaussian();
                for (int i = 0; i < factors; i++) v += g[j * factors + i] * z[i];
                x[s * cols + j] = scale[j] * v;
            }
        }
        double[] h = new double[cols * cols];
        DoubleMatrix hm = DoubleMatrix.of(h, cols, cols), xm = DoubleMatrix.of(x, samples, cols);
        par.forChunks(cols, 256, (t, r0, r1) -> {   // H = -(-XᵀX), then scaled: one product per row tile
            MatMul.subtractAtB(hm.window(r0, 0, r1 - r0, cols), xm.window(0, r0, samples, r1 - r0), xm);
        });
        for (int i = 0; i < h.length; i++) h[i] *= -2.0 / samples;
        return h;
    }
}
