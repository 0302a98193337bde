package io.quantmesh.core.codec;

/**
 * Asymmetric uniform INT-b: {@code scale = (hi - lo) / (2^b - 1)}, {@code zero = rint(-lo / scale)},
 * {@code q = clamp(rint(x / scale) + zero, 0, 2^b - 1)}, decoded as {@code (q - zero) * scale}. As in GPTQ, the
 * range is widened to contain 0 (so 0 is exact) and an all-zero range becomes [-1, 1].
 */
public record IntAsymmetricCodec(int bits) implements ScalarCodec {
    public IntAsymmetricCodec {
        if (bits < 1 || bits > 8) throw new IllegalArgumentException("INT bits must be 1..8, got " + bits);
    }

    @Override
    public String name() {
        return "INT" + bits;
    }

    @Override
    public Quantizer forRange(float lo, float hi) {
        if (!(lo <= hi) || !Float.isFinite(lo) || !Float.isFinite(hi)) {
            throw new IllegalArgumentException("bad clip range [" + lo + ", " + hi + "]");
        }
        float l = Math.min(lo, 0f), h = Math.max(hi, 0f);
        if (l == 0f && h == 0f) {
            l = -1f;
            h = 1f;
        }
        int max = (1 << bits) - 1;
        float scale = (h - l) / max;
        int zero = (int) Math.min(max, Math.max(0, Math.rint(-l / scale)));
        return new Fitted(scale, zero, max);
    }

    /** A fitted group: {@code parameters() = {scale, zero}}. */
    public record Fitted(float scale, int zero, int max) implements Quantizer {
        @Override
        public int encode(float x) {
            double q = Math.rint(x / scale) + zero;
            return (int) Math.min(max, Math.max(0, q));
        }

        @Override
        public float decode(int code) {
            return (code - zero) * scale;
        }

        @Override
        public float[] parameters() {
            return new float[] {scale, zero};
        }
    }
}
