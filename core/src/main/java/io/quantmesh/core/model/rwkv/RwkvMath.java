package io.quantmesh.core.model.rwkv;

/** Small element-wise steps shared by the RWKV blocks (norms in double accumulators, as ggml does). */
final class RwkvMath {
    private RwkvMath() {}

    /** LayerNorm of each of {@code rows} rows of width c: {@code dst = (src - mean) / sqrt(var + eps) * w + b}. */
    static void layerNorm(float[] src, float[] dst, int rows, int c, float[] w, float[] b, double eps) {
        for (int r = 0; r < rows; r++) normalize(src, dst, r * c, c, w, b, 0, eps);
    }

    /** GroupNorm with one group per head of n channels, in place over rows x c. */
    static void groupNorm(float[] x, int rows, int c, int n, float[] w, float[] b, double eps) {
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < c; h += n) normalize(x, x, r * c + h, n, w, b, h, eps);
        }
    }

    private static void normalize(float[] src, float[] dst, int off, int n, float[] w, float[] b, int wOff, double eps) {
        double sum = 0;
        for (int i = 0; i < n; i++) sum += src[off + i];
        float mean = (float) (sum / n);
        double sq = 0;
        for (int i = 0; i < n; i++) {
            float d = src[off + i] - mean;
            sq += d * d;
        }
        float scale = (float) (1.0 / Math.sqrt(sq / n + eps));
        for (int i = 0; i < n; i++) dst[off + i] = (src[off + i] - mean) * scale * w[wOff + i] + b[wOff + i];
    }

    /** {@code b.xn = layerNorm(b.x)}, then the token shift of b.xn into {@code b.sx} against the state at so. */
    static void normAndShift(RwkvBatch b, RwkvState[] states, int so, float[] w, float[] bias, double eps,
                             int rows, int c) {
        layerNorm(b.x, b.xn, rows, c, w, bias, eps);
        shift(b.xn, states, so, b.sx, rows, c);
    }

    /**
     * Token shift: {@code sx = prev - x} per row, where prev is the row's state vector at {@code stateOff}, which then
     * becomes x (the input of the next token).
     */
    static void shift(float[] x, RwkvState[] states, int so, float[] sx, int rows, int c) {
        for (int r = 0; r < rows; r++) {
            float[] s = states[r].data;
            for (int i = 0; i < c; i++) {
                sx[r * c + i] = s[so + i] - x[r * c + i];
                s[so + i] = x[r * c + i];
            }
        }
    }

    /** {@code dst = x + sx * mu}: interpolation between the token and its predecessor, one amount per channel. */
    static void mix(float[] x, float[] sx, float[] mu, float[] dst, int rows, int c) {
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < c; i++) dst[r * c + i] = x[r * c + i] + sx[r * c + i] * mu[i];
        }
    }

    /** Row-major transpose of a rows x cols matrix (weights are stored out x in, the kernels read in x out). */
    static float[] transpose(float[] m, int rows, int cols) {
        float[] t = new float[m.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) t[j * rows + i] = m[i * cols + j];
        }
        return t;
    }

    static void reluSquare(float[] x, int n) {
        for (int i = 0; i < n; i++) {
            float v = Math.max(x[i], 0f);
            x[i] = v * v;
        }
    }

    /** {@code x[r][j] *= scale[j]} over rows x c. */
    static void scale(float[] x, float[] scale, int rows, int c) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < c; j++) x[r * c + j] *= scale[j];
        }
    }

    /** {@code x[r][j] += bias[j]} over rows x c. */
    static void addBias(float[] x, float[] bias, int rows, int c) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < c; j++) x[r * c + j] += bias[j];
        }
    }

    /** {@code exp(-exp(x))}: the RWKV-5/6 decay in (0, 1) from its raw log-log parameter. */
    static float decay(float raw) {
        return (float) Math.exp(-Math.exp(raw));
    }

    static void add(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) x[i] += y[i];
    }
}
