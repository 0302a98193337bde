package io.quantmesh.core.linalg;

import java.util.Objects;

/**
 * A strided row-major window onto a {@code double[]}: element (i, j) lives at
 * {@code data[offset + i * stride + j]}. The double twin of {@link FloatMatrix}.
 */
public record DoubleMatrix(double[] data, int offset, int rows, int cols, int stride) {
    public DoubleMatrix {
        Objects.requireNonNull(data, "data");
        FloatMatrix.checkWindow(data.length, offset, rows, cols, stride);
    }

    /** The whole of a dense rows×cols array. */
    public static DoubleMatrix of(double[] data, int rows, int cols) {
        return new DoubleMatrix(data, 0, rows, cols, cols);
    }

    /** The sub-window of {@code rows×cols} starting at (r0, c0). */
    public DoubleMatrix window(int r0, int c0, int rows, int cols) {
        if (r0 < 0 || c0 < 0 || r0 + rows > this.rows || c0 + cols > this.cols) {
            throw new IndexOutOfBoundsException("window (" + r0 + "," + c0 + ")+" + rows + "x" + cols
                    + " outside " + this.rows + "x" + this.cols);
        }
        return new DoubleMatrix(data, offset + r0 * stride + c0, rows, cols, stride);
    }

    /** A new dense cols×rows array holding the transpose of this window (in 32×32 tiles, for the caches). */
    public double[] transposed() {
        double[] t = new double[rows * cols];
        for (int i0 = 0; i0 < rows; i0 += 32) {
            for (int j0 = 0; j0 < cols; j0 += 32) {
                for (int i = i0; i < Math.min(rows, i0 + 32); i++) {
                    for (int j = j0; j < Math.min(cols, j0 + 32); j++) t[j * rows + i] = data[offset + i * stride + j];
                }
            }
        }
        return t;
    }

    public double get(int i, int j) {
        return data[offset + i * stride + j];
    }

    public void set(int i, int j, double v) {
        data[offset + i * stride + j] = v;
    }
}
