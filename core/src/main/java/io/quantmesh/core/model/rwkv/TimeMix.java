package io.quantmesh.core.model.rwkv;

/** The time-mixing ("attention") half of one RWKV layer: adds its output to the residual stream {@code batch.x}. */
sealed interface TimeMix permits TimeMix5, TimeMix6, TimeMix7 {

    void forward(RwkvKernels kernels, RwkvBatch batch, RwkvState[] states, int rows);

    static TimeMix of(RwkvWeights weights, int layer) {
        return switch (weights.version()) {
            case V5_1, V5_2 -> new TimeMix5(weights, layer);
            case V6 -> new TimeMix6(weights, layer);
            case V7 -> new TimeMix7(weights, layer);
        };
    }

    /** A weight matrix (out x in) transposed for {@link RwkvKernels#matmul}. */
    static float[] transposed(RwkvWeights w, String name) {
        long[] s = w.tensor(name).shape();
        return RwkvMath.transpose(w.floats(name), (int) s[0], (int) s[1]);
    }

    /** {@code 1 - time_mix}: v5's {@code x*m + prev*(1-m)} written as the v6/v7 form {@code x + (prev-x)*mu}. */
    static float[] oneMinus(float[] mix) {
        float[] mu = new float[mix.length];
        for (int i = 0; i < mu.length; i++) mu[i] = 1 - mix[i];
        return mu;
    }

    /**
     * What every version's time mixing has: ln1 and the token shift, the receptance/key/value[/gate]/output
     * projections ([C][C], stored transposed) and the ln_x group norm over heads.
     */
    record Common(int layer, int c, int n, double lnEps, double gnEps,
                  float[] lnW, float[] lnB,                       // ln1 [C]
                  float[] receptanceT, float[] keyT, float[] valueT,
                  float[] gateT,                                  // null in v5.1 and v7 (v7 gates through g1/g2)
                  float[] outputT,
                  float[] lnxW, float[] lnxB) {                   // ln_x [C]

        static Common load(RwkvWeights w, int layer, boolean gate) {
            RwkvConfig cfg = w.config();
            String p = "blocks." + layer + ".", a = p + "att.";
            return new Common(layer, cfg.hiddenSize(), cfg.headSize(), cfg.layerNormEps(), cfg.groupNormEps(),
                    w.floats(p + "ln1.weight"), w.floats(p + "ln1.bias"),
                    transposed(w, a + "receptance.weight"), transposed(w, a + "key.weight"),
                    transposed(w, a + "value.weight"), gate ? transposed(w, a + "gate.weight") : null,
                    transposed(w, a + "output.weight"), w.floats(a + "ln_x.weight"), w.floats(a + "ln_x.bias"));
        }

        /** xn = ln1(x); sx = prev - xn; the state keeps xn for the next token. */
        void normAndShift(RwkvBatch b, RwkvState[] states, int rows) {
            RwkvMath.normAndShift(b, states, states[0].attShift(layer), lnW, lnB, lnEps, rows, c);
        }

        /** r, k, v from the token-shifted xr, xk, xv. */
        void receptanceKeyValue(RwkvKernels kernels, RwkvBatch b, int rows) {
            kernels.matmul(b.xr, rows, c, receptanceT, c, b.r);
            kernels.matmul(b.xk, rows, c, keyT, c, b.k);
            kernels.matmul(b.xv, rows, c, valueT, c, b.v);
        }

        /** g = silu(Wg xg). */
        void siluGate(RwkvKernels kernels, RwkvBatch b, int rows) {
            int rc = rows * c;
            kernels.matmul(b.xg, rows, c, gateT, c, b.g);
            System.arraycopy(b.g, 0, b.tmp, 0, rc);
            kernels.sigmoid(b.tmp, rc);
            for (int i = 0; i < rc; i++) b.g[i] *= b.tmp[i];
        }

        void groupNorm(RwkvBatch b, int rows) {
            RwkvMath.groupNorm(b.out, rows, c, n, lnxW, lnxB, gnEps);
        }

        /** x += Wo (out * g), or Wo out without a gate. */
        void output(RwkvKernels kernels, RwkvBatch b, int rows, boolean gated) {
            int rc = rows * c;
            if (gated) {
                for (int i = 0; i < rc; i++) b.out[i] *= b.g[i];
            }
            kernels.matmul(b.out, rows, c, outputT, c, b.y);
            RwkvMath.add(b.x, b.y, rc);
        }
    }
}
