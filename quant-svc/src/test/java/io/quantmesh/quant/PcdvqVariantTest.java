package io.quantmesh.quant;

import static org.junit.jupiter.api.Assertions.*;

import io.quantmesh.codebook.Cancellation;
import io.quantmesh.codebook.PolarCodebook;
import io.quantmesh.codebook.PolarKey;
import io.quantmesh.core.codec.PolarCodec;
import io.quantmesh.core.parallel.Parallel;
import io.quantmesh.quant.PcdvqVariant.Options;
import io.quantmesh.quant.PcdvqVariant.RowScale;
import io.quantmesh.quant.PcdvqVariant.Rotation;
import org.junit.jupiter.api.Test;

/** The diagnosis' variants (docs/PCDVQ.md) must differ from the spec only in the choice they change. */
class PcdvqVariantTest {
    private static final PolarCodec CODEC =
            PolarCodebook.build(new PolarKey(8, 10, 2, 0, PolarCodebook.Recipe.LATEST), Parallel.common(), Cancellation.NONE)
                    .codec();
    private static final int ROWS = 60, COLS = 96;     // 60 rows: padded last vector; 96 = 32·3: Hadamard block 32
    private static final double[] H = Synthetic.correlatedHessian(COLS, 5);
    private static final GptqLoop LOOP = new GptqLoop(GptqLoop.Options.defaults().withActOrder(true));

    @Test
    void specOptionsAreExactlyPcdvqQuantizer() {
        float[] w = Synthetic.weights(ROWS, COLS, 3);
        var spec = PcdvqVariant.quantize(w, ROWS, COLS, H, 9, CODEC, Options.spec());
        var ref = new PcdvqQuantizer(CODEC).quantize(w, ROWS, COLS, H, 9, LOOP);
        assertArrayEquals(ref.dequantized(), spec.dequantized());
        assertArrayEquals(ref.codes().codes(), spec.codes().codes());
        assertEquals(1.0, spec.presentedRms(), 0.1);   // GPTQ's feedback keeps the coder's input near N(0, 1)
    }

    @Test
    void rowScaledVariantDecodesFromCodesFactorsAndRotation() {
        float[] w = rowHeterogeneous(4);
        var r = PcdvqVariant.quantize(w, ROWS, COLS, H, 9, CODEC, Options.spec().with(RowScale.ROTATED));
        float[] processing = r.codes().dequantize(new PolarVectorCoder(CODEC));
        float[] rotated = new float[processing.length];
        for (int row = 0; row < ROWS; row++) {
            for (int p = 0; p < COLS; p++) {
                rotated[row * COLS + r.permutation()[p]] = processing[row * COLS + p] * r.rowFactors()[row];
            }
        }
        float[] q = LayerRotation.of(w, ROWS, COLS, 9).restoreWeights(rotated);
        float max = 0;
        for (float v : q) max = Math.max(max, Math.abs(v));
        for (int i = 0; i < q.length; i++) assertEquals(q[i], r.dequantized()[i], 1e-5f * max, "entry " + i);
    }

    @Test
    void aRowScaleBeforeRotationFollowsRowsOfVeryDifferentSizeAndDenseRotationIsValid() {
        float[] w = rowHeterogeneous(6);
        double spec = loss(w, Options.spec());
        double rowScaled = loss(w, Options.spec().with(RowScale.ORIGINAL));
        assertTrue(rowScaled < 0.8 * spec, "row scale " + rowScaled + " vs one layer scale " + spec);
        // the dense rotation is orthogonal: without feedback its Q is a fair 2-bit code, far from 0
        float[] q = PcdvqVariant.quantize(w, ROWS, COLS, H, 9, CODEC,
                Options.spec().with(Rotation.DENSE_ORTHOGONAL).withGptq(false)).dequantized();
        double err = 0, norm = 0;
        for (int i = 0; i < w.length; i++) {
            err += (w[i] - q[i]) * (w[i] - q[i]);
            norm += w[i] * w[i];
        }
        assertTrue(err < 0.3 * norm, "relative error " + err / norm);
    }

    @Test
    void denseRotationIsOrthogonal() {
        int n = 43;
        double[] a = PcdvqVariant.orthogonal(n, 1);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double d = 0;
                for (int t = 0; t < n; t++) d += a[i * n + t] * a[j * n + t];
                assertEquals(i == j ? 1 : 0, d, 1e-12);
            }
        }
    }

    private static double loss(float[] w, Options o) {
        return ProxyLoss.of(w, PcdvqVariant.quantize(w, ROWS, COLS, H, 9, CODEC, o).dequantized(), ROWS, COLS, H,
                Parallel.common());
    }

    /** Gaussian rows scaled by 2^(r mod 5): one RMS per layer fits none of them. */
    private static float[] rowHeterogeneous(long seed) {
        float[] w = Synthetic.weights(ROWS, COLS, seed);
        for (int r = 0; r < ROWS; r++) {
            for (int j = 0; j < COLS; j++) w[r * COLS + j] *= 1 << (r % 5);
        }
        return w;
    }
}
