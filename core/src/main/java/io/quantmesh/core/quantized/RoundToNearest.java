package io.quantmesh.core.quantized;

import io.quantmesh.core.codec.IntAsymmetricCodec;
import io.quantmesh.core.codec.KMeansCodec;
import io.quantmesh.core.codec.PolarCodec;
import io.quantmesh.core.codec.ScalarCodec;
import io.quantmesh.core.codec.TwoScaleGridCodec;
import io.quantmesh.core.checkpoint.TensorSource;
import io.quantmesh.core.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Round-to-nearest: every weight (or vector) coded independently with a core codec, no error feedback (the GPTQ
 * loop lives in quant-svc). Parameters are rounded to their stored fp16 values <em>before</em> coding, so the
 * codes are the nearest ones for what the checkpoint actually holds. Scalar ranges are each (row, group)'s
 * min/max. A baseline, and what the format's end-to-end tests write.
 */
public final class RoundToNearest {
    /** The linears of Llama-family decoders: attention and MLP projections, Mixtral's w1/w2/w3 experts (not routers). */
    public static final Pattern DECODER_LINEARS = Pattern.compile("model\\.layers\\.\\d+\\..*(_proj|\\.w[123])\\.weight");

    private RoundToNearest() {}

    /** Quantizes one weight; {@code index} counts the selected weights from 0 (e.g. to derive per-layer seeds). */
    @FunctionalInterface
    public interface LayerEncoder {
        QuantizedTensor encode(float[] w, int rows, int cols, int index);
    }

    /**
     * Every 2-D floating tensor of {@code source} whose name matches {@code include}, quantized by {@code encoder};
     * keyed by module name (the tensor name without ".weight"), in checkpoint order.
     */
    public static Map<String, QuantizedTensor> linears(TensorSource source, Pattern include, LayerEncoder encoder) {
        Map<String, QuantizedTensor> out = new LinkedHashMap<>();
        for (String name : source.tensorNames()) {
            if (!name.endsWith(".weight") || !include.matcher(name).matches()) continue;
            Tensor t = source.tensor(name);
            if (t.rank() != 2 || !t.dtype().isFloating()) continue;
            int rows = Math.toIntExact(t.dim(0)), cols = Math.toIntExact(t.dim(1));
            out.put(name.substring(0, name.length() - ".weight".length()),
                    encoder.encode(t.toFloatArray(), rows, cols, out.size()));
        }
        if (out.isEmpty()) throw new IllegalArgumentException("no 2-D weight matches " + include.pattern());
        return out;
    }

    /** {@link #linears(TensorSource, Pattern, LayerEncoder)} with one scalar codec and group size. */
    public static Map<String, QuantizedTensor> linears(TensorSource source, Pattern include, ScalarCodec codec,
            int groupSize) {
        return linears(source, include, (w, rows, cols, i) -> scalar(w, rows, cols, codec, groupSize));
    }

    /** INT-b ({@link IntAsymmetricCodec}) or an AFPQ grid ({@link TwoScaleGridCodec}), groups of min(g, cols) columns. */
    public static QuantizedTensor scalar(float[] w, int rows, int cols, ScalarCodec codec, int groupSize) {
        checkShape(w, rows, cols);
        ScalarGroups g = new ScalarGroups(rows, cols, Math.min(groupSize, cols));
        int groups = g.groups();
        int[] codes = new int[w.length];
        float[][] params = new float[2][rows * groups];
        for (int r = 0; r < rows; r++) {
            for (int gi = 0; gi < groups; gi++) {
                int from = r * cols + gi * g.groupSize(), to = r * cols + Math.min(cols, (gi + 1) * g.groupSize());
                float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
                for (int i = from; i < to; i++) {
                    lo = Math.min(lo, w[i]);
                    hi = Math.max(hi, w[i]);
                }
                ScalarCodec.Quantizer q = storable(codec.forRange(lo, hi));
                ScalarCodec.encode(q, w, from, to - from, codes, from);
                float[] p = q.parameters();
                params[0][r * groups + gi] = p[0];
                params[1][r * groups + gi] = p[1];
            }
        }
        PackedIndices packed = PackedIndices.pack(codes, codec.bits());
        if (codec instanceof TwoScaleGridCodec grid) {
            return new TwoScaleGridTensor(rows, cols, grid.name(), grid.grid().table(), g.groupSize(), packed,
                    Fp16.of(params[0]), Fp16.of(params[1]), null);
        }
        int[] zeros = new int[params[1].length];
        for (int i = 0; i < zeros.length; i++) zeros[i] = (int) params[1][i];
        return new IntGroupTensor(rows, cols, codec.bits(), g.groupSize(), packed, Fp16.of(params[0]),
                PackedIndices.pack(zeros, codec.bits()), null);
    }

    /** The fitted group with its scales rounded to fp16 (a scale that would round to 0 keeps the smallest fp16). */
    private static ScalarCodec.Quantizer storable(ScalarCodec.Quantizer q) {
        return switch (q) {
            case IntAsymmetricCodec.Fitted f -> new IntAsymmetricCodec.Fitted(positiveFp16(f.scale()), f.zero(), f.max());
            case TwoScaleGridCodec.Fitted f -> new TwoScaleGridCodec.Fitted(f.grid(), fp16(f.positiveScale()),
                    fp16(f.negativeScale()));
            default -> throw new IllegalArgumentException("no stored form for " + q.getClass().getSimpleName());
        };
    }

    private static float fp16(float x) {
        float r = Fp16.value(Fp16.of(x));
        if (!Float.isFinite(r)) throw new IllegalArgumentException("scale " + x + " overflows fp16");
        return r;
    }

    private static float positiveFp16(float x) {
        float r = fp16(x);
        return r > 0 ? r : Float.float16ToFloat((short) 1);
    }

    /**
     * VPTQ layout with a fixed codebook (rounded to fp16) and optionally a residual one coding what the first leaves;
     * {@code outlierColumns} are kept in fp16, the others coded in ascending order.
     */
    public static VectorTensor vectors(float[] w, int rows, int cols, KMeansCodec codebook, KMeansCodec residual,
            int[] outlierColumns) {
        checkShape(w, rows, cols);
        int v = codebook.k();
        if (residual != null && residual.k() != v) throw new IllegalArgumentException("residual codebook has another vector size");
        KMeansCodec first = stored(codebook), second = residual == null ? null : stored(residual);
        int[] order = ColumnOrder.main(cols, outlierColumns, null, "outlier columns", "perm");
        float[] x = gather(w, rows, cols, v, order);
        int count = x.length / v;
        int[] idx = first.encode(x, count);
        int[] idx2 = null;
        if (second != null) {
            float[] decoded = first.decode(idx, count);
            for (int i = 0; i < x.length; i++) x[i] -= decoded[i];
            idx2 = second.encode(x, count);
        }
        short[] outliers = new short[rows * outlierColumns.length];
        for (int r = 0; r < rows; r++) {
            for (int m = 0; m < outlierColumns.length; m++) {
                outliers[r * outlierColumns.length + m] = Fp16.of(w[r * cols + outlierColumns[m]]);
            }
        }
        return new VectorTensor(rows, cols, v, Fp16.of(first.centroids()), PackedIndices.pack(idx, first.codeBits()),
                second == null ? null : Fp16.of(second.centroids()),
                second == null ? null : PackedIndices.pack(idx2, second.codeBits()), outlierColumns.clone(), outliers, null);
    }

    private static KMeansCodec stored(KMeansCodec c) {
        return new KMeansCodec(c.k(), Fp16.values(Fp16.of(c.centroids())));
    }

    /**
     * PCDVQ without the GPTQ loop: rotate with the seeded sign diagonals, scale by the RMS of W', code each k-vector
     * with {@code codec} (rounded to fp16; 2^a directions and 2^b magnitude levels).
     */
    public static PolarTensor polar(float[] w, int rows, int cols, PolarCodec codec, long seedOut, long seedIn) {
        checkShape(w, rows, cols);
        int k = codec.k();
        if (Integer.bitCount(codec.directionCount()) != 1 || Integer.bitCount(codec.magnitudeCount()) != 1) {
            throw new IllegalArgumentException("polar layers store 2^a directions and 2^b magnitudes, got "
                    + codec.directionCount() + " and " + codec.magnitudeCount());
        }
        PolarCodec stored = new PolarCodec(k, Fp16.values(Fp16.of(codec.directions())),
                Fp16.values(Fp16.of(codec.magnitudes())));
        boolean[] out = HadamardRotation.negativeSigns(rows, seedOut), in = HadamardRotation.negativeSigns(cols, seedIn);
        float[] rotated = HadamardRotation.rotate(w, rows, cols, out, in);
        double sum = 0;
        for (float x : rotated) sum += (double) x * x;
        float scale = (float) Math.sqrt(sum / rotated.length);
        if (scale == 0 || !Float.isFinite(scale)) scale = 1;
        for (int i = 0; i < rotated.length; i++) rotated[i] /= scale;
        float[] x = gather(rotated, rows, cols, k, ColumnOrder.identity(cols));
        int[] codes = stored.encode(x, x.length / k);
        int a = Integer.numberOfTrailingZeros(codec.directionCount()), b = stored.magnitudeBits();
        return new PolarTensor(rows, cols, k, a, b, Fp16.of(stored.directions()), Fp16.of(stored.magnitudes()), scale,
                PackedIndices.pack(codes, a + b), PolarTensor.packSigns(out), PolarTensor.packSigns(in), null,
                seedOut, seedIn);
    }

    /** The v-vectors of the given columns, vector (t, j) at {@code (t·columns + j)·v}; padding rows are zero. */
    static float[] gather(float[] w, int rows, int cols, int v, int[] columns) {
        int per = VectorTensor.vectors(rows, v), n = columns.length;
        float[] x = new float[Math.multiplyExact(Math.multiplyExact(per, n), v)];
        for (int t = 0; t < per; t++) {
            for (int j = 0; j < n; j++) {
                int base = (t * n + j) * v;
                for (int i = 0; i < v && t * v + i < rows; i++) x[base + i] = w[(t * v + i) * cols + columns[j]];
            }
        }
        return x;
    }

    private static void checkShape(float[] w, int rows, int cols) {
        if (rows < 1 || cols < 1 || w.length != (long) rows * cols) {
            throw new IllegalArgumentException("weight of " + w.length + " values is not " + rows + "x" + cols);
        }
        for (int i = 0; i < w.length; i++) {
            if (!Float.isFinite(w[i])) throw new IllegalArgumentException("weight " + i + " is not finite");
        }
    }
}
