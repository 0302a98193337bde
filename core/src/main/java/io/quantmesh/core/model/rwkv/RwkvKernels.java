package io.quantmesh.core.model.rwkv;

/**
 * The inner loops of the RWKV forward pass, as an interface with two implementations: {@link #vector()} (Vector API)
 * and {@link #reference()} (plain Java, the readable twin the vector one is tested against).
 *
 * <p>All arrays are row-major; {@code off} arguments address one head's N channels of one sequence. The vector
 * kernels use only operations whose results are fixed by IEEE 754 (add, multiply, fused multiply-add, divide,
 * conversions), never horizontal reductions or library transcendentals, so they return the same bits whether the
 * JIT has compiled them or not, whatever the batch size.
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
     * One RWKV-7 step of one head (the generalized delta rule; the caller passes a = -kk and b = kk * a). State
     * {@code s[j][i]} (key j, value i), i.e. the transpose of RWKV-LM's value x key matrix S:
     * {@code sa[i] = sum_j a[j] s[j][i]} (S a), {@code s[j][i] = s[j][i] w[j] + k[j] v[i] + b[j] sa[i]}
     * (S diag(w) + S a b^T + v k^T), then {@code out[i] = sum_j r[j] s[j][i]} (S r). All vectors at {@code off};
     * {@code tmp} holds sa (n floats at {@code off}). Key-major, so every loop runs along contiguous values and
     * nothing needs a horizontal reduction (whose order could differ between the JIT tiers).
     */
    void wkv7(float[] s, int so, float[] r, float[] w, float[] k, float[] v, float[] a, float[] b,
              float[] out, int off, float[] tmp, int n);

    /** {@code x[i] = exp(x[i])} for {@code i < n}. */
    void exp(float[] x, int n);

    /** {@code x[i] = 1 / (1 + exp(-x[i]))} for {@code i < n}. */
    void sigmoid(float[] x, int n);

    /** {@code x[i] = tanh(x[i])} for {@code i < n}. */
    void tanh(float[] x, int n);

    static RwkvKernels vector() {
        return VectorRwkvKernels.INSTANCE;
    }

    static RwkvKernels reference() {
        return ReferenceRwkvKernels.INSTANCE;
    }
}
