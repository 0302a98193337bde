package io.quantmesh.core.codec;


/**
 * BitDistiller-style asymmetric clipping: for a group of weights, search the clip range [α·min, β·max] over a grid
 * of ratios α, β ∈ {1, 1 - 1/g, ..., 1 - s} (independently for the two ends, since a skewed group wants different
 * clipping on each side) and keep the pair with the smallest (optionally weighted) squared round-trip error through
 * the codec. Ties keep the earlier pair in grid order, i.e. less clipping.
 */
public final class ClipSearch {
    /** The chosen range and its error. */
    public record Clip(float lo, float hi, double error) {}

    private final int steps;
    private final double maxShrink;

    /**
     * @param steps     grid resolution g (ratios step by 1/g)
     * @param maxShrink the largest fraction clipped off one end (s), e.g. 0.5
     */
    public ClipSearch(int steps, double maxShrink) {
        if (steps < 1 || steps > 1000) throw new IllegalArgumentException("steps must be 1..1000, got " + steps);
        if (!(maxShrink >= 0 && maxShrink < 1)) throw new IllegalArgumentException("max shrink must be in [0, 1), got " + maxShrink);
        this.steps = steps;
        this.maxShrink = maxShrink;
    }

    /** The defaults: 20 steps down to half the range on each end. */
    public static ClipSearch standard() {
        return new ClipSearch(20, 0.5);
    }

    /**
     * @param weights per-element importance (e.g. the Hessian diagonal), or null
     */
    public Clip search(ScalarCodec codec, float[] x, int off, int len, float[] weights) {
        if (len < 1) throw new IllegalArgumentException("empty group");
        float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
        for (int i = off; i < off + len; i++) {
            if (!Float.isFinite(x[i])) throw new IllegalArgumentException("non-finite weight at " + i);
            min = Math.min(min, x[i]);
            max = Math.max(max, x[i]);
        }
        int n = (int) Math.floor(maxShrink * steps + 1e-9);
        Clip best = null;
        for (int a = 0; a <= n; a++) {
            float lo = (float) (min * (1.0 - a / (double) steps));
            for (int b = 0; b <= n; b++) {
                float hi = (float) (max * (1.0 - b / (double) steps));
                if (!(lo <= hi)) continue;
                ScalarCodec.Quantizer q = codec.forRange(lo, hi);
                double err = 0;
                for (int i = 0; i < len; i++) {
                    double e = x[off + i] - q.roundTrip(x[off + i]);
                    err += (weights == null ? 1.0 : weights[off + i]) * e * e;
                }
                if (best == null || err < best.error()) best = new Clip(lo, hi, err);
            }
        }
        return best;
    }
}
