package io.quantmesh.quant;

/**
 * A fixed vector codebook as {@link VectorColumnQuantizer} uses it: encode a v-vector to a code, decode a code
 * back. Codes are ints so that composite codes (PCDVQ's direction and magnitude indices) fit in one.
 */
public interface VectorCoder {
    /** v, the vector length. */
    int dimension();

    /** Code of {@code x[off .. off+v)}. */
    int encode(float[] x, int off);

    /** Writes the reconstruction of {@code code} to {@code out[off .. off+v)}. */
    void decode(int code, float[] out, int off);
}
