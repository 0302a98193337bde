package io.quantmesh.core.model.rwkv;

/**
 * An independent, deliberately naive transcription of the RWKV-LM reference formulas (the v5/v6/v7 RNN-mode demos)
 * in double precision, one token at a time, straight from the canonical weights. It shares no code with the runtime:
 * matrices are used as out x in without transposing, states are kept as [head][value][key] matrices (the runtime
 * keeps v5/v6 states as key x value), and every activation is written out inline.
 */
final class TextbookRwkv {
    private final RwkvWeights w;
    private final RwkvConfig c;
    private final int C, H, N;
    private final double[][] attPrev, ffnPrev;
    private final double[][][][] state; // [layer][head][value i][key j]

    TextbookRwkv(RwkvWeights w) {
        this.w = w;
        this.c = w.config();
        C = c.hiddenSize();
        H = c.numHeads();
        N = c.headSize();
        attPrev = new double[c.numLayers()][C];
        ffnPrev = new double[c.numLayers()][C];
        state = new double[c.numLayers()][H][N][N];
    }

    double[] forward(int token) {
        double[] emb = vec("emb.weight");
        double[] x = new double[C];
        System.arraycopy(emb, token * C, x, 0, C);
        x = layerNorm(x, "blocks.0.ln0");
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "blocks." + l + ".";
            double[] xa = layerNorm(x, p + "ln1");
            double[] att = switch (c.version()) {
                case V5_1, V5_2 -> att5(l, p + "att.", xa);
                case V6 -> att6(l, p + "att.", xa);
                case V7 -> att7(l, p + "att.", xa);
            };
            attPrev[l] = xa;
            for (int i = 0; i < C; i++) x[i] += att[i];
            double[] xf = layerNorm(x, p + "ln2");
            double[] ffn = ffn(l, p + "ffn.", xf);
            ffnPrev[l] = xf;
            for (int i = 0; i < C; i++) x[i] += ffn[i];
        }
        return matvec("head.weight", layerNorm(x, "ln_out"));
    }

    private double[] v7First;

    private double[] att5(int l, String a, double[] x) {
        boolean v52 = c.version() == RwkvVersion.V5_2;
        double[] sx = attPrev[l];
        double[] xk = lerp(x, sx, vec(a + "time_mix_k")), xv = lerp(x, sx, vec(a + "time_mix_v"));
        double[] xr = lerp(x, sx, vec(a + "time_mix_r"));
        double[] r = matvec(a + "receptance.weight", xr), k = matvec(a + "key.weight", xk);
        double[] v = matvec(a + "value.weight", xv);
        double[] decay = vec(a + "time_decay"), bonus = vec(a + (v52 ? "time_faaaa" : "time_first"));
        double[] out = new double[C];
        for (int h = 0; h < H; h++) {
            double[][] s = state[l][h];
            for (int j = 0; j < N; j++) {         // key
                int kj = h * N + j;
                double wj = Math.exp(-Math.exp(v52 ? decay[kj] : decay[h]));
                double uj = v52 ? bonus[kj] : Math.exp(bonus[h]);
                for (int i = 0; i < N; i++) {     // value
                    double kv = k[kj] * v[h * N + i];
                    out[h * N + i] += r[kj] * (uj * kv + s[i][j]);
                    s[i][j] = s[i][j] * wj + kv;
                }
            }
        }
        out = groupNorm(out, a + "ln_x");
        if (v52) {
            double[] g = matvec(a + "gate.weight", lerp(x, sx, vec(a + "time_mix_g")));
            for (int i = 0; i < C; i++) out[i] *= g[i] / (1 + Math.exp(-g[i]));
        }
        return matvec(a + "output.weight", out);
    }

    /** RWKV-5 style interpolation {@code x * m + prev * (1 - m)}. */
    private double[] lerp(double[] x, double[] prev, double[] m) {
        double[] o = new double[C];
        for (int i = 0; i < C; i++) o[i] = x[i] * m[i] + prev[i] * (1 - m[i]);
        return o;
    }

    private double[] att6(int l, String a, double[] x) {
        double[] sx = new double[C];
        for (int i = 0; i < C; i++) sx[i] = attPrev[l][i] - x[i];
        double[] xxx = new double[C];
        double[] maaX = vec(a + "time_maa_x");
        for (int i = 0; i < C; i++) xxx[i] = x[i] + sx[i] * maaX[i];
        double[] hidden = matvec(a + "time_maa_w1", xxx);
        int d = hidden.length / 5;
        double[] w2 = vec(a + "time_maa_w2"); // [5][C][d]
        String[] names = {"w", "k", "v", "r", "g"};
        double[][] mixed = new double[5][C];
        for (int m = 0; m < 5; m++) {
            double[] maa = vec(a + "time_maa_" + names[m]);
            for (int i = 0; i < C; i++) {
                double lora = 0;
                for (int q = 0; q < d; q++) lora += w2[(m * C + i) * d + q] * Math.tanh(hidden[m * d + q]);
                mixed[m][i] = x[i] + sx[i] * (maa[i] + lora);
            }
        }
        double[] r = matvec(a + "receptance.weight", mixed[3]), k = matvec(a + "key.weight", mixed[1]);
        double[] v = matvec(a + "value.weight", mixed[2]), g = matvec(a + "gate.weight", mixed[4]);
        double[] dh = matvec(a + "time_decay_w1", mixed[0]);
        for (int i = 0; i < dh.length; i++) dh[i] = Math.tanh(dh[i]);
        double[] dw = matvec(a + "time_decay_w2", dh), base = vec(a + "time_decay"), u = vec(a + "time_faaaa");
        double[] out = new double[C];
        for (int h = 0; h < H; h++) {
            double[][] s = state[l][h];
            for (int j = 0; j < N; j++) {
                int kj = h * N + j;
                double wj = Math.exp(-Math.exp(base[kj] + dw[kj]));
                for (int i = 0; i < N; i++) {
                    double kv = k[kj] * v[h * N + i];
                    out[h * N + i] += r[kj] * (u[kj] * kv + s[i][j]);
                    s[i][j] = s[i][j] * wj + kv;
                }
            }
        }
        out = groupNorm(out, a + "ln_x");
        for (int i = 0; i < C; i++) out[i] *= g[i] / (1 + Math.exp(-g[i]));
        return matvec(a + "output.weight", out);
    }

    private double[] att7(int l, String a, double[] x) {
        double[] sx = new double[C];
        for (int i = 0; i < C; i++) sx[i] = attPrev[l][i] - x[i];
        double[] xr = shift(x, sx, a + "x_r"), xw = shift(x, sx, a + "x_w"), xk = shift(x, sx, a + "x_k");
        double[] xv = shift(x, sx, a + "x_v"), xa = shift(x, sx, a + "x_a"), xg = shift(x, sx, a + "x_g");
        double[] r = matvec(a + "receptance.weight", xr), k = matvec(a + "key.weight", xk);
        double[] v = matvec(a + "value.weight", xv);
        double[] wl = matvec(a + "w1", xw);
        for (int i = 0; i < wl.length; i++) wl[i] = Math.tanh(wl[i]);
        double[] wRaw = add(matvec(a + "w2", wl), vec(a + "w0"));
        double[] decay = new double[C];
        for (int i = 0; i < C; i++) {
            double softplusNeg = Math.log1p(Math.exp(-wRaw[i]));     // w = -softplus(-raw) - 0.5
            decay[i] = Math.exp(-Math.exp(-softplusNeg - 0.5));
        }
        double[] aa = add(matvec(a + "a2", matvec(a + "a1", xa)), vec(a + "a0"));
        for (int i = 0; i < C; i++) aa[i] = 1 / (1 + Math.exp(-aa[i]));
        double[] gl = matvec(a + "g1", xg);
        for (int i = 0; i < gl.length; i++) gl[i] = 1 / (1 + Math.exp(-gl[i]));
        double[] g = matvec(a + "g2", gl);
        if (l == 0) {
            v7First = v.clone();
        } else {
            double[] gate = add(matvec(a + "v2", matvec(a + "v1", xv)), vec(a + "v0"));
            for (int i = 0; i < C; i++) v[i] = v[i] + (v7First[i] - v[i]) / (1 + Math.exp(-gate[i]));
        }
        double[] kk = new double[C], kK = vec(a + "k_k"), kA = vec(a + "k_a");
        for (int i = 0; i < C; i++) kk[i] = k[i] * kK[i];
        for (int h = 0; h < H; h++) {
            double norm = 0;
            for (int j = 0; j < N; j++) norm += kk[h * N + j] * kk[h * N + j];
            norm = Math.max(Math.sqrt(norm), 1e-12);
            for (int j = 0; j < N; j++) kk[h * N + j] /= norm;
        }
        for (int i = 0; i < C; i++) k[i] = k[i] * (1 + (aa[i] - 1) * kA[i]);
        double[] out = new double[C];
        for (int h = 0; h < H; h++) {
            double[][] s = state[l][h];
            // state = state * w + state @ ((-kk)^T (kk * a)) + v^T k; out = state @ r
            double[][] next = new double[N][N];
            for (int i = 0; i < N; i++) {
                double sa = 0;
                for (int q = 0; q < N; q++) sa += s[i][q] * -kk[h * N + q];
                for (int j = 0; j < N; j++) {
                    int hj = h * N + j;
                    next[i][j] = s[i][j] * decay[hj] + sa * kk[hj] * aa[hj] + v[h * N + i] * k[hj];
                }
            }
            state[l][h] = next;
            for (int i = 0; i < N; i++) {
                for (int j = 0; j < N; j++) out[h * N + i] += next[i][j] * r[h * N + j];
            }
        }
        out = groupNorm(out, a + "ln_x");
        double[] rK = vec(a + "r_k");
        for (int h = 0; h < H; h++) {
            double dot = 0;
            for (int j = 0; j < N; j++) dot += r[h * N + j] * k[h * N + j] * rK[h * N + j];
            for (int j = 0; j < N; j++) out[h * N + j] += dot * v[h * N + j];
        }
        for (int i = 0; i < C; i++) out[i] *= g[i];
        return matvec(a + "output.weight", out);
    }

    private double[] ffn(int l, String f, double[] x) {
        double[] sx = new double[C];
        for (int i = 0; i < C; i++) sx[i] = ffnPrev[l][i] - x[i];
        double[] xk, xr = null;
        switch (c.version()) {
            case V5_1, V5_2 -> {
                xk = lerp(x, ffnPrev[l], vec(f + "time_mix_k"));
                xr = lerp(x, ffnPrev[l], vec(f + "time_mix_r"));
            }
            case V6 -> {
                xk = shift(x, sx, f + "time_maa_k");
                xr = shift(x, sx, f + "time_maa_r");
            }
            default -> xk = shift(x, sx, f + "x_k");
        }
        double[] k = matvec(f + "key.weight", xk);
        for (int i = 0; i < k.length; i++) k[i] = k[i] > 0 ? k[i] * k[i] : 0;
        double[] out = matvec(f + "value.weight", k);
        if (xr != null) {
            double[] r = matvec(f + "receptance.weight", xr);
            for (int i = 0; i < C; i++) out[i] /= 1 + Math.exp(-r[i]);
        }
        return out;
    }

    private double[] shift(double[] x, double[] sx, String mu) {
        double[] m = vec(mu), o = new double[C];
        for (int i = 0; i < C; i++) o[i] = x[i] + sx[i] * m[i];
        return o;
    }

    private static double[] add(double[] a, double[] b) {
        double[] o = new double[a.length];
        for (int i = 0; i < a.length; i++) o[i] = a[i] + b[i];
        return o;
    }

    private double[] layerNorm(double[] x, String p) {
        return norm(x, 0, C, vec(p + ".weight"), vec(p + ".bias"), c.layerNormEps(), new double[C]);
    }

    private double[] groupNorm(double[] x, String p) {
        double[] o = new double[C], wt = vec(p + ".weight"), b = vec(p + ".bias");
        for (int h = 0; h < H; h++) norm(x, h * N, N, wt, b, c.groupNormEps(), o);
        return o;
    }

    private static double[] norm(double[] x, int off, int n, double[] wt, double[] b, double eps, double[] o) {
        double mean = 0, var = 0;
        for (int i = 0; i < n; i++) mean += x[off + i] / n;
        for (int i = 0; i < n; i++) var += (x[off + i] - mean) * (x[off + i] - mean) / n;
        for (int i = 0; i < n; i++) o[off + i] = (x[off + i] - mean) / Math.sqrt(var + eps) * wt[off + i] + b[off + i];
        return o;
    }

    private double[] matvec(String name, double[] x) {
        double[] m = vec(name);
        int out = m.length / x.length;
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < x.length; i++) y[o] += m[o * x.length + i] * x[i];
        }
        return y;
    }

    private double[] vec(String name) {
        float[] f = w.floats(name);
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }
}
