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
                     float[] out, int off, float[] tmp, int n) {
        for (int i = 0; i < n; i++) {
            float sa = 0;
            for (int j = 0; j < n; j++) sa += a[off + j] * s[so + j * n + i];
            tmp[off + i] = sa;
        }
        for (int i = 0; i < n; i++) out[off + i] = 0;
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < n; i++) {
                int at = so + j * n + i;
                s[at] = s[at] * w[off + j] + k[off + j] * v[off + i] + b[off + j] * tmp[off + i];
                out[off + i] += r[off + j] * s[at];
            }
        }
    }

    @Override
    public void exp(float[] x, int n) {
        for (int i = 0; i < n; i++) x[i] = (float) Math.exp(x[i]);
    }

    @Override
    public void sigmoid(float[] x, int n) {
        for (int i = 0; i < n; i++) x[i] = (float) (1 / (1 + Math.exp(-x[i])));
    }

    @Override
    public void tanh(float[] x, int n) {
        for (int i = 0; i < n; i++) x[i] = (float) Math.tanh(x[i]);
    }
}
