package io.quantmesh.core.quantized;

/** The format's fp16 values (IEEE binary16, round to nearest even), held as their bits. */
final class Fp16 {
    private Fp16() {}

    static float value(short bits) {
        return Float.float16ToFloat(bits);
    }

    static short of(float x) {
        return Float.floatToFloat16(x);
    }

    static short[] of(float[] x) {
        short[] out = new short[x.length];
        for (int i = 0; i < x.length; i++) out[i] = of(x[i]);
        return out;
    }

    static float[] values(short[] bits) {
        float[] out = new float[bits.length];
        for (int i = 0; i < bits.length; i++) out[i] = value(bits[i]);
        return out;
    }

    /** Rejects inf and NaN: a decoder would turn them into non-finite weights. */
    static void checkFinite(short[] bits, String what) {
        for (int i = 0; i < bits.length; i++) {
            if (!Float.isFinite(value(bits[i]))) throw new IllegalArgumentException(what + ": entry " + i + " is not finite");
        }
    }
}
