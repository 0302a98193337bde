package io.quantmesh.core.model.rwkv;

/** Plain-Java twin of {@link VectorRwkvKernels}: the formulas exactly as documented on {@link RwkvKernels}. */
final class ReferenceRwkvKernels implements RwkvKernels {
    static final ReferenceRwkvKernels INSTANCE = new ReferenceRwkvKernels();

    private ReferenceRwkvKernels() {}

    @Override
    public void matmul(float[] x, int rows, int in, float[] wt, int out, float[] y) {
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                float sum = 0;
                for (int i = 0; i < in; i++) sum += x[r * in + i] * wt[i * out + o];
                y[r * out + o] = sum;
            }
        }
    }

    @Override
    public void wkv5(float[] s, int so, float[] r, float[] k, float[] v, float[] out, int off,
                     float[] w, int wOff, float[] u, int uOff, int n) {
        for (int j = 0; j < n; j++) out[off + j] = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                int at = so + i * n + j;
                float kv = k[off + i] * v[off + j];
                out[off + j] += r[off + i] * (u[uOff + i] * kv + s[at]);
                s[at] = s[at] * w[wOff + i] + kv;
            }
        }
    }

    @Override
    public void wkv7(float[] s, int so, float[] r, float[] w, float[] k, float[] v, float[] a, float[] b,
                     float[] out, int off, int n) {
        for (int i = 0; i < n; i++) {
            int row = so + i * n;
            float sa = 0;
            for (int j = 0; j < n; j++) sa += s[row + j] * a[off + j];
            float o = 0;
            for (int j = 0; j < n; j++) {
                s[row + j] = s[row + j] * w[off + j] + v[off + i] * k[off + j] + sa * b[off + j];
                o += s[row + j] * r[off + j];
            }
            out[off + i] = o;
        }
    }
}
