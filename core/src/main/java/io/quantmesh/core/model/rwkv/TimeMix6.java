package io.quantmesh.core.model.rwkv;

import java.util.Arrays;

/**
 * RWKV-6 time mixing: the token shift and the decay depend on the input through low-rank projections.
 * <pre>
 *   sx = prev - x;  xxx = x + sx * maa_x
 *   [m_w, m_k, m_v, m_r, m_g] = maa_w2[i] tanh(maa_w1 xxx)[slice i]          (rank D each)
 *   x_i = x + sx * (maa_i + m_i)                                           for i in w, k, v, r, g
 *   r = Wr x_r;  k = Wk x_k;  v = Wv x_v;  g = silu(Wg x_g)
 *   w = exp(-exp(time_decay + decay_w2 tanh(decay_w1 x_w)))                per token and channel
 *   out = r . (u * k^T v + s);  s = diag(w) s + k^T v,   u = time_faaaa
 *   y = Wo (groupnorm_heads(out) * ln_x.w + ln_x.b) * g
 * </pre>
 */
final class TimeMix6 implements TimeMix {
    private final Common p;
    private final int mixRank, decayRank;
    private final float[] maaX;          // static shift amount of the LoRA input [C]
    private final float[][] maa;         // static shift amounts [5][C], order w, k, v, r, g
    private final float[] maaW1T;        // time_maa_w1 [5D][C], transposed
    private final float[][] maaW2T;      // time_maa_w2 [5][C][D], each slice transposed
    private final float[] timeDecay;     // raw decay base [C]
    private final float[] decayW1T;      // time_decay_w1 [Dd][C], transposed
    private final float[] decayW2T;      // time_decay_w2 [C][Dd], transposed
    private final float[] bonus;         // time_faaaa [H][N] flattened to [C]

    TimeMix6(RwkvWeights w, int layer) {
        p = Common.load(w, layer, true);
        int c = p.c();
        mixRank = w.config().lowRank().mix();
        decayRank = w.config().lowRank().decay();
        String a = "blocks." + layer + ".att.";
        maaX = w.floats(a + "time_maa_x");
        maa = new float[][] {w.floats(a + "time_maa_w"), w.floats(a + "time_maa_k"), w.floats(a + "time_maa_v"),
                w.floats(a + "time_maa_r"), w.floats(a + "time_maa_g")};
        maaW1T = TimeMix.transposed(w, a + "time_maa_w1");
        float[] w2 = w.floats(a + "time_maa_w2");
        maaW2T = new float[5][];
        for (int i = 0; i < 5; i++) {
            maaW2T[i] = RwkvMath.transpose(Arrays.copyOfRange(w2, i * c * mixRank, (i + 1) * c * mixRank), c, mixRank);
        }
        timeDecay = w.floats(a + "time_decay");
        decayW1T = TimeMix.transposed(w, a + "time_decay_w1");
        decayW2T = TimeMix.transposed(w, a + "time_decay_w2");
        bonus = w.floats(a + "time_faaaa");
    }

    @Override
    public void forward(RwkvKernels kernels, RwkvBatch b, RwkvState[] states, int rows) {
        int c = p.c(), n = p.n();
        p.normAndShift(b, states, rows);

        // Data-dependent token shift: five low-rank corrections of the static amounts.
        RwkvMath.mix(b.xn, b.sx, maaX, b.xw, rows, c);
        kernels.matmul(b.xw, rows, c, maaW1T, 5 * mixRank, b.lora);
        kernels.tanh(b.lora, rows * 5 * mixRank);
        float[][] targets = {b.xw, b.xk, b.xv, b.xr, b.xg};
        for (int i = 0; i < 5; i++) {
            for (int row = 0; row < rows; row++) {
                System.arraycopy(b.lora, (row * 5 + i) * mixRank, b.loraIn, row * mixRank, mixRank);
            }
            kernels.matmul(b.loraIn, rows, mixRank, maaW2T[i], c, b.y);
            float[] dst = targets[i], mu = maa[i];
            for (int row = 0; row < rows; row++) {
                for (int j = 0, at = row * c; j < c; j++, at++) dst[at] = b.xn[at] + b.sx[at] * (mu[j] + b.y[at]);
            }
        }
        p.receptanceKeyValue(kernels, b, rows);
        p.siluGate(kernels, b, rows);

        // Data-dependent decay.
        kernels.matmul(b.xw, rows, c, decayW1T, decayRank, b.lora);
        kernels.tanh(b.lora, rows * decayRank);
        kernels.matmul(b.lora, rows, decayRank, decayW2T, c, b.w);
        RwkvMath.addBias(b.w, timeDecay, rows, c);
        kernels.exp(b.w, rows * c);
        for (int at = 0; at < rows * c; at++) b.w[at] = -b.w[at];
        kernels.exp(b.w, rows * c);  // w = exp(-exp(time_decay + lora))

        int wkv = states[0].wkv(p.layer());
        for (int row = 0; row < rows; row++) {
            float[] s = states[row].data;
            for (int h = 0; h < c; h += n) {
                kernels.wkv5(s, wkv + h * n, b.r, b.k, b.v, b.out, row * c + h, b.w, row * c + h, bonus, h, n);
            }
        }
        p.groupNorm(b, rows);
        p.output(kernels, b, rows, true);
    }
}
