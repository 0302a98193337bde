package io.quantmesh.core.model.rwkv;

/**
 * Scratch buffers for stepping up to {@link #capacity()} sequences together, one token each (rows x width). Not
 * thread-safe: one per thread. Create with {@link RwkvModel#newBatch(int)}.
 */
public final class RwkvBatch {
    private final int capacity;
    final float[] x;       // residual stream
    final float[] xn;      // layer-normed input of the current sub-block
    final float[] sx;      // token shift: previous token's xn minus this token's
    final float[] xr, xw, xk, xv, xa, xg;  // token-shifted inputs of the projections
    final float[] r, w, k, v, a, g, kk, b;  // projections and their derived vectors
    final float[] out, y;  // wkv output, sub-block output
    final float[] tmp;     // activation scratch
    final float[] vFirst;  // v7: layer 0's value, mixed into every later layer
    final float[] ffn;     // channel-mix hidden (rows x F)
    final float[] lora;    // low-rank hidden (rows x widest rank, x5 for v6's token-shift LoRA)
    final float[] loraIn;  // one slice of the v6 token-shift LoRA hidden
    final float[] logits;  // rows x V

    RwkvBatch(RwkvConfig c, int capacity) {
        if (capacity <= 0) throw new IllegalArgumentException("batch capacity must be positive: " + capacity);
        this.capacity = capacity;
        int rc = Math.multiplyExact(capacity, c.hiddenSize());
        x = new float[rc];
        xn = new float[rc];
        sx = new float[rc];
        xr = new float[rc];
        xw = new float[rc];
        xk = new float[rc];
        xv = new float[rc];
        xa = new float[rc];
        xg = new float[rc];
        r = new float[rc];
        w = new float[rc];
        k = new float[rc];
        v = new float[rc];
        a = new float[rc];
        g = new float[rc];
        kk = new float[rc];
        b = new float[rc];
        out = new float[rc];
        y = new float[rc];
        tmp = new float[rc];
        vFirst = new float[rc];
        ffn = new float[Math.multiplyExact(capacity, c.ffnSize())];
        RwkvConfig.LowRank lr = c.lowRank();
        int rank = Math.max(5 * lr.mix(), Math.max(lr.decay(), Math.max(lr.a(), Math.max(lr.value(), lr.gate()))));
        lora = new float[Math.multiplyExact(capacity, Math.max(rank, 1))];
        loraIn = new float[Math.multiplyExact(capacity, Math.max(lr.mix(), 1))];
        logits = new float[Math.multiplyExact(capacity, c.vocabSize())];
    }

    public int capacity() {
        return capacity;
    }
}
