package io.quantmesh.core.model.rwkv;

/**
 * Shape and numeric constants of an RWKV model. Loaders infer the dimensions from the tensors (the files are the
 * truth) and take the epsilons from the checkpoint's config where it has one.
 */
public record RwkvConfig(
        RwkvVersion version,
        int vocabSize,      // V
        int hiddenSize,     // C = numHeads * headSize
        int numLayers,      // L
        int headSize,       // N: one head's state is N x N
        int ffnSize,        // F: channel-mix width
        LowRank lowRank,    // v6/v7 low-rank projection widths (0 where a version has none)
        double layerNormEps,
        double groupNormEps) {

    /**
     * Widths of the low-rank projections. v6: {@code mix} (time_maa_w1 has 5*mix rows) and {@code decay}
     * (time_decay_w1). v7: {@code decay} (w1/w2), {@code a} (a1/a2), {@code value} (v1/v2), {@code gate} (g1/g2).
     */
    public record LowRank(int mix, int decay, int a, int value, int gate) {
        public static final LowRank NONE = new LowRank(0, 0, 0, 0, 0);

        public LowRank {
            if (mix < 0 || decay < 0 || a < 0 || value < 0 || gate < 0) {
                throw new IllegalArgumentException("negative low-rank width");
            }
        }
    }

    public RwkvConfig {
        if (version == null) throw new IllegalArgumentException("RWKV version missing");
        positive("vocab size", vocabSize);
        positive("hidden size", hiddenSize);
        positive("layer count", numLayers);
        positive("head size", headSize);
        positive("ffn size", ffnSize);
        if (hiddenSize % headSize != 0) {
            throw new IllegalArgumentException("hidden size " + hiddenSize + " is not a multiple of head size " + headSize);
        }
        if (lowRank == null) lowRank = LowRank.NONE;
        if (version == RwkvVersion.V6 && (lowRank.mix() <= 0 || lowRank.decay() <= 0)) {
            throw new IllegalArgumentException("RWKV v6 needs positive low-rank widths, got " + lowRank);
        }
        if (version == RwkvVersion.V7 && (lowRank.decay() <= 0 || lowRank.a() <= 0 || lowRank.gate() <= 0
                || (numLayers > 1 && lowRank.value() <= 0))) {
            throw new IllegalArgumentException("RWKV v7 needs positive low-rank widths, got " + lowRank);
        }
        if (!(layerNormEps > 0) || !(groupNormEps > 0)) throw new IllegalArgumentException("epsilons must be positive");
    }

    private static void positive(String what, int v) {
        if (v <= 0) throw new IllegalArgumentException("RWKV " + what + " must be positive, got " + v);
    }

    public int numHeads() {
        return hiddenSize / headSize;
    }

    /** Floats of recurrent state per layer: two token-shift vectors plus H matrices of N x N. */
    public int stateFloatsPerLayer() {
        return Math.addExact(2 * hiddenSize, Math.multiplyExact(hiddenSize, headSize));
    }
}
