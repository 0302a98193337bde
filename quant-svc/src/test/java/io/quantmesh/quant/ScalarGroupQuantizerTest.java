package io.quantmesh.quant;

import io.quantmesh.core.recipe.RangeFit;

import static org.junit.jupiter.api.Assertions.*;

import io.quantmesh.core.parallel.Parallel;
import org.junit.jupiter.api.Test;

class ScalarGroupQuantizerTest {
    private static final int ROWS = 128, COLS = 256;
    private static final float[] W = Synthetic.weights(ROWS, COLS, 51);
    private static final double[] H = Synthetic.correlatedHessian(COLS, 52);
    private static final GptqLoop LOOP = new GptqLoop(GptqLoop.Options.defaults());

    private static double mse(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) (a[i] - b[i]) * (a[i] - b[i]);
        return s / a.length;
    }

    @Test
    void everyCodecGainsFromErrorFeedbackAndItsCodesReproduceQ() {
        for (String codec : new String[] {"INT3", "FP4", "FP3", "NF4", "NF3"}) {
            var quantizer = ScalarGroupQuantizer.of(codec, 64, RangeFit.MIN_MAX);
            var rtn = LOOP.roundToNearest(W, ROWS, COLS, H, quantizer);
            var gptq = new GptqLoop(GptqLoop.Options.defaults().withActOrder(true)).quantize(W, ROWS, COLS, H, quantizer);
            System.out.printf("%s g64: proxy loss RTN %.4g, GPTQ act-order %.4g (×%.3f)%n", codec, rtn.proxyLoss(),
                    gptq.proxyLoss(), gptq.proxyLoss() / rtn.proxyLoss());
            assertTrue(gptq.proxyLoss() < 0.5 * rtn.proxyLoss(), codec);
            float[] processing = gptq.codes().dequantize();
            for (int r = 0; r < ROWS; r++) {
                for (int p = 0; p < COLS; p++) {
                    assertEquals(processing[r * COLS + p], gptq.dequantized()[r * COLS + gptq.permutation()[p]], codec);
                }
            }
        }
    }

    @Test
    void twoScaleParametersAreTheGroupsPositiveAndNegativeExtremes() {
        // AFPQ: s+ = max(x), s- = |min(x)| per group (RTN fits on W itself, so the extremes are W's)
        var result = LOOP.roundToNearest(W, ROWS, COLS, null, ScalarGroupQuantizer.of("FP4", 32, RangeFit.MIN_MAX));
        for (int r = 0; r < ROWS; r++) {
            for (int g = 0; g < COLS / 32; g++) {
                float max = 0, min = 0;
                for (int j = g * 32; j < g * 32 + 32; j++) {
                    max = Math.max(max, W[r * COLS + j]);
                    min = Math.min(min, W[r * COLS + j]);
                }
                assertArrayEquals(new float[] {max, -min}, result.codes().fitted(g, r).parameters());
            }
        }
    }

    @Test
    void clipSearchNeverLosesToMinMaxOnWhatItMinimises() {
        for (String codec : new String[] {"INT2", "FP4"}) {
            var minMax = ScalarGroupQuantizer.of(codec, 64, RangeFit.MIN_MAX);
            var clip = ScalarGroupQuantizer.of(codec, 64, RangeFit.CLIP_SEARCH);
            var weighted = ScalarGroupQuantizer.of(codec, 64, RangeFit.WEIGHTED_CLIP_SEARCH);
            // unweighted: weight MSE, group by group (min/max is one of the candidates)
            double mseMinMax = mse(W, LOOP.roundToNearest(W, ROWS, COLS, null, minMax).dequantized());
            double mseClip = mse(W, LOOP.roundToNearest(W, ROWS, COLS, null, clip).dequantized());
            assertTrue(mseClip < mseMinMax, codec + ": clip " + mseClip + " vs min/max " + mseMinMax);
            // weighted by H_jj with a diagonal H: exactly the proxy loss, so it beats both others on it
            double[] diag = Synthetic.diagonalHessian(COLS, 53);
            double lossMinMax = LOOP.roundToNearest(W, ROWS, COLS, diag, minMax).proxyLoss();
            double lossClip = LOOP.roundToNearest(W, ROWS, COLS, diag, clip).proxyLoss();
            double lossWeighted = LOOP.roundToNearest(W, ROWS, COLS, diag, weighted).proxyLoss();
            System.out.printf("%s g64 RTN, diagonal H: proxy loss min/max %.4g, clip %.4g, H-weighted clip %.4g%n",
                    codec, lossMinMax, lossClip, lossWeighted);
            assertTrue(lossWeighted <= lossMinMax && lossWeighted <= lossClip, codec);
        }
    }

    @Test
    void gptqWithClipSearchBeatsRoundToNearestWithClipSearch() {
        var clip = ScalarGroupQuantizer.of("INT2", 64, RangeFit.WEIGHTED_CLIP_SEARCH);
        double rtn = LOOP.roundToNearest(W, ROWS, COLS, H, clip).proxyLoss();
        double gptq = LOOP.quantize(W, ROWS, COLS, H, clip).proxyLoss();
        double gptqMinMax = LOOP.quantize(W, ROWS, COLS, H, ScalarGroupQuantizer.minMaxInt(2, 64)).proxyLoss();
        System.out.printf("INT2 g64: RTN+clip %.4g, GPTQ+clip %.4g, GPTQ min/max %.4g%n", rtn, gptq, gptqMinMax);
        assertTrue(gptq < 0.5 * rtn);
    }

    @Test
    void bitIdenticalForEveryThreadCount() {
        var quantizer = ScalarGroupQuantizer.of("NF3", 64, RangeFit.WEIGHTED_CLIP_SEARCH);
        var options = GptqLoop.Options.defaults().withActOrder(true);
        var one = new GptqLoop(options.withThreads(1)).quantize(W, ROWS, COLS, H, quantizer);
        var three = new GptqLoop(options.withThreads(3)).quantize(W, ROWS, COLS, H, quantizer);
        assertArrayEquals(one.dequantized(), three.dequantized());
        assertArrayEquals(one.codes().codes(), three.codes().codes());
        assertEquals(one.proxyLoss(), three.proxyLoss());
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> ScalarGroupQuantizer.of("INT9", 64, RangeFit.MIN_MAX));
        assertThrows(IllegalArgumentException.class, () -> ScalarGroupQuantizer.of("FP5", 64, RangeFit.MIN_MAX));
        assertThrows(IllegalArgumentException.class, () -> ScalarGroupQuantizer.minMaxInt(3, 0));
        assertNotNull(Parallel.common());
    }
}
