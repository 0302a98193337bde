package io.quantmesh.quant;

import io.quantmesh.core.codec.ScalarCodec;

/**
 * Codes of a scalar-quantized matrix as {@link ScalarGroupQuantizer} produced them, in processing order (see
 * {@link GptqResult#permutation()}): the value of (row r, position p) is {@code fitted[group(p)][r].decode(code)}.
 *
 * @param codes  {@code [position][row]}, unsigned, {@code codec.bits()} wide
 * @param fitted {@code [group][row]}: the fitted range of each group; {@code parameters()} are what a checkpoint
 *               stores ({scale, zero} for INT, {s+, s-} for the two-scale grids)
 */
public record ScalarCodes(ScalarCodec codec, int groupSize, int rows, int columns, byte[] codes,
        ScalarCodec.Quantizer[] fitted) {
    public int group(int position) {
        return position / groupSize;
    }

    public int code(int position, int row) {
        return codes[position * rows + row] & 0xff;
    }

    public ScalarCodec.Quantizer fitted(int group, int row) {
        return fitted[group * rows + row];
    }

    /** The dequantized matrix, rows×columns with columns in processing order. */
    public float[] dequantize() {
        float[] q = new float[rows * columns];
        for (int p = 0; p < columns; p++) {
            for (int r = 0; r < rows; r++) q[r * columns + p] = fitted(group(p), r).decode(code(p, r));
        }
        return q;
    }
}
