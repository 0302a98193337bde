package io.quantmesh.core.model.llama;

import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.model.InferenceState;
import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.ops.Activations;
import io.quantmesh.core.ops.KernelPool;
import io.quantmesh.core.ops.Matrix;
import io.quantmesh.core.ops.VectorMath;
import io.quantmesh.core.ops.VectorMatmul;
import io.quantmesh.core.tokenizer.Tokenizer;

import java.util.Arrays;

/**
 * A Llama-family decoder (Llama 1/2/3, TinyLlama, llama2.c models): RMSNorm, rotate-half RoPE, grouped-query
 * attention with a KV cache, SwiGLU MLP, tied or separate LM head.
 *
 * <p>One forward pass serves decode and prefill: it takes a block of tokens, so every weight matrix is read once
 * per block ({@link VectorMatmul} batches the tokens), while attention runs token by token against the cache.
 * Because the matmul gives each token the same bits whatever the block size, {@link #forwardAll} equals repeated
 * {@link #next} exactly.
 */
public final class LlamaModel implements LanguageModel {
    /** Longest block one pass takes; longer inputs are cut into blocks (bounds the activation buffers). */
    private static final int MAX_BLOCK = 128;

    private final LlamaConfig c;
    private final LlamaWeights w;
    private final Tokenizer tokenizer;
    private final AutoCloseable owner;
    private final RotaryEmbedding rope;
    private final KernelPool pool;

    /** @param owner closed with the model (e.g. the mapped checkpoint the weights view); may be null */
    public LlamaModel(LlamaWeights weights, Tokenizer tokenizer, AutoCloseable owner) {
        this.c = weights.config();
        this.w = weights;
        this.tokenizer = tokenizer;
        this.owner = owner;
        this.rope = new RotaryEmbedding(c.headDim(), c.maxPositionEmbeddings(), c.ropeTheta());
        this.pool = KernelPool.shared();
        if (tokenizer.vocabSize() > c.vocabSize()) {
            throw new IllegalArgumentException("tokenizer has " + tokenizer.vocabSize() + " tokens, model vocab_size is "
                    + c.vocabSize());
        }
    }

    /** Loads a Hugging Face Llama checkpoint; the model keeps it mapped and closes it on {@link #close()}. */
    public static LlamaModel load(HfCheckpoint checkpoint, Tokenizer tokenizer) {
        LlamaConfig config = LlamaConfig.fromJson(checkpoint.config());
        return new LlamaModel(LlamaWeights.load(config, checkpoint::tensor), tokenizer, checkpoint);
    }

    public LlamaConfig config() {
        return c;
    }

    public LlamaWeights weights() {
        return w;
    }

    @Override
    public String family() {
        return "llama";
    }

    @Override
    public int vocabSize() {
        return c.vocabSize();
    }

    @Override
    public int contextLength() {
        return c.maxPositionEmbeddings();
    }

    @Override
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public State newState() {
        return new State();
    }

    /** The KV cache of one sequence. */
    public final class State implements InferenceState {
        final float[][] keys = new float[c.numHiddenLayers()][];   // [layer][pos * kvDim]
        final float[][] values = new float[c.numHiddenLayers()][];
        final float[] logits = new float[c.vocabSize()];
        int position;

        @Override
        public int position() {
            return position;
        }

        LlamaModel model() {
            return LlamaModel.this;
        }

        /** Grows the cache to hold {@code positions} (doubling, capped at the context length). */
        void reserve(int positions) {
            int have = keys[0] == null ? 0 : keys[0].length / c.kvDim();
            if (positions <= have) return;
            int cap = Math.min(contextLength(), Math.max(positions, Math.max(64, 2 * have)));
            for (int l = 0; l < keys.length; l++) {
                keys[l] = keys[l] == null ? new float[cap * c.kvDim()] : Arrays.copyOf(keys[l], cap * c.kvDim());
                values[l] = values[l] == null ? new float[cap * c.kvDim()] : Arrays.copyOf(values[l], cap * c.kvDim());
            }
        }
    }

    @Override
    public float[] next(InferenceState state, int token) {
        State s = own(state);
        forward(s, new int[] {token}, 0, 1, s.logits);
        return s.logits;
    }

    @Override
    public float[][] forwardAll(InferenceState state, int[] tokens) {
        State s = own(state);
        float[][] out = new float[tokens.length][];
        for (int from = 0; from < tokens.length; from += MAX_BLOCK) {
            int n = Math.min(MAX_BLOCK, tokens.length - from);
            float[] logits = new float[n * c.vocabSize()];
            forward(s, tokens, from, n, logits);
            for (int t = 0; t < n; t++) {
                out[from + t] = Arrays.copyOfRange(logits, t * c.vocabSize(), (t + 1) * c.vocabSize());
            }
        }
        return out;
    }

    private State own(InferenceState state) {
        if (!(state instanceof State s) || s.model() != this) {
            throw new IllegalArgumentException("state was not created by this model");
        }
        return s;
    }

    /** Feeds tokens[from .. from+n) at the next positions; writes n rows of logits. */
    private void forward(State s, int[] tokens, int from, int n, float[] logits) {
        int dim = c.hiddenSize(), heads = c.numAttentionHeads(), kvHeads = c.numKeyValueHeads();
        int hd = c.headDim(), qDim = heads * hd, kvDim = c.kvDim(), inter = c.intermediateSize();
        int pos0 = s.position;
        if (pos0 + n > contextLength()) {
            throw new IllegalStateException("context full: " + (pos0 + n) + " positions > " + contextLength());
        }
        for (int t = 0; t < n; t++) {
            int tok = tokens[from + t];
            if (tok < 0 || tok >= c.vocabSize()) throw new IllegalArgumentException("token id " + tok + " out of range");
        }
        s.reserve(pos0 + n);
        float eps = (float) c.rmsNormEps();

        float[] x = new float[n * dim], xb = new float[n * dim], q = new float[n * qDim];
        float[] k = new float[n * kvDim], v = new float[n * kvDim], att = new float[n * qDim], o = new float[n * dim];
        float[] gate = new float[n * inter], up = new float[n * inter];
        for (int t = 0; t < n; t++) w.embedTokens().copyRow(tokens[from + t], x, t * dim);

        for (int l = 0; l < c.numHiddenLayers(); l++) {
            LlamaWeights.Layer L = w.layers().get(l);
            // attention block
            for (int t = 0; t < n; t++) VectorMath.rmsnorm(xb, t * dim, x, t * dim, L.inputLayernorm(), dim, eps);
            matmul(L.qProj(), xb, n, q);
            matmul(L.kProj(), xb, n, k);
            matmul(L.vProj(), xb, n, v);
            for (int t = 0; t < n; t++) {
                rope.apply(q, t * qDim, heads, pos0 + t);
                rope.apply(k, t * kvDim, kvHeads, pos0 + t);
            }
            System.arraycopy(k, 0, s.keys[l], pos0 * kvDim, n * kvDim);
            System.arraycopy(v, 0, s.values[l], pos0 * kvDim, n * kvDim);
            attention(s.keys[l], s.values[l], q, att, n, pos0);
            matmul(L.oProj(), att, n, o);
            for (int i = 0; i < n * dim; i++) x[i] += o[i];
            // SwiGLU MLP block
            for (int t = 0; t < n; t++) VectorMath.rmsnorm(xb, t * dim, x, t * dim, L.postAttentionLayernorm(), dim, eps);
            matmul(L.gateProj(), xb, n, gate);
            matmul(L.upProj(), xb, n, up);
            Activations.siluMul(gate, up, n * inter);
            matmul(L.downProj(), gate, n, o);
            for (int i = 0; i < n * dim; i++) x[i] += o[i];
        }
        for (int t = 0; t < n; t++) VectorMath.rmsnorm(xb, t * dim, x, t * dim, w.norm(), dim, eps);
        matmul(w.lmHead(), xb, n, logits);
        s.position = pos0 + n;
    }

    private void matmul(Matrix m, float[] in, int n, float[] out) {
        VectorMatmul.matmul(m, in, n, out, pool);
    }

    /**
     * Causal grouped-query attention for n new tokens at positions pos0.., against the cache (which already holds
     * them). Each (token, head) is independent, so they are spread over the pool; each keeps a fixed order.
     */
    private void attention(float[] keys, float[] values, float[] q, float[] out, int n, int pos0) {
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

    @Override
    public void close() {
        if (owner != null) {
            try {
                owner.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing model resources: " + e.getMessage(), e);
            }
        }
    }
}
