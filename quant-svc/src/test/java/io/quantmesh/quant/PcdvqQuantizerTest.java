package io.quantmesh.quant;

import io.quantmesh.core.recipe.Recipe;

import static org.junit.jupiter.api.Assertions.*;

import io.quantmesh.codebook.Cancellation;
import io.quantmesh.codebook.PolarCodebook;
import io.quantmesh.codebook.PolarKey;
import io.quantmesh.core.codec.PolarCodec;
import io.quantmesh.core.parallel.Parallel;
import org.junit.jupiter.api.Test;

class PcdvqQuantizerTest {
    /** A real DACC codebook (E8 directions, χ_8 Lloyd-Max magnitudes), small: 2^10 directions × 2^2 magnitudes. */
    private static final PolarCodec CODEC =
            PolarCodebook.build(new PolarKey(8, 10, 2, 0, PolarCodebook.Recipe.LATEST), Parallel.common(), Cancellation.NONE)
                    .codec();
    private static final int ROWS = 124, COLS = 256;   // 124 rows: the last 8-vector of each column is padded
    private static final float[] W = Synthetic.weights(ROWS, COLS, 61);
    private static final double[] H = Synthetic.correlatedHessian(COLS, 62);
    private static final GptqLoop LDL = new GptqLoop(GptqLoop.Options.defaults().withActOrder(true)
            .withFeedback(PreparedHessian.Feedback.LDL));

    @Test
    void codesRebuildQAndTheLossIsTheOriginalSpaceLoss() {
        var pcdvq = new PcdvqQuantizer(CODEC);
        assertEquals(1.5, pcdvq.indexBitsPerWeight());
        var r = pcdvq.quantize(W, ROWS, COLS, H, 63, LDL);
        assertArrayEquals(r.dequantized(), pcdvq.dequantize(r));
        assertEquals(ROWS, r.codes().rows());
        assertEquals((ROWS + 7) / 8, r.codes().vectorsPerColumn());
        double direct = ProxyLoss.of(W, r.dequantized(), ROWS, COLS, H, Parallel.common());
        assertEquals(direct, r.proxyLoss(), 1e-4 * direct);
    }

    @Test
    void errorFeedbackBeatsNearestCodewordInTheRotatedSpace() {
        var pcdvq = new PcdvqQuantizer(CODEC);
        var gptq = pcdvq.quantize(W, ROWS, COLS, H, 64, LDL);
        LayerRotation rot = LayerRotation.of(W, ROWS, COLS, 64);
        var nearest = LDL.roundToNearest(rot.rotateWeights(W), ROWS, COLS, rot.rotateHessian(H),
                new VectorColumnQuantizer(new PolarVectorCoder(CODEC)));
        double rtn = (double) rot.scale() * rot.scale() * nearest.proxyLoss();
        System.out.printf("PCDVQ a=10 b=2 (1.5 bpw): proxy loss nearest codeword %.4g, GPTQ act-order %.4g (×%.3f)%n",
                rtn, gptq.proxyLoss(), gptq.proxyLoss() / rtn);
        assertTrue(gptq.proxyLoss() < 0.5 * rtn);
    }

    @Test
    void bothFeedbackFormsAgreeAndThreadCountsDoNotMatter() {
        var pcdvq = new PcdvqQuantizer(CODEC);
        var ldl = pcdvq.quantize(W, ROWS, COLS, H, 65, new GptqLoop(GptqLoop.Options.defaults().withThreads(1)
                .withFeedback(PreparedHessian.Feedback.LDL)));
        var ldl3 = pcdvq.quantize(W, ROWS, COLS, H, 65, new GptqLoop(GptqLoop.Options.defaults().withThreads(3)
                .withFeedback(PreparedHessian.Feedback.LDL)));
        assertArrayEquals(ldl.dequantized(), ldl3.dequantized());
        assertArrayEquals(ldl.codes().codes(), ldl3.codes().codes());
        var inverse = pcdvq.quantize(W, ROWS, COLS, H, 65, new GptqLoop(GptqLoop.Options.defaults()));
        int differ = 0;
        for (int i = 0; i < ldl.codes().codes().length; i++) if (ldl.codes().codes()[i] != inverse.codes().codes()[i]) differ++;
        assertTrue(differ < 0.002 * ldl.codes().codes().length, differ + " of " + ldl.codes().codes().length + " codes differ");
        assertEquals(inverse.proxyLoss(), ldl.proxyLoss(), 1e-3 * inverse.proxyLoss());
    }
}
