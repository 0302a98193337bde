package io.quantmesh.quant;

import io.quantmesh.core.codec.ClipSearch;
import io.quantmesh.core.codec.IntAsymmetricCodec;
import io.quantmesh.core.codec.ScalarCodec;
import io.quantmesh.core.linalg.FloatMatrix;
import io.quantmesh.core.recipe.RangeFit;
import io.quantmesh.core.recipe.Recipe;

/**
 * Scalar quantization per (row, group of g input columns) with any {@link ScalarCodec} (DESIGN §3 "Scalar codecs"):
 * asymmetric INT-b exactly as GPTQ's reference quantizer ({@link IntAsymmetricCodec}), or AFPQ's two-scale FP4/FP3/
 * NF4/NF3 grids. The group's range is fit when the loop reaches its first column, on the current (error-updated)
 * values of the group's columns, one row at a time:
 * <ul>
 *   <li>{@link RangeFit#MIN_MAX}: [min, max] of the row's group values;</li>
 *   <li>{@link RangeFit#CLIP_SEARCH}: BitDistiller's asymmetric clipping ({@link ClipSearch}): [α·min, β·max] with the
 *       smallest squared round-trip error;</li>
 *   <li>{@link RangeFit#WEIGHTED_CLIP_SEARCH}: the same, each column's error weighted by its H_jj, which is exactly
 *       the group's share of the proxy loss when H is diagonal (falls back to unweighted without a Hessian).</li>
 * </ul>
 */
public final class ScalarGroupQuantizer implements ColumnQuantizer<ScalarCodes> {

    private final ScalarCodec codec;
    private final int groupSize;
    private final RangeFit range;
    private final ClipSearch search;

    /**
     * @param groupSize inputs per group (≥ 1), or -1 for one range per output channel
     * @param search    the clip grid (ignored for MIN_MAX)
     */
    public ScalarGroupQuantizer(ScalarCodec codec, int groupSize, RangeFit range, ClipSearch search) {
        if (codec.bits() > 8) throw new IllegalArgumentException("codes are stored in bytes: " + codec.name() + " has " + codec.bits() + " bits");
        if (groupSize == 0 || groupSize < -1) {
            throw new IllegalArgumentException("group size must be >= 1 or -1 (per channel), got " + groupSize);
        }
        this.codec = codec;
        this.groupSize = groupSize;
        this.range = range;
        this.search = search;
    }

    /** GPTQ's INT-b: asymmetric, min/max range. */
    public static ScalarGroupQuantizer minMaxInt(int bits, int groupSize) {
        return new ScalarGroupQuantizer(new IntAsymmetricCodec(bits), groupSize, RangeFit.MIN_MAX, null);
    }

    /** A codec by name (INT2..INT8, FP4, FP3, NF4, NF3) with the standard clip grid where a search is asked for. */
    public static ScalarGroupQuantizer of(String codec, int groupSize, RangeFit range) {
        return new ScalarGroupQuantizer(ScalarCodec.named(codec), groupSize, range,
                range == RangeFit.MIN_MAX ? null : ClipSearch.standard());
    }

    /** The quantizer a scalar recipe gives a layer with {@code inputs} columns (group {@link Recipe#groupFor}). */
    public static ScalarGroupQuantizer forRecipe(Recipe recipe, int inputs) {
        if (recipe.polar()) throw new IllegalArgumentException(recipe.name() + " is a polar recipe: no scalar quantizer");
        return of(recipe.codec(), recipe.groupFor(inputs), recipe.range());
    }

    public ScalarCodec codec() {
        return codec;
    }

    public RangeFit range() {
        return range;
    }

    @Override
    public int rowAlignment() {
        return 1;
    }

    @Override
    public int groupSize() {
        return groupSize;
    }

    @Override
    public Session<ScalarCodes> begin(Context context) {
        int rows = context.rows(), columns = context.columns();
        int g = groupSize == -1 ? columns : groupSize;
        int groups = (columns + g - 1) / g;
        ScalarCodes codes = new ScalarCodes(codec, g, rows, columns, new byte[Math.multiplyExact(rows, columns)],
                new ScalarCodec.Quantizer[Math.multiplyExact(groups, rows)]);
        float[] weights = range == RangeFit.WEIGHTED_CLIP_SEARCH ? context.importance() : null;
        return new Session<>() {
            @Override
            public void fitGroup(int group, int r0, int r1, FloatMatrix cols) {
                int count = cols.rows();
                float[] x = new float[count];
                for (int r = r0; r < r1; r++) {
                    float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
                    for (int c = 0; c < count; c++) {
                        x[c] = cols.get(c, r - r0);
                        lo = Math.min(lo, x[c]);
                        hi = Math.max(hi, x[c]);
                    }
                    if (range != RangeFit.MIN_MAX) {
                        ClipSearch.Clip clip = search.search(codec, x, 0, count, weights == null ? null : slice(weights, group * g, count));
                        lo = clip.lo();
                        hi = clip.hi();
                    }
                    codes.fitted()[group * rows + r] = codec.forRange(lo, hi);
                }
            }

            @Override
            public void quantize(int position, int r0, int r1, float[] w, int wOff, float[] q, int qOff) {
                int g0 = codes.group(position) * rows;
                for (int r = r0; r < r1; r++) {
                    ScalarCodec.Quantizer fitted = codes.fitted()[g0 + r];
                    int code = fitted.encode(w[wOff + r - r0]);
                    codes.codes()[position * rows + r] = (byte) code;
                    q[qOff + r - r0] = fitted.decode(code);
                }
            }

            @Override
            public ScalarCodes finish() {
                return codes;
            }
        };
    }

    private static float[] slice(float[] a, int from, int count) {
        return java.util.Arrays.copyOfRange(a, from, from + count);
    }
}
