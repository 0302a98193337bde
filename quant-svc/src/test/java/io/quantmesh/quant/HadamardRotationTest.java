package io.quantmesh.quant;

import static org.junit.jupiter.api.Assertions.*;

import io.quantmesh.core.parallel.Parallel;
import org.junit.jupiter.api.Test;

class HadamardRotationTest {
    private static final int ROWS = 128, COLS = 192; // 192 = 3 blocks of 64 on the input side

    @Test
    void gptqInTheRotatedSpaceCostsExactlyItsRotatedLossInTheOriginalSpace() {
        float[] w = Synthetic.weights(ROWS, COLS, 41);
        w[5 * COLS + 7] = 1.5f;                      // an outlier the rotation spreads out
        double[] h = Synthetic.correlatedHessian(COLS, 42);
        HadamardRotation rot = HadamardRotation.of(w, ROWS, COLS, 43);
        float[] wr = rot.rotateWeights(w);
        double[] hr = rot.rotateHessian(h);

        double ss = 0;
        for (float v : wr) ss += v * v;
        assertEquals(1.0, ss / wr.length, 1e-4, "rotated W has unit RMS");

        var loop = new GptqLoop(GptqLoop.Options.defaults().withFeedback(PreparedHessian.Feedback.LDL));
        var rotated = loop.quantize(wr, ROWS, COLS, hr, ScalarGroupQuantizer.minMaxInt(3, -1));
        float[] q = rot.restoreWeights(rotated.dequantized());
        double original = ProxyLoss.of(w, q, ROWS, COLS, h, Parallel.common());
        double s2 = (double) rot.scale() * rot.scale();
        assertEquals(original, s2 * rotated.proxyLoss(), 1e-4 * original);

        // and the rotation helps per-channel INT3 on an outlier-heavy layer
        double plain = loop.quantize(w, ROWS, COLS, h, ScalarGroupQuantizer.minMaxInt(3, -1)).proxyLoss();
        assertTrue(original < plain, "rotated " + original + " vs plain " + plain);
    }

    @Test
    void restoreUndoesRotateAndSeedsAreStable() {
        float[] w = Synthetic.weights(ROWS, COLS, 44);
        HadamardRotation rot = HadamardRotation.of(w, ROWS, COLS, 45);
        float[] back = rot.restoreWeights(rot.rotateWeights(w));
        for (int i = 0; i < w.length; i++) assertEquals(w[i], back[i], 1e-6f);
        assertArrayEquals(rot.in().signs(), HadamardRotation.of(w, ROWS, COLS, 45).in().signs());
        assertThrows(IllegalArgumentException.class, () -> HadamardRotation.of(new float[ROWS * COLS], ROWS, COLS, 1));
    }
}
