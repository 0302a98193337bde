package io.quantmesh.quant;

import static org.junit.jupiter.api.Assertions.*;

import io.quantmesh.core.quantized.VectorTensor;
import io.quantmesh.core.recipe.Recipe;
import org.junit.jupiter.api.Test;

/** VPTQ's loop result → the format's vector record, the per-layer codebook cap and the recipe's wiring errors. */
class VptqConversionTest {
    private static final GptqLoop LOOP = new GptqLoop(GptqLoop.Options.defaults().withActOrder(true).withProxyLoss(false));

    /** A stories260K gate_proj shape: 172 rows = 21 vectors of 8 + one padded with 4 rows. */
    private static final int ROWS = 172, COLS = 64;
    private static final float[] W = Synthetic.weights(ROWS, COLS, 91);
    private static final double[] H = Synthetic.correlatedHessian(COLS, 92);

    private static VptqQuantizer.Result quantize(VptqQuantizer.Spec spec) {
        Recipe recipe = Recipe.named("vptq-v8-2.0");
        return new VptqQuantizer(spec, CheckpointQuantizer.storedFitter(recipe, VptqQuantizerTest.KMEANS))
                .quantize(W, ROWS, COLS, H, LOOP);
    }

    @Test
    void storedRecordDecodesToExactlyTheLoopsQ() {
        for (var spec : new VptqQuantizer.Spec[] {new VptqQuantizer.Spec(8, 256, 0, 0, 0, 4),
                new VptqQuantizer.Spec(8, 256, 64, 0, 0, 4)}) {
            VptqQuantizer.Result r = quantize(spec);
            VectorTensor stored = CheckpointQuantizer.toTensor(r);
            assertNotNull(stored.perm(), "act-order on a non-uniform H permutes");
            assertEquals(spec.residualCentroids(), stored.residualCodebookSize());
            // fp16-exact codebooks and the same f32 add (c1 + c2) as the loop's decode: equal, not merely close
            assertArrayEquals(r.dequantized(), stored.dequantize(), spec.toString());
            // 22 vectors per column (the padded one included) × 8 bits (K = 256), + 6 bits with K₂ = 64
            assertEquals(22L * COLS * (8 + (spec.residualCentroids() == 0 ? 0 : 6)), stored.indexBits());
        }
    }

    @Test
    void codebooksAreRoundedToFp16BeforeTheLoop() {
        VptqQuantizer.Result r = quantize(new VptqQuantizer.Spec(8, 128, 0, 0, 0, 1));
        for (float c : r.main().centroids()) {
            assertEquals(c, io.quantmesh.core.tensor.Half.f16ToFloat(io.quantmesh.core.tensor.Half.floatToF16(c)));
        }
    }

    @Test
    void sameSeedSameBytesAnyThreadCount() {
        var spec = VptqQuantizer.Spec.forLayer(Recipe.named("vptq-v8-2.0"), ROWS, COLS, 3);
        Recipe recipe = Recipe.named("vptq-v8-2.0");
        float[] a = null;
        for (int threads : new int[] {1, 2}) {
            var loop = new GptqLoop(GptqLoop.Options.defaults().withActOrder(true).withProxyLoss(false).withThreads(threads));
            var r = new VptqQuantizer(spec, CheckpointQuantizer.storedFitter(recipe, VptqQuantizerTest.KMEANS))
                    .quantize(W, ROWS, COLS, H, loop);
            float[] q = CheckpointQuantizer.toTensor(r).dequantize();
            if (a == null) a = q; else assertArrayEquals(a, q);
        }
    }

    @Test
    void layerSpecCapsTheCodebookAtAPowerOfTwoOfTheLayersVectorsAndSeedsByIndex() {
        Recipe vptq = Recipe.named("vptq-v8-2.0");
        assertArrayEquals(new int[] {8, 65536, 0, 0}, Recipe.vectorShape(vptq.codec()));
        // stories260K: q/o 64x64 (512 vectors), k/v 32x64 (256), gate/up 172x64 (22·64 = 1408), down 64x172 (1376)
        assertEquals(512, VptqQuantizer.Spec.forLayer(vptq, 64, 64, 0).centroids());
        assertEquals(256, VptqQuantizer.Spec.forLayer(vptq, 32, 64, 1).centroids());
        assertEquals(1024, VptqQuantizer.Spec.forLayer(vptq, 172, 64, 4).centroids());
        assertEquals(1024, VptqQuantizer.Spec.forLayer(vptq, 64, 172, 6).centroids());
        // a 7B-sized layer keeps the recipe's 2^16 (2.0 bits)
        assertEquals(65536, VptqQuantizer.Spec.forLayer(vptq, 4096, 4096, 9).centroids());
        assertEquals(36, VptqQuantizer.Spec.forLayer(vptq, 64, 64, 9).seed());
        var withResidual = new VptqQuantizer.Spec(8, 65536, 4096, 0.01, 65536, 0).capped(64, 100);
        assertEquals(512, withResidual.centroids());      // 8 · 99 main vectors = 792 → 512
        assertEquals(512, withResidual.residualCentroids());
        assertEquals(8, withResidual.outlierCentroids()); // one outlier column: 8 vectors
    }

    @Test
    void wiringErrorsAreClear() {
        Recipe vptq = Recipe.named("vptq-v8-2.0");
        var e = assertThrows(IllegalArgumentException.class, () -> new LayerQuantizer(vptq, null, 1));
        assertTrue(e.getMessage().contains("no k-means fitter"), e.getMessage());
        CodebookFitter wrong = (v, w, n, k, c, s) -> VptqQuantizerTest.KMEANS.fit(v, w, n, k, c / 2, s);
        var f = assertThrows(IllegalArgumentException.class, () -> quantizeWith(wrong));
        assertTrue(f.getMessage().contains("128 centroids of 8 for 256"), f.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Recipe.vectorShape("vq-v8-k65536"));
        assertThrows(IllegalArgumentException.class, () -> Recipe.vectorShape("vq-v65-k16-r0-o0"));
        var early = assertThrows(IllegalArgumentException.class, () -> new LayerQuantizer(new Recipe("vq-outliers",
                true, "vq-v8-k256-r0-o1", -1, null), null, VptqQuantizerTest.KMEANS, 1));
        assertTrue(early.getMessage().contains("fp16"), early.getMessage());
        var outliers = quantize(new VptqQuantizer.Spec(8, 64, 0, 0.05, 16, 2));
        var o = assertThrows(IllegalArgumentException.class, () -> CheckpointQuantizer.toTensor(outliers));
        assertTrue(o.getMessage().contains("fp16"), o.getMessage());
    }

    private static void quantizeWith(CodebookFitter fitter) {
        new VptqQuantizer(new VptqQuantizer.Spec(8, 256, 0, 0, 0, 1),
                CheckpointQuantizer.storedFitter(Recipe.named("vptq-v8-2.0"), fitter)).quantize(W, ROWS, COLS, H, LOOP);
    }
}
