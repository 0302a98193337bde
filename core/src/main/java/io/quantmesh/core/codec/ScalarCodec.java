package io.quantmesh.core.codec;

/**
 * A scalar quantizer applied per group of weights: {@link #forRange} fits the group's parameters to a clip range
 * [lo, hi] (the group's min and max, or a clipped pair from a clip search), and the returned quantizer codes
 * single values into {@link #bits()}-wide codes.
 */
public interface ScalarCodec {
    int bits();

    String name();

    Quantizer forRange(float lo, float hi);

    /** One group's fitted quantizer. */
    interface Quantizer {
        int encode(float x);

        float decode(int code);

        /** The stored per-group parameters, in the order the checkpoint format lists them. */
        float[] parameters();

        default float roundTrip(float x) {
            return decode(encode(x));
        }
    }

    /** Encodes {@code x[off..off+len)} into {@code codes[codeOff..]}. */
    static void encode(Quantizer q, float[] x, int off, int len, int[] codes, int codeOff) {
        for (int i = 0; i < len; i++) codes[codeOff + i] = q.encode(x[off + i]);
    }

    /** The codec for a name: INT2..INT8, FP4, FP3, NF4, NF3 (case-insensitive). */
    static ScalarCodec named(String name) {
        String n = name.trim().toUpperCase(java.util.Locale.ROOT);
        if (n.startsWith("INT")) {
            try {
                return new IntAsymmetricCodec(Integer.parseInt(n.substring(3)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("unknown scalar codec " + name);
            }
        }
        try {
            return new TwoScaleGridCodec(GridTable.valueOf(n));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown scalar codec " + name + " (INT1..INT8, FP4, FP3, NF4, NF3)");
        }
    }
}
