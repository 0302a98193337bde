package io.quantmesh.core.codec;

/**
 * AFPQ's asymmetric floating-point (or NormalFloat) coding: a fixed grid normalised to [-1, 1] with two scales per
 * group, {@code s+ = max(hi, 0)} for the positive values and {@code s- = max(-lo, 0)} for the negative ones, so a
 * skewed group uses the whole grid on both sides. A value codes to the grid entry nearest to {@code x / s} (the
 * lowest code on ties); code c decodes to {@code g_c * s+} when {@code g_c >= 0}, else {@code g_c * s-}.
 */
public record TwoScaleGridCodec(GridTable grid) implements ScalarCodec {
    @Override
    public int bits() {
        return grid.bits();
    }

    @Override
    public String name() {
        return grid.name();
    }

    @Override
    public Quantizer forRange(float lo, float hi) {
        if (!(lo <= hi) || !Float.isFinite(lo) || !Float.isFinite(hi)) {
            throw new IllegalArgumentException("bad clip range [" + lo + ", " + hi + "]");
        }
        return new Fitted(grid, Math.max(hi, 0f), Math.max(-lo, 0f));
    }

    /** A fitted group: {@code parameters() = {s+, s-}}. */
    public record Fitted(GridTable grid, float positiveScale, float negativeScale) implements Quantizer {
        @Override
        public int encode(float x) {
            float s = x >= 0 ? positiveScale : negativeScale;
            return grid.nearest(s == 0f ? 0f : x / s);
        }

        @Override
        public float decode(int code) {
            float g = grid.value(code);
            return g >= 0 ? g * positiveScale : g * negativeScale;
        }

        @Override
        public float[] parameters() {
            return new float[] {positiveScale, negativeScale};
        }
    }
}
