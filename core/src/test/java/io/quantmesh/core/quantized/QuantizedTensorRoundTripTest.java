package io.quantmesh.core.quantized;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantmesh.core.codec.IntAsymmetricCodec;
import io.quantmesh.core.codec.KMeansCodec;
import io.quantmesh.core.codec.PolarCodec;
import io.quantmesh.core.codec.ScalarCodec;
import io.quantmesh.core.codec.TwoScaleGridCodec;
import io.quantmesh.core.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every representation: encode seeded weights with the core codecs, write the tensors to safetensors, read them
 * back through the mapped file, and the dequantized floats are the same bits; the decoding is what the codecs mean.
 * 44 rows × 96 columns: not a multiple of the vector sizes (padding), partial scalar groups, Hadamard blocks of 4 and 32.
 */
class QuantizedTensorRoundTripTest {
    static final int ROWS = 44, COLS = 96;

    @TempDir
    Path dir;

    @Test
    void everyRepresentationRoundTripsBitForBit() throws IOException {
        float[] w = Layers.weights(ROWS, COLS, 5);
        double norm = 0;
        for (float x : w) norm += x * x;
        for (Map.Entry<String, QuantizedTensor> e : Layers.all(ROWS, COLS, 5).entrySet()) {
            QuantizedTensor q = e.getValue();
            float[] dense = q.dequantize();
            QuantizedTensor back = Layers.throughFile(q, dir.resolve(e.getKey() + ".safetensors"));
            assertEquals(q.getClass(), back.getClass());
            assertArrayEquals(Layers.bits(dense), Layers.bits(back.dequantize()), e.getKey());
            assertEquals(q.layerConfig(), back.layerConfig(), e.getKey());
            assertSameTensors(q.toTensors("p"), back.toTensors("p"), e.getKey());
            assertEquals(q.indexBits(), back.indexBits());
            assertEquals(q.storedBits(), back.storedBits());
            double err = 0;
            for (int i = 0; i < w.length; i++) err += (w[i] - dense[i]) * (w[i] - dense[i]);
            double rel = Math.sqrt(err / norm);
            System.out.printf("%-26s index %.4f  stored %.4f bits/weight  relative error %.4f%n", e.getKey(),
                    q.indexBitsPerWeight(), q.storedBitsPerWeight(), rel);
            // Far below 1 (a wrong layout or decode gives ~1.4); the random VQ / polar codebooks are coarse.
            assertTrue(rel < (e.getKey().startsWith("int8") ? 0.02 : e.getKey().startsWith("int4") ? 0.15 : 0.75),
                    e.getKey() + " relative error " + rel);
        }
    }

    static void assertSameTensors(Map<String, Tensor> a, Map<String, Tensor> b, String what) {
        assertEquals(a.keySet().stream().toList(), b.keySet().stream().toList(), what);
        for (String n : a.keySet()) {
            assertEquals(a.get(n).dtype(), b.get(n).dtype(), n);
            assertArrayEquals(a.get(n).shape(), b.get(n).shape(), n);
            assertEquals(-1, a.get(n).segment().mismatch(b.get(n).segment()), n);
        }
    }

    @Test
    void scalarDecodingIsTheCodecsWithTheStoredParameters() {
        float[] w = Layers.weights(ROWS, COLS, 6);
        for (String name : new String[] {"INT2", "INT4", "INT8", "FP4", "FP3", "NF4", "NF3"}) {
            ScalarCodec codec = ScalarCodec.named(name);
            int g = 40;   // 96 = 40 + 40 + 16
            QuantizedTensor q = RoundToNearest.scalar(w, ROWS, COLS, codec, g);
            float[] dense = q.dequantize();
            for (int r = 0; r < ROWS; r++) {
                for (int c = 0; c < COLS; c++) {
                    int group = r * 3 + c / g;
                    ScalarCodec.Quantizer fitted = switch (q) {
                        case IntGroupTensor t -> new IntAsymmetricCodec.Fitted(Fp16.value(t.scales()[group]),
                                t.zeros().unpack()[group], (1 << t.bits()) - 1);
                        case TwoScaleGridTensor t -> new TwoScaleGridCodec.Fitted(((TwoScaleGridCodec) codec).grid(),
                                Fp16.value(t.positiveScales()[group]), Fp16.value(t.negativeScales()[group]));
                        default -> throw new AssertionError(q);
                    };
                    assertEquals(Float.floatToRawIntBits(fitted.roundTrip(w[r * COLS + c])),
                            Float.floatToRawIntBits(dense[r * COLS + c]), name + " at " + r + "," + c);
                }
            }
        }
    }

    @Test
    void intBitAccountingIsExact() {
        QuantizedTensor q = Layers.int4(ROWS, COLS, 7);   // groups of 64: 2 per row (64 + 32)
        long weights = ROWS * COLS, groups = ROWS * 2;
        assertEquals(4 * weights, q.indexBits());
        long stored = 32 * ((4 * weights + 31) / 32) + 16 * groups + 32 * ((4 * groups + 31) / 32);
        assertEquals(stored, q.storedBits());
        assertEquals(4.0, q.indexBitsPerWeight());
        assertEquals((double) stored / weights, q.storedBitsPerWeight());
    }

    @Test
    void vectorDecodingIsTheCodebooksPlusOutliers() {
        float[] w = Layers.weights(ROWS, COLS, 8);
        int[] outliers = {95, 0, 40};
        KMeansCodec first = Layers.kmeans(64, 8, 1), second = Layers.kmeans(16, 8, 2);
        VectorTensor q = RoundToNearest.vectors(w, ROWS, COLS, first, second, outliers);
        float[] dense = q.dequantize();
        KMeansCodec c1 = new KMeansCodec(8, Fp16.values(q.codebook())), c2 = new KMeansCodec(8, Fp16.values(q.residualCodebook()));
        int[] i1 = q.indices().unpack(), i2 = q.residualIndices().unpack();
        int main = COLS - outliers.length, per = (ROWS + 7) / 8;
        assertEquals(6, per);
        int j = 0;
        for (int c = 0; c < COLS; c++) {
            if (c == 95 || c == 0 || c == 40) {
                for (int r = 0; r < ROWS; r++) assertEquals(Fp16.value(Fp16.of(w[r * COLS + c])), dense[r * COLS + c]);
                continue;
            }
            for (int t = 0; t < per; t++) {
                float[] a = c1.decode(new int[] {i1[t * main + j]}, 1), b = c2.decode(new int[] {i2[t * main + j]}, 1);
                for (int i = 0; i < 8 && t * 8 + i < ROWS; i++) {
                    assertEquals(a[i] + b[i], dense[(t * 8 + i) * COLS + c], "row " + (t * 8 + i) + " col " + c);
                }
            }
            j++;
        }
        assertEquals(main, j);
        assertEquals((long) per * main * (6 + 4), q.indexBits());   // K = 64 -> 6 bits, K2 = 16 -> 4 bits
        // The residual stage helps: the two-stage error is below the first stage's alone.
        VectorTensor one = RoundToNearest.vectors(w, ROWS, COLS, first, null, outliers);
        assertTrue(error(w, dense) < error(w, one.dequantize()));
    }

    @Test
    void polarDecodingIsScaledMagnitudeTimesDirectionThenTheInverseRotation() {
        float[] w = Layers.weights(ROWS, COLS, 9);
        PolarCodec codec = Layers.polar(8, 8, 3);
        PolarTensor q = RoundToNearest.polar(w, ROWS, COLS, codec, 11, 12);
        assertEquals(8 + 2, q.codes().width());
        float[] rotated = q.dequantizeRotated();
        PolarCodec stored = new PolarCodec(8, Fp16.values(q.directions()), Fp16.values(q.magnitudes()));
        int[] codes = q.codes().unpack();
        for (int t = 0; t < 6; t++) {
            for (int c = 0; c < COLS; c++) {
                int code = codes[t * COLS + c];
                for (int i = 0; i < 8 && t * 8 + i < ROWS; i++) {
                    float expect = (q.scale() * stored.magnitude(stored.magnitudeOf(code))) * stored.direction(stored.directionOf(code), i);
                    assertEquals(expect, rotated[(t * 8 + i) * COLS + c]);
                }
            }
        }
        boolean[] out = HadamardRotation.negativeSigns(ROWS, 11), in = HadamardRotation.negativeSigns(COLS, 12);
        assertArrayEquals(Layers.bits(HadamardRotation.unrotate(rotated, ROWS, COLS, out, in)), Layers.bits(q.dequantize()));
        // The encoder coded W' = T_o W T_iᵀ / scale: its codes are PolarCodec's for those vectors.
        float[] wr = HadamardRotation.rotate(w, ROWS, COLS, out, in);
        for (int i = 0; i < wr.length; i++) wr[i] /= q.scale();
        float[] v = RoundToNearest.gather(wr, ROWS, COLS, 8, ColumnOrder.identity(COLS));
        assertArrayEquals(stored.encode(v, v.length / 8), codes);
    }

    @Test
    void aPermutationPlacesStoredColumnJAtPermJ() {
        SplittableRandom rnd = new SplittableRandom(4);
        int[] perm = ColumnOrder.identity(COLS);
        for (int i = COLS - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        Map<String, QuantizedTensor> all = Layers.all(ROWS, COLS, 10);
        IntGroupTensor a = (IntGroupTensor) all.get("int3-g7");
        check(a.dequantize(), new IntGroupTensor(ROWS, COLS, a.bits(), a.groupSize(), a.codes(), a.scales(), a.zeros(), perm).dequantize(), perm);
        TwoScaleGridTensor b = (TwoScaleGridTensor) all.get("fp4-g32");
        check(b.dequantize(), new TwoScaleGridTensor(ROWS, COLS, b.gridName(), b.grid(), b.groupSize(), b.codes(),
                b.positiveScales(), b.negativeScales(), perm).dequantize(), perm);
        VectorTensor c = (VectorTensor) all.get("vq-v4");
        check(c.dequantize(), new VectorTensor(ROWS, COLS, 4, c.codebook(), c.indices(), null, null, new int[0], new short[0],
                perm).dequantize(), perm);
        PolarTensor d = (PolarTensor) all.get("polar-k8-a8-b2");
        PolarTensor dp = new PolarTensor(ROWS, COLS, 8, 8, 2, d.directions(), d.magnitudes(), d.scale(), d.codes(),
                d.signsOut(), d.signsIn(), perm, d.seedOut(), d.seedIn());
        check(d.dequantizeRotated(), dp.dequantizeRotated(), perm);
        // ... and the permutation is stored and read back.
        for (QuantizedTensor q : new QuantizedTensor[] {dp}) {
            assertTrue(q.layerConfig().bool("act_order"));
            assertTrue(q.toTensors("p").containsKey("p.perm"));
        }
    }

    private static void check(float[] plain, float[] permuted, int[] perm) {
        for (int r = 0; r < ROWS; r++) {
            for (int j = 0; j < COLS; j++) assertEquals(plain[r * COLS + j], permuted[r * COLS + perm[j]]);
        }
    }

    @Test
    void permutedLayersRoundTrip() throws IOException {
        int[] perm = ColumnOrder.identity(COLS);
        for (int i = 0; i < COLS / 2; i++) {
            perm[i] = COLS - 1 - i;
            perm[COLS - 1 - i] = i;
        }
        IntGroupTensor a = (IntGroupTensor) Layers.int4(ROWS, COLS, 3);
        QuantizedTensor q = new IntGroupTensor(ROWS, COLS, 4, 64, a.codes(), a.scales(), a.zeros(), perm);
        assertArrayEquals(Layers.bits(q.dequantize()), Layers.bits(Layers.throughFile(q, dir.resolve("p.safetensors")).dequantize()));
        int[] main = new int[COLS - 2];
        for (int i = 0; i < main.length; i++) main[i] = main.length - i;   // columns 1..94 reversed; 0 and 95 outliers
        VectorTensor v = RoundToNearest.vectors(Layers.weights(ROWS, COLS, 3), ROWS, COLS, Layers.kmeans(32, 4, 3), null, new int[] {0, 95});
        QuantizedTensor vp = new VectorTensor(ROWS, COLS, 4, v.codebook(), v.indices(), null, null, v.outlierColumns(),
                v.outlierWeights(), main);
        assertArrayEquals(Layers.bits(vp.dequantize()), Layers.bits(Layers.throughFile(vp, dir.resolve("v.safetensors")).dequantize()));
    }

    private static double error(float[] a, float[] b) {
        double e = 0;
        for (int i = 0; i < a.length; i++) e += (a[i] - b[i]) * (a[i] - b[i]);
        return e;
    }
}
