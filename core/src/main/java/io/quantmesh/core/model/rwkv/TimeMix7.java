package io.quantmesh.core.model.rwkv;

/**
 * RWKV-7 ("Goose") time mixing. Per head, with state s (value x key):
 * <pre>
 *   x_i = x + (prev - x) * x_i                                   for i in r, w, k, v, a, g
 *   r = Wr x_r;  k = Wk x_k;  v = Wv x_v
 *   w = exp(-e^-0.5 sigmoid(w0 + w2 tanh(w1 x_w)))               decay in (e^-0.607, 1)
 *   a = sigmoid(a0 + a2 a1 x_a);  g = g2 sigmoid(g1 x_g)
 *   v = v + (v_first - v) sigmoid(v0 + v2 v1 x_v)                 layers > 0; layer 0 sets v_first = v
 *   kk = normalize_heads(k * k_k);  k = k * (1 + (a - 1) k_a)
 *   s = s diag(w) + (s (-kk)) (kk a)^T + v k^T;  out = s r
 *   y = Wo ((groupnorm_heads(out) * ln_x.w + ln_x.b + sum_head(r k r_k) v) * g)
 * </pre>
 */
final class TimeMix7 implements TimeMix {
    private static final double DECAY_SCALE = Math.exp(-0.5);

    private final Common p;
    private final int wRank, aRank, vRank, gRank;
    private final float[] xR, xW, xK, xV, xA, xG;       // token-shift amounts [C]
    private final float[] w0, w1T, w2T;                 // decay: bias [C], w1 [Dw][C], w2 [C][Dw] (transposed)
    private final float[] a0, a1T, a2T;                 // in-context learning rate: [C], [Da][C], [C][Da]
    private final float[] v0, v1T, v2T;                 // value residual gate (null in layer 0): [C], [Dv][C], [C][Dv]
    private final float[] g1T, g2T;                     // output gate: [Dg][C], [C][Dg]
    private final float[] kK, kA, rK;                   // key normalisation scale, key/a mixing [C]; bonus r_k [H][N]

    TimeMix7(RwkvWeights w, int layer) {
        p = Common.load(w, layer, false);
        RwkvConfig.LowRank lr = w.config().lowRank();
        wRank = lr.decay();
        aRank = lr.a();
        vRank = lr.value();
        gRank = lr.gate();
        String at = "blocks." + layer + ".att.";
        xR = w.floats(at + "x_r");
        xW = w.floats(at + "x_w");
        xK = w.floats(at + "x_k");
        xV = w.floats(at + "x_v");
        xA = w.floats(at + "x_a");
        xG = w.floats(at + "x_g");
        w0 = w.floats(at + "w0");
        w1T = TimeMix.transposed(w, at + "w1");
        w2T = TimeMix.transposed(w, at + "w2");
        a0 = w.floats(at + "a0");
        a1T = TimeMix.transposed(w, at + "a1");
        a2T = TimeMix.transposed(w, at + "a2");
        boolean residual = layer > 0;
        v0 = residual ? w.floats(at + "v0") : null;
        v1T = residual ? TimeMix.transposed(w, at + "v1") : null;
        v2T = residual ? TimeMix.transposed(w, at + "v2") : null;
        g1T = TimeMix.transposed(w, at + "g1");
        g2T = TimeMix.transposed(w, at + "g2");
        kK = w.floats(at + "k_k");
        kA = w.floats(at + "k_a");
        rK = w.floats(at + "r_k");
    }

    @Override
    public void forward(RwkvKernels kernels, RwkvBatch b, RwkvState[] states, int rows) {
        int c = p.c(), n = p.n(), rc = rows * c;
        p.normAndShift(b, states, rows);
        RwkvMath.mix(b.xn, b.sx, xR, b.xr, rows, c);
        RwkvMath.mix(b.xn, b.sx, xW, b.xw, rows, c);
        RwkvMath.mix(b.xn, b.sx, xK, b.xk, rows, c);
        RwkvMath.mix(b.xn, b.sx, xV, b.xv, rows, c);
        RwkvMath.mix(b.xn, b.sx, xA, b.xa, rows, c);
        RwkvMath.mix(b.xn, b.sx, xG, b.xg, rows, c);
        p.receptanceKeyValue(kernels, b, rows);

        kernels.matmul(b.xw, rows, c, w1T, wRank, b.lora);
        kernels.tanh(b.lora, rows * wRank);
        kernels.matmul(b.lora, rows, wRank, w2T, c, b.w);
        RwkvMath.addBias(b.w, w0, rows, c);
        kernels.sigmoid(b.w, rc);
        for (int i = 0; i < rc; i++) b.w[i] *= (float) -DECAY_SCALE;
        kernels.exp(b.w, rc);

        kernels.matmul(b.xa, rows, c, a1T, aRank, b.lora);
        kernels.matmul(b.lora, rows, aRank, a2T, c, b.a);
        RwkvMath.addBias(b.a, a0, rows, c);
        kernels.sigmoid(b.a, rc);

        kernels.matmul(b.xg, rows, c, g1T, gRank, b.lora);
        kernels.sigmoid(b.lora, rows * gRank);
        kernels.matmul(b.lora, rows, gRank, g2T, c, b.g);

        if (v0 == null) {
            System.arraycopy(b.v, 0, b.vFirst, 0, rc);
        } else {
            kernels.matmul(b.xv, rows, c, v1T, vRank, b.lora);
            kernels.matmul(b.lora, rows, vRank, v2T, c, b.y);
            RwkvMath.addBias(b.y, v0, rows, c);
            kernels.sigmoid(b.y, rc);
            for (int i = 0; i < rc; i++) b.v[i] += (b.vFirst[i] - b.v[i]) * b.y[i];
        }

        // kk: per-head unit vector of k * k_k (the delta rule's "removal" key); then a gates how much k writes.
        System.arraycopy(b.k, 0, b.kk, 0, rc);
        RwkvMath.scale(b.kk, kK, rows, c);
        for (int h0 = 0; h0 < rc; h0 += n) {
            double sq = 0;
            for (int j = 0; j < n; j++) sq += (double) b.kk[h0 + j] * b.kk[h0 + j];
            float inv = (float) (1.0 / Math.max(Math.sqrt(sq), 1e-12));
            for (int j = 0; j < n; j++) b.kk[h0 + j] *= inv;
        }
        for (int row = 0; row < rows; row++) {
            for (int j = 0, i = row * c; j < c; j++, i++) {
                b.k[i] = b.k[i] * (1 + (b.a[i] - 1) * kA[j]);
                b.b[i] = b.kk[i] * b.a[i];
                b.kk[i] = -b.kk[i];
            }
        }

        int wkv = states[0].wkv(p.layer());
        for (int row = 0; row < rows; row++) {
            float[] s = states[row].data;
            for (int h = 0; h < c; h += n) {
                kernels.wkv7(s, wkv + h * n, b.r, b.w, b.k, b.v, b.kk, b.b, b.out, row * c + h, b.tmp, n);
            }
        }
        p.groupNorm(b, rows);
        // The current token's direct path: per head (r . (k * r_k)) v.
        for (int h0 = 0; h0 < rc; h0 += n) {
            int hc = h0 % c;
            float rk = 0;
            for (int j = 0; j < n; j++) rk += b.r[h0 + j] * b.k[h0 + j] * rK[hc + j];
            for (int j = 0; j < n; j++) b.out[h0 + j] += rk * b.v[h0 + j];
        }
        p.output(kernels, b, rows, true);
    }
}
