package io.quantmesh.core.model.rwkv;

/**
 * The inner loops of the RWKV forward pass, as an interface with two implementations: {@link #vector()} (Vector API)
 * and {@link #reference()} (plain Java, the readable twin the vector one is tested against).
 *
 * <p>All arrays are row-major; {@code off} arguments address one head's N channels of one sequence.
 */
public interface RwkvKernels {

    /**
     * {@code y[r][o] = sum_i x[r][i] * wt[i][o]} for {@code r < rows}: x is rows x in, {@code wt} is the transposed
     * weight (in x out, so the inner loop runs along contiguous outputs), y is rows x out. Each row is computed the
     * same way whatever {@code rows} is, so batched and one-at-a-time results are bit-identical.
     */
    void matmul(float[] x, int rows, int in, float[] wt, int out, float[] y);

    /**
     * One RWKV-5/6 step of one head. State {@code s[i][j]} (key i, value j, N x N at {@code so}):
     * {@code out[j] = sum_i r[i] * (u[i] k[i] v[j] + s[i][j])}, then {@code s[i][j] = w[i] s[i][j] + k[i] v[j]}.
     * r, k, v, out at {@code off}; decay w at {@code wOff}; bonus u at {@code uOff}.
     */
    void wkv5(float[] s, int so, float[] r, float[] k, float[] v, float[] out, int off,
              float[] w, int wOff, float[] u, int uOff, int n);

    /**
     * One RWKV-7 step of one head. State {@code s[i][j]} (value i, key j):
     * {@code s[i][j] = s[i][j] w[j] + v[i] k[j] + (sum_l s[i][l] a[l]) b[j]}, then {@code out[i] = sum_j s[i][j] r[j]}
     * (the generalized delta rule, with a = -kk and b = kk * a from the caller). All vectors at {@code off}.
     */
    void wkv7(float[] s, int so, float[] r, float[] w, float[] k, float[] v, float[] a, float[] b,
              float[] out, int off, int n);

    static RwkvKernels vector() {
        return VectorRwkvKernels.INSTANCE;
    }

    static RwkvKernels reference() {
        return ReferenceRwkvKernels.INSTANCE;
    }
}
