package io.quantmesh.quant;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class VectorColumnQuantizerTest {
    /** Nearest codeword (Euclidean) in a seeded Gaussian codebook: enough to drive the loop's vector path. */
    record NearestCodeword(int dimension, float[] book) implements VectorCoder {
        static NearestCodeword random(int v, int k, double sigma, long seed) {
            SplittableRandom rng = new SplittableRandom(seed);
            float[] b = new float[v * k];
            for (int i = 0; i < b.length; i++) b[i] = (float) (sigma * rng.nextGaussian());
            return new NearestCodeword(v, b);
        }

        @Override
        public int encode(float[] x, int off) {
            int best = 0;
            double bestD = Double.MAX_VALUE;
            for (int c = 0; c < book.length / dimension; c++) {
                double d = 0;
                for (int i = 0; i < dimension; i++) {
                    double t = x[off + i] - book[c * dimension + i];
                    d += t * t;
                }
                if (d < bestD) {
                    bestD = d;
                    best = c;
                }
            }
            return best;
        }

        @Override
        public void decode(int code, float[] out, int off) {
            System.arraycopy(book, code * dimension, out, off, dimension);
        }
    }

    private static final int ROWS = 250, COLS = 256; // 250 rows: not a multiple of v, the last vector is padded
    private static final float[] W = Synthetic.weights(ROWS, COLS, 11);
    private static final double[] H = Synthetic.correlatedHessian(COLS, 12);

    @Test
    void vectorPathMatchesTheTextbookAndItsCodes() {
        for (int v : new int[] {4, 3}) {
            var coder = NearestCodeword.random(v, 64, 0.02, 13);
            var quantizer = new VectorColumnQuantizer(coder);
            for (boolean actOrder : new boolean[] {false, true}) {
                // fixed codebook, no group fits: the LDL feedback form applies and must agree too
                var feedback = actOrder ? PreparedHessian.Feedback.LDL : PreparedHessian.Feedback.INVERSE_CHOLESKY;
                var result = new GptqLoop(GptqLoop.Options.defaults().withActOrder(actOrder).withThreads(2)
                        .withFeedback(feedback)).quantize(W, ROWS, COLS, H, quantizer);
                float[] reference = NaiveGptq.quantize(W, ROWS, COLS, H, quantizer, 0.01, actOrder);
                int bad = 0;
                for (int i = 0; i < reference.length; i++) if (Math.abs(reference[i] - result.dequantized()[i]) > 1e-6f) bad++;
                assertTrue(bad < 0.002 * reference.length, "v=" + v + " actOrder=" + actOrder + ": " + bad + " differ");

                VectorCodes codes = result.codes();
                assertEquals((ROWS + v - 1) / v, codes.vectorsPerColumn());
                float[] processing = codes.dequantize(coder);
                for (int r = 0; r < ROWS; r++) {
                    for (int p = 0; p < COLS; p++) {
                        assertEquals(processing[r * COLS + p], result.dequantized()[r * COLS + result.permutation()[p]]);
                    }
                }
            }
        }
    }

    @Test
    void errorFeedbackHelpsVectorQuantizersToo() {
        var quantizer = new VectorColumnQuantizer(NearestCodeword.random(4, 256, 0.02, 14));
        var loop = new GptqLoop(GptqLoop.Options.defaults());
        double rtn = loop.roundToNearest(W, ROWS, COLS, H, quantizer).proxyLoss();
        double gptq = loop.quantize(W, ROWS, COLS, H, quantizer).proxyLoss();
        assertTrue(gptq < 0.5 * rtn, "VQ: GPTQ " + gptq + " vs nearest-codeword " + rtn);
    }

    @Test
    void bitIdenticalForEveryThreadCount() {
        var quantizer = new VectorColumnQuantizer(NearestCodeword.random(3, 64, 0.02, 15));
        var options = GptqLoop.Options.defaults().withBlockSize(32);
        var one = new GptqLoop(options.withThreads(1)).quantize(W, ROWS, COLS, H, quantizer);
        var three = new GptqLoop(options.withThreads(3)).quantize(W, ROWS, COLS, H, quantizer);
        assertArrayEquals(one.dequantized(), three.dequantized());
        assertArrayEquals(one.codes().codes(), three.codes().codes());
    }
}
