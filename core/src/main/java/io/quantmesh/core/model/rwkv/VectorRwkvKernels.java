package io.quantmesh.core.model.rwkv;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Vector API implementation of {@link RwkvKernels}; scalar tails repeat the vector lanes' exact steps. */
final class VectorRwkvKernels implements RwkvKernels {
    static final VectorRwkvKernels INSTANCE = new VectorRwkvKernels();
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorRwkvKernels() {}

    @Override
    public void matmul(float[] x, int rows, int in, float[] wt, int out, float[] y) {
        int r = 0;
        for (; r + 1 < rows; r += 2) {
            int o = blocks2(x, r * in, (r + 1) * in, in, wt, out, y, r * out, (r + 1) * out);
            tail(x, r * in, in, wt, out, y, r * out, o);
            tail(x, (r + 1) * in, in, wt, out, y, (r + 1) * out, o);
        }
        if (r < rows) tail(x, r * in, in, wt, out, y, r * out, blocks1(x, r * in, in, wt, out, y, r * out));
    }

    /**
     * Outputs [0, 4L*k) of two rows at once: each weight vector load feeds both rows. Every output is the same
     * chain of FMAs over i as in {@link #blocks1}, so pairing does not change a single bit.
     */
    private static int blocks2(float[] x, int x0, int x1, int in, float[] wt, int out, float[] y, int y0, int y1) {
        int o = 0;
        for (; o + 4 * L <= out; o += 4 * L) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int i = 0, w = o; i < in; i++, w += out) {
                FloatVector p = FloatVector.broadcast(S, x[x0 + i]), q = FloatVector.broadcast(S, x[x1 + i]);
                FloatVector w0 = FloatVector.fromArray(S, wt, w), w1 = FloatVector.fromArray(S, wt, w + L);
                FloatVector w2 = FloatVector.fromArray(S, wt, w + 2 * L), w3 = FloatVector.fromArray(S, wt, w + 3 * L);
                a0 = w0.fma(p, a0);
                a1 = w1.fma(p, a1);
                a2 = w2.fma(p, a2);
                a3 = w3.fma(p, a3);
                b0 = w0.fma(q, b0);
                b1 = w1.fma(q, b1);
                b2 = w2.fma(q, b2);
                b3 = w3.fma(q, b3);
            }
            a0.intoArray(y, y0 + o);
            a1.intoArray(y, y0 + o + L);
            a2.intoArray(y, y0 + o + 2 * L);
            a3.intoArray(y, y0 + o + 3 * L);
            b0.intoArray(y, y1 + o);
            b1.intoArray(y, y1 + o + L);
            b2.intoArray(y, y1 + o + 2 * L);
            b3.intoArray(y, y1 + o + 3 * L);
        }
        for (; o + 2 * L <= out; o += 2 * L) {  // narrow outputs (low-rank projections): still 4 FMA chains
            FloatVector a0 = FloatVector.zero(S), a1 = a0, b0 = a0, b1 = a0;
            for (int i = 0, w = o; i < in; i++, w += out) {
                FloatVector p = FloatVector.broadcast(S, x[x0 + i]), q = FloatVector.broadcast(S, x[x1 + i]);
                FloatVector w0 = FloatVector.fromArray(S, wt, w), w1 = FloatVector.fromArray(S, wt, w + L);
                a0 = w0.fma(p, a0);
                a1 = w1.fma(p, a1);
                b0 = w0.fma(q, b0);
                b1 = w1.fma(q, b1);
            }
            a0.intoArray(y, y0 + o);
            a1.intoArray(y, y0 + o + L);
            b0.intoArray(y, y1 + o);
            b1.intoArray(y, y1 + o + L);
        }
        return o;
    }

    /** Outputs [0, 4L*k) of one row; returns where they stop. */
    private static int blocks1(float[] x, int xr, int in, float[] wt, int out, float[] y, int yr) {
        int o = 0;
        for (; o + 4 * L <= out; o += 4 * L) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int i = 0, w = o; i < in; i++, w += out) {
                FloatVector xi = FloatVector.broadcast(S, x[xr + i]);
                a0 = FloatVector.fromArray(S, wt, w).fma(xi, a0);
                a1 = FloatVector.fromArray(S, wt, w + L).fma(xi, a1);
                a2 = FloatVector.fromArray(S, wt, w + 2 * L).fma(xi, a2);
                a3 = FloatVector.fromArray(S, wt, w + 3 * L).fma(xi, a3);
            }
            a0.intoArray(y, yr + o);
            a1.intoArray(y, yr + o + L);
            a2.intoArray(y, yr + o + 2 * L);
            a3.intoArray(y, yr + o + 3 * L);
        }
        return o;
    }

    /** Outputs [o, out) of one row: single vectors, then scalars. */
    private static void tail(float[] x, int xr, int in, float[] wt, int out, float[] y, int yr, int o) {
        for (; o + L <= out; o += L) {
            FloatVector acc = FloatVector.zero(S);
            for (int i = 0, w = o; i < in; i++, w += out) {
                acc = FloatVector.fromArray(S, wt, w).fma(FloatVector.broadcast(S, x[xr + i]), acc);
            }
            acc.intoArray(y, yr + o);
        }
        for (; o < out; o++) {
            float acc = 0;
            for (int i = 0, w = o; i < in; i++, w += out) acc = Math.fma(wt[w], x[xr + i], acc);
            y[yr + o] = acc;
        }
    }

    @Override
    public void wkv5(float[] s, int so, float[] r, float[] k, float[] v, float[] out, int off,
                     float[] w, int wOff, float[] u, int uOff, int n) {
        for (int j = 0; j < n; j++) out[off + j] = 0;
        int bound = n - n % L;
        for (int i = 0; i < n; i++) {
            float ri = r[off + i], ki = k[off + i], ui = u[uOff + i], wi = w[wOff + i];
            int row = so + i * n, j = 0;
            FloatVector uv = FloatVector.broadcast(S, ui), rv = FloatVector.broadcast(S, ri);
            FloatVector wv = FloatVector.broadcast(S, wi);
            for (; j < bound; j += L) {
                FloatVector kv = FloatVector.fromArray(S, v, off + j).mul(ki);
                FloatVector st = FloatVector.fromArray(S, s, row + j);
                kv.fma(uv, st).fma(rv, FloatVector.fromArray(S, out, off + j)).intoArray(out, off + j);
                st.fma(wv, kv).intoArray(s, row + j);
            }
            for (; j < n; j++) {
                float kv = ki * v[off + j];
                out[off + j] = Math.fma(Math.fma(kv, ui, s[row + j]), ri, out[off + j]);
                s[row + j] = Math.fma(s[row + j], wi, kv);
            }
        }
    }

    @Override
    public void wkv7(float[] s, int so, float[] r, float[] w, float[] k, float[] v, float[] a, float[] b,
                     float[] out, int off, float[] tmp, int n) {
        int bound = n - n % L;
        for (int i = 0; i < n; i++) {
            tmp[off + i] = 0;
            out[off + i] = 0;
        }
        for (int j = 0; j < n; j++) {  // sa = S a, accumulated along rows of the key-major state
            FloatVector aj = FloatVector.broadcast(S, a[off + j]);
            int row = so + j * n, i = 0;
            for (; i < bound; i += L) {
                FloatVector.fromArray(S, s, row + i).fma(aj, FloatVector.fromArray(S, tmp, off + i)).intoArray(tmp, off + i);
            }
            for (; i < n; i++) tmp[off + i] = Math.fma(s[row + i], a[off + j], tmp[off + i]);
        }
        for (int j = 0; j < n; j++) {
            float wj = w[off + j], kj = k[off + j], bj = b[off + j], rj = r[off + j];
            FloatVector wv = FloatVector.broadcast(S, wj), kv = FloatVector.broadcast(S, kj);
            FloatVector bv = FloatVector.broadcast(S, bj), rv = FloatVector.broadcast(S, rj);
            int row = so + j * n, i = 0;
            for (; i < bound; i += L) {
                FloatVector st = FloatVector.fromArray(S, s, row + i).mul(wv);
                st = FloatVector.fromArray(S, v, off + i).fma(kv, st);
                st = FloatVector.fromArray(S, tmp, off + i).fma(bv, st);
                st.intoArray(s, row + i);
                st.fma(rv, FloatVector.fromArray(S, out, off + i)).intoArray(out, off + i);
            }
            for (; i < n; i++) {
                float st = Math.fma(tmp[off + i], bj, Math.fma(v[off + i], kj, s[row + i] * wj));
                s[row + i] = st;
                out[off + i] = Math.fma(st, rj, out[off + i]);
            }
        }
    }

    // exp by Cody-Waite range reduction and the Cephes expf polynomial (about 1 ulp): only IEEE-exact steps, unlike
    // VectorOperators.EXP, whose intrinsic and interpreted fallback disagree in the last bits.
    private static final float EXP_LO = -87.33654f, EXP_HI = 88.0f, LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f, ROUND = 12582912f; // 1.5 * 2^23
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    static FloatVector exp(FloatVector x) {
        x = x.max(EXP_LO).min(EXP_HI);
        FloatVector n = x.mul(LOG2E).add(ROUND).sub(ROUND);  // round to nearest
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), x);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = r.fma(P0, P1);
        p = p.fma(r, FloatVector.broadcast(S, P2));
        p = p.fma(r, FloatVector.broadcast(S, P3));
        p = p.fma(r, FloatVector.broadcast(S, P4));
        p = p.fma(r, FloatVector.broadcast(S, P5));
        p = p.fma(r.mul(r), r).add(1f);
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(bits.reinterpretAsFloats());
    }

    /** The same steps on one float (for loop tails), so every element gets identical bits. */
    static float exp(float x) {
        x = Math.min(Math.max(x, EXP_LO), EXP_HI);
        float n = x * LOG2E + ROUND - ROUND;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, P0, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        p = Math.fma(p, r * r, r) + 1f;
        return p * Float.intBitsToFloat(((int) n + 127) << 23);
    }

    @Override
    public void exp(float[] x, int n) {
        int i = 0;
        for (; i < S.loopBound(n); i += L) exp(FloatVector.fromArray(S, x, i)).intoArray(x, i);
        for (; i < n; i++) x[i] = exp(x[i]);
    }

    @Override
    public void sigmoid(float[] x, int n) {
        int i = 0;
        for (; i < S.loopBound(n); i += L) {
            FloatVector e = exp(FloatVector.fromArray(S, x, i).neg());
            FloatVector.broadcast(S, 1f).div(e.add(1f)).intoArray(x, i);
        }
        for (; i < n; i++) x[i] = 1f / (exp(-x[i]) + 1f);
    }

    // tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|); below |x| = 2^-4 the odd Taylor series, which keeps
    // the relative error small where 1 - e would cancel.
    private static final float TANH_SMALL = 0.0625f, T3 = -1f / 3, T5 = 2f / 15, T7 = -17f / 315;

    @Override
    public void tanh(float[] x, int n) {
        int i = 0;
        for (; i < S.loopBound(n); i += L) {
            FloatVector v = FloatVector.fromArray(S, x, i), ax = v.abs();
            FloatVector e = exp(ax.mul(-2f));
            FloatVector big = FloatVector.broadcast(S, 1f).sub(e).div(e.add(1f));
            big = big.blend(big.neg(), v.compare(VectorOperators.LT, 0f));
            FloatVector z = v.mul(v);
            FloatVector small = z.fma(T7, T5).fma(z, FloatVector.broadcast(S, T3)).mul(z).fma(v, v);
            big.blend(small, ax.compare(VectorOperators.LT, TANH_SMALL)).intoArray(x, i);
        }
        for (; i < n; i++) x[i] = tanh(x[i]);
    }

    static float tanh(float x) {
        float ax = Math.abs(x);
        if (ax < TANH_SMALL) {
            float z = x * x;
            return Math.fma(Math.fma(Math.fma(z, T7, T5), z, T3) * z, x, x);
        }
        float e = exp(ax * -2f);
        float t = (1f - e) / (e + 1f);
        return x < 0 ? -t : t;
    }
}
