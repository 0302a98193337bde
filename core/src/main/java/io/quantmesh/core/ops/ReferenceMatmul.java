package io.quantmesh.core.ops;

/**
 * Plain-Java twin of {@link VectorMatmul}: one scalar multiply-add at a time, in column order. The yardstick the
 * Vector API kernel is tested and benchmarked against.
 */
public final class ReferenceMatmul {
    private ReferenceMatmul() {}

    public static void matmul(Matrix w, float[] x, int tokens, float[] out, KernelPool pool) {
        VectorMatmul.checkShapes(w, x, tokens, out);
        int rows = w.rows(), cols = w.cols();
        pool.forRange(rows, 1, (from, to) -> {
            for (int r = from; r < to; r++) {
                for (int t = 0; t < tokens; t++) {
                    float s = 0f;
                    for (int c = 0; c < cols; c++) s += w.get(r, c) * x[t * cols + c];
                    out[t * rows + r] = s;
                }
            }
        });
    }

    public static void matvec(Matrix w, float[] x, float[] out, KernelPool pool) {
        matmul(w, x, 1, out, pool);
    }
}
