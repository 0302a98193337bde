package io.quantmesh.core.model.rwkv;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Vector API implementation of {@link RwkvKernels}; scalar tails use the same fused multiply-adds. */
final class VectorRwkvKernels implements RwkvKernels {
    static final VectorRwkvKernels INSTANCE = new VectorRwkvKernels();
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorRwkvKernels() {}

    @Override
    public void matmul(float[] x, int rows, int in, float[] wt, int out, float[] y) {
        for (int r = 0; r < rows; r++) {
            int xr = r * in, yr = r * out, o = 0;
            // Four accumulators per input broadcast: enough independent FMAs to hide their latency.
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
                     float[] out, int off, int n) {
        int bound = n - n % L;
        for (int i = 0; i < n; i++) {
            int row = so + i * n, j = 0;
            FloatVector acc = FloatVector.zero(S);
            for (; j < bound; j += L) {
                acc = FloatVector.fromArray(S, s, row + j).fma(FloatVector.fromArray(S, a, off + j), acc);
            }
            float sa = acc.reduceLanes(VectorOperators.ADD);
            for (; j < n; j++) sa = Math.fma(s[row + j], a[off + j], sa);
            float vi = v[off + i];
            FloatVector o = FloatVector.zero(S);
            FloatVector viv = FloatVector.broadcast(S, vi), sav = FloatVector.broadcast(S, sa);
            for (j = 0; j < bound; j += L) {
                FloatVector st = FloatVector.fromArray(S, s, row + j).mul(FloatVector.fromArray(S, w, off + j));
                st = FloatVector.fromArray(S, k, off + j).fma(viv, st);
                st = FloatVector.fromArray(S, b, off + j).fma(sav, st);
                st.intoArray(s, row + j);
                o = st.fma(FloatVector.fromArray(S, r, off + j), o);
            }
            float oi = o.reduceLanes(VectorOperators.ADD);
            for (; j < n; j++) {
                float st = Math.fma(b[off + j], sa, Math.fma(k[off + j], vi, s[row + j] * w[off + j]));
                s[row + j] = st;
                oi = Math.fma(st, r[off + j], oi);
            }
            out[off + i] = oi;
        }
    }
}
