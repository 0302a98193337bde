package io.quantmesh.core.model.llama;

import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.model.InferenceState;
import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.ops.KernelPool;
import io.quantmesh.core.tokenizer.Tokenizer;

import java.util.Arrays;

/**
 * A Llama-family decoder (Llama 1/2/3, TinyLlama, llama2.c models): RMSNorm, rotate-half RoPE, grouped-query
 * attention with a KV cache, SwiGLU MLP, tied or separate LM head.
 *
 * <p>One forward pass serves decode and prefill: it takes a block of tokens, so every weight matrix is read once
 * per block ({@link io.quantmesh.core.ops.VectorMatmul} batches the tokens), while attention runs token by token
 * against the cache. Attention, norms and the cache are the shared {@link Attention}; this class adds the MLP.
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
    private final Attention attention;

    /** @param owner closed with the model (e.g. the mapped checkpoint the weights view); may be null */
    public LlamaModel(LlamaWeights weights, Tokenizer tokenizer, AutoCloseable owner) {
        this.c = weights.config();
        this.w = weights;
        this.tokenizer = tokenizer;
        this.owner = owner;
        this.attention = new Attention(c, KernelPool.shared());
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
        final KvCache cache = attention.newCache();
        final float[] logits = new float[c.vocabSize()];

        @Override
        public int position() {
            return cache.position();
        }

        LlamaModel model() {
            return LlamaModel.this;
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
        int dim = c.hiddenSize();
        int pos0 = attention.begin(s.cache, tokens, from, n);
        Attention.Scratch scratch = attention.scratch(n);
        float[] x = new float[n * dim], xb = new float[n * dim], o = new float[n * dim];
        for (int t = 0; t < n; t++) w.embedTokens().copyRow(tokens[from + t], x, t * dim);

        for (int l = 0; l < c.numHiddenLayers(); l++) {
            LlamaWeights.Layer L = w.layers().get(l);
            attention.forward(l, L.attention(), s.cache, pos0, x, n, scratch);
            // SwiGLU MLP block
            attention.rmsnorm(L.postAttentionLayernorm(), x, xb, n);
            L.mlp().apply(xb, n, o, attention.pool());
            for (int i = 0; i < n * dim; i++) x[i] += o[i];
        }
        attention.rmsnorm(w.norm(), x, xb, n);
        attention.matmul(w.lmHead(), xb, n, logits);
        s.cache.advance(n);
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
