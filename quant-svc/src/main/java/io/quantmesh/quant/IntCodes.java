package io.quantmesh.quant;

/**
 * Codes of an asymmetric INT-b matrix as {@link MinMaxIntQuantizer} produced them, in processing order
 * (see {@link GptqResult#permutation()}): value of (row r, position p) = {@code scale·(code - zero)} with the
 * parameters of group {@code p / groupSize}.
 *
 * @param codes   {@code [position][row]}, unsigned in [0, 2^bits)
 * @param scales  {@code [group][row]}
 * @param zeros   {@code [group][row]}, unsigned integer zero points in [0, 2^bits)
 */
public record IntCodes(int bits, int groupSize, int rows, int columns, byte[] codes, float[] scales, byte[] zeros) {
    public int maxCode() {
        return (1 << bits) - 1;
    }

    public int group(int position) {
        return position / groupSize;
    }

    public int code(int position, int row) {
        return codes[position * rows + row] & 0xff;
    }

    /** The dequantized matrix, rows×columns with columns in processing order. */
    public float[] dequantize() {
        float[] q = new float[rows * columns];
        for (int p = 0; p < columns; p++) {
            int g = group(p) * rows;
            for (int r = 0; r < rows; r++) q[r * columns + p] = scales[g + r] * (code(p, r) - (zeros[g + r] & 0xff));
        }
        return q;
    }
}
