package io.quantmesh.core.model.llama;

import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.ops.Activations;
import io.quantmesh.core.ops.KernelPool;
import io.quantmesh.core.ops.Matrix;
import io.quantmesh.core.ops.VectorMath;
import io.quantmesh.core.ops.VectorMatmul;

import java.util.Arrays;

/**
 * The decoder machinery every Llama-style family shares (dense Llama and the MoE styles): the pre-norm
 * grouped-query attention block with rotate-half RoPE and a {@link KvCache}, RMSNorm over rows, and the checks a
 * block of tokens must pass. Families differ only in what follows attention in each layer (a SwiGLU MLP, or
 * routed experts), so each model is one readable forward pass over this class.
 *
 * <p>A block of n tokens is processed together: each projection reads its weights once per block, while attention
 * itself runs token by token against the cache, so a block gives every token the same bits as n single steps.
 */
public final class Attention {
    private final LlamaConfig c;
    private final RotaryEmbedding rope;
    private final KernelPool pool;
    private final float eps;

    public Attention(LlamaConfig c, KernelPool pool) {
        this.c = c;
        this.rope = new RotaryEmbedding(c.headDim(), c.maxPositionEmbeddings(), c.ropeTheta());
        this.pool = pool;
        this.eps = (float) c.rmsNormEps();
    }

    /** Longest block one pass takes; longer inputs are cut into blocks (bounds the activation buffers). */
    public static final int MAX_BLOCK = 128;

    /** Runs one block: tokens[from .. from+n) in, n rows of logits out. */
    @FunctionalInterface
    public interface Block {
        void forward(int from, int n, float[] logits);
    }

    /** {@code forwardAll} for a model with a block forward pass: blocks of up to {@link #MAX_BLOCK} tokens. */
    public static float[][] inBlocks(int[] tokens, int vocab, Block block) {
        float[][] out = new float[tokens.length][];
        for (int from = 0; from < tokens.length; from += MAX_BLOCK) {
            int n = Math.min(MAX_BLOCK, tokens.length - from);
            float[] logits = new float[n * vocab];
            block.forward(from, n, logits);
            for (int t = 0; t < n; t++) out[from + t] = Arrays.copyOfRange(logits, t * vocab, (t + 1) * vocab);
        }
        return out;
    }

    public KvCache newCache() {
        return new KvCache(c.numHiddenLayers(), c.kvDim(), c.maxPositionEmbeddings());
    }

    /** Work buffers for blocks of up to n tokens. */
    public final class Scratch {
        final float[] xb, q, k, v, att, o;

        Scratch(int n) {
            int qDim = c.numAttentionHeads() * c.headDim();
            xb = new float[n * c.hiddenSize()];
            q = new float[n * qDim];
            k = new float[n * c.kvDim()];
            v = new float[n * c.kvDim()];
            att = new float[n * qDim];
            o = new float[n * c.hiddenSize()];
        }
    }

    public Scratch scratch(int n) {
        return new Scratch(n);
    }

    /**
     * Checks that tokens[from .. from+n) are valid ids and fit in the context after what the cache holds, and
     * reserves their cache rows. Returns the position of the first of them.
     */
    public int begin(KvCache cache, int[] tokens, int from, int n) {
        int pos0 = cache.position();
        if (pos0 + n > c.maxPositionEmbeddings()) {
            throw new IllegalStateException("context full: " + (pos0 + n) + " positions > " + c.maxPositionEmbeddings());
        }
        for (int t = 0; t < n; t++) {
            int tok = tokens[from + t];
            if (tok < 0 || tok >= c.vocabSize()) throw new IllegalArgumentException("token id " + tok + " out of range");
        }
        cache.reserve(pos0 + n);
        return pos0;
    }

    /**
     * {@code x[t] += o_proj(attention(rmsnorm(x[t])))} for the n tokens at positions pos0..; their keys and values
     * are written into the layer's cache first.
     */
    public void forward(int layer, AttentionWeights w, KvCache cache, int pos0, float[] x, int n, Scratch s) {
        int heads = c.numAttentionHeads(), kvHeads = c.numKeyValueHeads();
        int qDim = heads * c.headDim(), kvDim = c.kvDim(), dim = c.hiddenSize();
        rmsnorm(w.inputLayernorm(), x, s.xb, n);
        matmul(w.qProj(), s.xb, n, s.q);
        matmul(w.kProj(), s.xb, n, s.k);
        matmul(w.vProj(), s.xb, n, s.v);
        if (w.hasBias()) {
            addBias(s.q, w.qBias(), n);
            addBias(s.k, w.kBias(), n);
            addBias(s.v, w.vBias(), n);
        }
        for (int t = 0; t < n; t++) {
            rope.apply(s.q, t * qDim, heads, pos0 + t);
            rope.apply(s.k, t * kvDim, kvHeads, pos0 + t);
        }
        System.arraycopy(s.k, 0, cache.keys(layer), pos0 * kvDim, n * kvDim);
        System.arraycopy(s.v, 0, cache.values(layer), pos0 * kvDim, n * kvDim);
        attend(cache.keys(layer), cache.values(layer), s.q, s.att, n, pos0);
        matmul(w.oProj(), s.att, n, s.o);
        for (int i = 0; i < n * dim; i++) x[i] += s.o[i];
    }

    private static void addBias(float[] y, float[] bias, int n) {
        int d = bias.length;
        for (int t = 0; t < n; t++) for (int i = 0; i < d; i++) y[t * d + i] += bias[i];
    }

    /** {@code out[t] = rmsnorm(x[t]) ⊙ weight} for n rows of width hidden (HF LlamaRMSNorm, f32). */
    public void rmsnorm(float[] weight, float[] x, float[] out, int n) {
        int dim = c.hiddenSize();
        for (int t = 0; t < n; t++) VectorMath.rmsnorm(out, t * dim, x, t * dim, weight, dim, eps);
    }

    public void matmul(Matrix m, float[] in, int n, float[] out) {
        VectorMatmul.matmul(m, in, n, out, pool);
    }

    public KernelPool pool() {
        return pool;
    }

    /**
     * Causal grouped-query attention for n new tokens at positions pos0.., against the cache (which already holds
     * them). Each (token, head) is independent, so they are spread over the pool; each keeps a fixed order.
     */
    private void attend(float[] keys, float[] values, float[] q, float[] out, int n, int pos0) {
        int heads = c.numAttentionHeads(), hd = c.headDim(), kvDim = c.kvDim(), qDim = heads * hd;
        int group = heads / c.numKeyValueHeads();
        float scale = (float) (1.0 / Math.sqrt(hd));
        long work = (long) n * heads * (pos0 + n) * hd;
        pool.forRange(n * heads, work < (1 << 15) ? n * heads : 1, (from, to) -> {
            float[] scores = new float[pos0 + n];
            for (int th = from; th < to; th++) {
                int t = th / heads, h = th % heads, pos = pos0 + t;
                int qo = t * qDim + h * hd, kvo = (h / group) * hd;
                for (int p = 0; p <= pos; p++) scores[p] = VectorMath.dot(q, qo, keys, p * kvDim + kvo, hd) * scale;
                Activations.softmax(scores, 0, pos + 1);
                Arrays.fill(out, qo, qo + hd, 0f);
                for (int p = 0; p <= pos; p++) VectorMath.axpy(scores[p], values, p * kvDim + kvo, out, qo, hd);
            }
        });
    }
}
