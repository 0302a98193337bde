package io.quantmesh.core.linalg;

import java.util.Objects;

/**
 * A strided row-major window onto a {@code float[]}: element (i, j) lives at
 * {@code data[offset + i * stride + j]}. Windows never copy, so kernels can work on a block of a larger matrix.
 */
public record FloatMatrix(float[] data, int offset, int rows, int cols, int stride) {
    public FloatMatrix {
        Objects.requireNonNull(data, "data");
        checkWindow(data.length, offset, rows, cols, stride);
    }

    /** The whole of a dense rows×cols array. */
    public static FloatMatrix of(float[] data, int rows, int cols) {
        return new FloatMatrix(data, 0, rows, cols, cols);
    }

    /** The sub-window of {@code rows×cols} starting at (r0, c0). */
    public FloatMatrix window(int r0, int c0, int rows, int cols) {
        if (r0 < 0 || c0 < 0 || r0 + rows > this.rows || c0 + cols > this.cols) {
            throw new IndexOutOfBoundsException("window (" + r0 + "," + c0 + ")+" + rows + "x" + cols
                    + " outside " + this.rows + "x" + this.cols);
        }
        return new FloatMatrix(data, offset + r0 * stride + c0, rows, cols, stride);
    }

    /** A new dense cols×rows array holding the transpose of this window (in 32×32 tiles, for the caches). */
    public float[] transposed() {
        float[] t = new float[rows * cols];
        for (int i0 = 0; i0 < rows; i0 += 32) {
            for (int j0 = 0; j0 < cols; j0 += 32) {
                for (int i = i0; i < Math.min(rows, i0 + 32); i++) {
                    for (int j = j0; j < Math.min(cols, j0 + 32); j++) t[j * rows + i] = data[offset + i * stride + j];
                }
            }
        }
        return t;
    }

    public float get(int i, int j) {
        return data[offset + i * stride + j];
    }

    public void set(int i, int j, float v) {
        data[offset + i * stride + j] = v;
    }

    static void checkWindow(int length, int offset, int rows, int cols, int stride) {
        if (rows < 0 || cols < 0 || offset < 0 || stride < cols) {
            throw new IllegalArgumentException("bad window: offset " + offset + ", " + rows + "x" + cols
                    + ", stride " + stride);
        }
        if (rows > 0 && cols > 0 && offset + (long) (rows - 1) * stride + cols > length) {
            throw new IndexOutOfBoundsException("window " + rows + "x" + cols + " (stride " + stride
                    + ", offset " + offset + ") overruns an array of " + length);
        }
    }
}
