package io.quantmesh.core.model.rwkv;

/**
 * The channel-mixing ("feed-forward") half of one RWKV layer:
 * {@code k = relu(Wk xk)^2; out = sigmoid(Wr xr) * (Wv k)} (v5, v6) or {@code out = Wv k} (v7, no receptance),
 * with xk, xr the token-shifted inputs {@code x + (prev - x) * mu}.
 */
final class ChannelMix {
    private final int layer, c, f;
    private final double eps;
    private final float[] lnW, lnB;      // ln2 [C]
    private final float[] muK, muR;      // token-shift amounts [C] (muR null in v7)
    private final float[] keyT;          // key.weight [F][C], transposed to [C][F]
    private final float[] valueT;        // value.weight [C][F], transposed to [F][C]
    private final float[] receptanceT;   // receptance.weight [C][C], transposed (null in v7)

    ChannelMix(RwkvWeights w, int layer) {
        RwkvConfig cfg = w.config();
        this.layer = layer;
        this.c = cfg.hiddenSize();
        this.f = cfg.ffnSize();
        this.eps = cfg.layerNormEps();
        String p = "blocks." + layer + ".";
        lnW = w.floats(p + "ln2.weight");
        lnB = w.floats(p + "ln2.bias");
        keyT = TimeMix.transposed(w, p + "ffn.key.weight");
        valueT = TimeMix.transposed(w, p + "ffn.value.weight");
        switch (cfg.version()) {
            case V5_1, V5_2 -> {
                muK = TimeMix.oneMinus(w.floats(p + "ffn.time_mix_k"));
                muR = TimeMix.oneMinus(w.floats(p + "ffn.time_mix_r"));
            }
            case V6 -> {
                muK = w.floats(p + "ffn.time_maa_k");
                muR = w.floats(p + "ffn.time_maa_r");
            }
            default -> {
                muK = w.floats(p + "ffn.x_k");
                muR = null;
            }
        }
        receptanceT = muR == null ? null : TimeMix.transposed(w, p + "ffn.receptance.weight");
    }

    void forward(RwkvKernels kernels, RwkvBatch b, RwkvState[] states, int rows) {
        int n = rows * c;
        RwkvMath.normAndShift(b, states, states[0].ffnShift(layer), lnW, lnB, eps, rows, c);
        RwkvMath.mix(b.xn, b.sx, muK, b.xk, rows, c);
        kernels.matmul(b.xk, rows, c, keyT, f, b.ffn);
        RwkvMath.reluSquare(b.ffn, rows * f);
        kernels.matmul(b.ffn, rows, f, valueT, c, b.y);
        if (receptanceT != null) {
            RwkvMath.mix(b.xn, b.sx, muR, b.xr, rows, c);
            kernels.matmul(b.xr, rows, c, receptanceT, c, b.r);
            kernels.sigmoid(b.r, n);
            for (int i = 0; i < n; i++) b.y[i] *= b.r[i];
        }
        RwkvMath.add(b.x, b.y, n);
    }
}
