package io.quantmesh.quant;

/**
 * Codes of a vector-quantized matrix in VPTQ's channel-independent layout: vector k of column position p covers
 * rows [k·v, k·v + v) (the last one zero-padded when rows is not a multiple of v).
 *
 * @param codes            {@code [position][vector]}, {@code vectorsPerColumn = ceil(rows / v)} per position
 * @param outlierPositions positions coded with the outlier codebook, or null when there is none
 */
public record VectorCodes(int rows, int columns, int dimension, int[] codes, boolean[] outlierPositions) {
    public boolean isOutlier(int position) {
        return outlierPositions != null && outlierPositions[position];
    }

    public int vectorsPerColumn() {
        return (rows + dimension - 1) / dimension;
    }

    public int code(int position, int vector) {
        return codes[position * vectorsPerColumn() + vector];
    }

    /** The dequantized matrix, rows×columns with columns in processing order, padding dropped. */
    public float[] dequantize(VectorCoder coder) {
        return dequantize(coder, null);
    }

    /** As {@link #dequantize(VectorCoder)}, outlier positions decoded with {@code outlierCoder}. */
    public float[] dequantize(VectorCoder coder, VectorCoder outlierCoder) {
        int v = dimension, per = vectorsPerColumn();
        float[] q = new float[rows * columns], buf = new float[v];
        for (int p = 0; p < columns; p++) {
            for (int k = 0; k < per; k++) {
                (isOutlier(p) ? outlierCoder : coder).decode(codes[p * per + k], buf, 0);
                for (int i = 0; i < v && k * v + i < rows; i++) q[(k * v + i) * columns + p] = buf[i];
            }
        }
        return q;
    }
}
