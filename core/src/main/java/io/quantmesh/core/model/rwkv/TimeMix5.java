package io.quantmesh.core.model.rwkv;

/**
 * RWKV-5 time mixing (5.1 and 5.2). Per head, with state s (key x value):
 * <pre>
 *   xk = x + (prev - x) * mu_k  (likewise xv, xr, and xg in 5.2; mu = 1 - time_mix)
 *   r = Wr xr;  k = Wk xk;  v = Wv xv;  g = silu(Wg xg)                        (g: 5.2 only)
 *   out = r . (u * k^T v + s);  s = diag(w) s + k^T v,   w = exp(-exp(time_decay))
 *   y = Wo (groupnorm_heads(out) * ln_x.w + ln_x.b) [* g]
 * </pre>
 * 5.1 has one decay and one bonus per head ({@code u = exp(time_first)}); 5.2 one per channel
 * ({@code u = time_faaaa}).
 */
final class TimeMix5 implements TimeMix {
    private final Common p;
    private final float[] muK, muV, muR, muG;  // token-shift amounts [C] (muG null in 5.1)
    private final float[] decay;               // w per channel [C], in (0, 1)
    private final float[] bonus;               // u per channel [C]

    TimeMix5(RwkvWeights w, int layer) {
        boolean v52 = w.version() == RwkvVersion.V5_2;
        p = Common.load(w, layer, v52);
        String a = "blocks." + layer + ".att.";
        muK = TimeMix.oneMinus(w.floats(a + "time_mix_k"));
        muV = TimeMix.oneMinus(w.floats(a + "time_mix_v"));
        muR = TimeMix.oneMinus(w.floats(a + "time_mix_r"));
        muG = v52 ? TimeMix.oneMinus(w.floats(a + "time_mix_g")) : null;
        float[] rawDecay = w.floats(a + "time_decay");
        float[] rawBonus = w.floats(a + (v52 ? "time_faaaa" : "time_first"));
        decay = new float[p.c()];
        bonus = new float[p.c()];
        for (int i = 0; i < p.c(); i++) {
            int at = v52 ? i : i / p.n();  // 5.1: one value per head
            decay[i] = RwkvMath.decay(rawDecay[at]);
            bonus[i] = v52 ? rawBonus[at] : (float) Math.exp(rawBonus[at]);
        }
    }

    @Override
    public void forward(RwkvKernels kernels, RwkvBatch b, RwkvState[] states, int rows) {
        int c = p.c(), n = p.n();
        p.normAndShift(b, states, rows);
        RwkvMath.mix(b.xn, b.sx, muK, b.xk, rows, c);
        RwkvMath.mix(b.xn, b.sx, muV, b.xv, rows, c);
        RwkvMath.mix(b.xn, b.sx, muR, b.xr, rows, c);
        p.receptanceKeyValue(kernels, b, rows);
        int wkv = states[0].wkv(p.layer());
        for (int row = 0; row < rows; row++) {
            float[] s = states[row].data;
            for (int h = 0; h < c; h += n) {
                kernels.wkv5(s, wkv + h * n, b.r, b.k, b.v, b.out, row * c + h, decay, h, bonus, h, n);
            }
        }
        p.groupNorm(b, rows);
        if (muG != null) {
            RwkvMath.mix(b.xn, b.sx, muG, b.xg, rows, c);
            p.siluGate(kernels, b, rows);
        }
        p.output(kernels, b, rows, muG != null);
    }
}
