package io.quantmesh.quant;

import static org.junit.jupiter.api.Assertions.*;

import io.quantmesh.codebook.Cancellation;
import io.quantmesh.codebook.WeightedKMeans;
import io.quantmesh.core.codec.KMeansCodec;
import io.quantmesh.core.parallel.Parallel;
import org.junit.jupiter.api.Test;

class VptqQuantizerTest {
    /** codebook-svc's weighted k-means (k-means++, Lloyd), as the quant worker gets it over gRPC. */
    static final CodebookFitter KMEANS = (vectors, weights, count, k, clusters, seed) -> new KMeansCodec(k,
            WeightedKMeans.fit(vectors, weights, count, new WeightedKMeans.Spec(k, clusters, seed, 25, 1e-4),
                    Parallel.common(), Cancellation.NONE).centroids());

    private static final int ROWS = 126, COLS = 256;   // 126 rows: v = 4 pads the last vector of every column
    private static final float[] W = Synthetic.weights(ROWS, COLS, 71);
    private static final double[] H = Synthetic.correlatedHessian(COLS, 72);
    private static final GptqLoop LOOP = new GptqLoop(GptqLoop.Options.defaults().withActOrder(true));

    @Test
    void singleStageGptqBeatsNearestCentroidAndCodesRebuildQ() {
        var spec = new VptqQuantizer.Spec(4, 256, 0, 0, 0, 73);
        var r = new VptqQuantizer(spec, KMEANS).quantize(W, ROWS, COLS, H, LOOP);
        assertEquals(2.0, r.indexBitsPerWeight());
        assertEquals(16L * 4 * 256, r.codebookBits());
        var coder = new KMeansVectorCoder(r.main());
        double nearest = LOOP.roundToNearest(W, ROWS, COLS, H, new VectorColumnQuantizer(coder)).proxyLoss();
        System.out.printf("VPTQ v=4 K=256 (2 bpw): proxy loss nearest centroid %.4g, GPTQ act-order %.4g (×%.3f)%n",
                nearest, r.proxyLoss(), r.proxyLoss() / nearest);
        assertTrue(r.proxyLoss() < 0.5 * nearest);
        float[] processing = r.codes().dequantize(coder);
        for (int row = 0; row < ROWS; row++) {
            for (int p = 0; p < COLS; p++) {
                assertEquals(processing[row * COLS + p], r.dequantized()[row * COLS + r.permutation()[p]]);
            }
        }
    }

    @Test
    void residualStageLowersTheLossAndOutlierColumnsGetTheirOwnCodebook() {
        var single = new VptqQuantizer(new VptqQuantizer.Spec(4, 64, 0, 0, 0, 74), KMEANS).quantize(W, ROWS, COLS, H, LOOP);
        var twoStage = new VptqQuantizer(new VptqQuantizer.Spec(4, 64, 64, 0, 0, 74), KMEANS).quantize(W, ROWS, COLS, H, LOOP);
        var outliers = new VptqQuantizer(new VptqQuantizer.Spec(4, 64, 64, 0.05, 64, 74), KMEANS).quantize(W, ROWS, COLS, H, LOOP);
        System.out.printf("VPTQ v=4: K=64 %.4g (1.5 bpw) | +residual K=64 %.4g (%.2f bpw) | +5%% outlier columns %.4g (%.3f bpw)%n",
                single.proxyLoss(), twoStage.proxyLoss(), twoStage.indexBitsPerWeight(), outliers.proxyLoss(),
                outliers.indexBitsPerWeight());
        assertEquals(1.5, single.indexBitsPerWeight());
        assertEquals(3.0, twoStage.indexBitsPerWeight());
        assertTrue(twoStage.proxyLoss() < single.proxyLoss());
        assertNotNull(outliers.outlier());
        int flagged = 0;
        for (boolean b : outliers.outlierColumns()) if (b) flagged++;
        assertEquals(Math.round(0.05 * COLS), flagged);
        // outlier columns are the ones with the largest H_jj, and their positions decode with the outlier codebook
        float minOutlier = Float.MAX_VALUE, maxOther = 0;
        for (int j = 0; j < COLS; j++) {
            float d = (float) H[j * COLS + j];
            if (outliers.outlierColumns()[j]) minOutlier = Math.min(minOutlier, d); else maxOther = Math.max(maxOther, d);
        }
        assertTrue(minOutlier >= maxOther);
        float[] processing = outliers.codes().dequantize(new ResidualVectorCoder(outliers.main(), outliers.residual()),
                new KMeansVectorCoder(outliers.outlier()));
        for (int row = 0; row < ROWS; row++) {
            for (int p = 0; p < COLS; p++) {
                assertEquals(processing[row * COLS + p], outliers.dequantized()[row * COLS + outliers.permutation()[p]]);
            }
        }
    }

    @Test
    void bitIdenticalForEveryThreadCount() {
        var spec = new VptqQuantizer.Spec(4, 32, 32, 0.05, 16, 75);
        var one = new VptqQuantizer(spec, KMEANS).quantize(W, ROWS, COLS, H,
                new GptqLoop(GptqLoop.Options.defaults().withThreads(1).withActOrder(true)));
        var three = new VptqQuantizer(spec, KMEANS).quantize(W, ROWS, COLS, H,
                new GptqLoop(GptqLoop.Options.defaults().withThreads(3).withActOrder(true)));
        assertArrayEquals(one.dequantized(), three.dequantized());
        assertArrayEquals(one.codes().codes(), three.codes().codes());
    }

    @Test
    void rejectsImpossibleSpecs() {
        assertThrows(IllegalArgumentException.class, () -> new VptqQuantizer.Spec(0, 16, 0, 0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new VptqQuantizer.Spec(4, 16, 0, 1.0, 0, 1));
        var tooMany = new VptqQuantizer(new VptqQuantizer.Spec(4, 1 << 20, 0, 0, 0, 1), KMEANS);
        assertThrows(IllegalArgumentException.class, () -> tooMany.quantize(W, ROWS, COLS, H, LOOP));
    }
}
