package io.quantmesh.core.model.llama;

import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.model.InferenceState;
import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.ops.KernelPool;
import io.quantmesh.core.ops.Matrix;
import io.quantmesh.core.tokenizer.Tokenizer;

import java.util.List;

/**
 * A Llama-style decoder: token embedding, then per layer pre-norm attention ({@link Attention}) and a pre-norm MLP
 * block, then the final norm and the LM head. The families differ only in the MLP block ({@link #mlp}): a dense
 * SwiGLU ({@link LlamaModel}) or routed experts (the MoE styles), so the forward pass is written once, here.
 *
 * <p>It takes a block of tokens, so every weight matrix is read once per block while attention runs token by token
 * against the cache; {@link #forwardAll} equals repeated {@link #next} bit for bit as long as the MLP block gives
 * each token the same bits whatever the block (the block-invariant matmul makes that so).
 */
public abstract class DecoderModel implements LanguageModel {
    protected final LlamaConfig c;
    protected final Attention attention;
    private final Matrix embedTokens;
    private final float[] norm;
    private final Matrix lmHead;
    private final List<AttentionWeights> layers;
    private final List<float[]> postAttentionLayernorms;
    private final Tokenizer tokenizer;
    private final AutoCloseable owner;

    /**
     * @param embedTokens [vocab, hidden]
     * @param norm        final RMSNorm weight [hidden]
     * @param lmHead      [vocab, hidden]
     * @param layers      each layer's attention weights
     * @param postAttentionLayernorms each layer's post_attention_layernorm weight [hidden]
     * @param owner       closed with the model (e.g. the mapped checkpoint the weights view); may be null
     */
    protected DecoderModel(LlamaConfig c, Matrix embedTokens, float[] norm, Matrix lmHead, List<AttentionWeights> layers,
                           List<float[]> postAttentionLayernorms, Tokenizer tokenizer, AutoCloseable owner) {
        this.c = c;
        this.attention = new Attention(c, KernelPool.shared());
        this.embedTokens = embedTokens;
        this.norm = norm;
        this.lmHead = lmHead;
        this.layers = List.copyOf(layers);
        this.postAttentionLayernorms = List.copyOf(postAttentionLayernorms);
        this.tokenizer = tokenizer;
        this.owner = owner;
        if (tokenizer.vocabSize() > c.vocabSize()) {
            throw new IllegalArgumentException("tokenizer has " + tokenizer.vocabSize() + " tokens, model vocab_size is "
                    + c.vocabSize());
        }
    }

    /**
     * The MLP block of {@code layer}: {@code out[t] = mlp(xb[t])} for the n tokens at positions pos0.., where xb is
     * the post-attention RMSNorm output.
     */
    protected abstract void mlp(int layer, State s, float[] xb, int n, int pos0, float[] out);

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

    /** The KV cache of one sequence. */
    public class State implements InferenceState {
        final KvCache cache = attention.newCache();
        final float[] logits = new float[c.vocabSize()];
        LinearInputListener linearInputs;

        /** The inputs of this sequence's linear layers go to {@code listener} (null: nobody, no overhead). */
        public State linearInputListener(LinearInputListener listener) {
            this.linearInputs = listener;
            return this;
        }

        @Override
        public int position() {
            return cache.position();
        }

        DecoderModel model() {
            return DecoderModel.this;
        }
    }

    @Override
    public State newState() {
        return new State();
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
        return Attention.inBlocks(tokens, c.vocabSize(), (from, n, logits) -> forward(s, tokens, from, n, logits));
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
        for (int t = 0; t < n; t++) embedTokens.copyRow(tokens[from + t], x, t * dim);

        for (int l = 0; l < c.numHiddenLayers(); l++) {
            attention.forward(l, layers.get(l), s.cache, pos0, x, n, scratch);
            if (s.linearInputs != null) { // the scratch still holds both attention-side linear inputs
                s.linearInputs.onInput(l, LinearInputListener.Site.ATTN_IN, scratch.xb, n, dim);
                s.linearInputs.onInput(l, LinearInputListener.Site.O_PROJ, scratch.att, n,
                        c.numAttentionHeads() * c.headDim());
            }
            attention.rmsnorm(postAttentionLayernorms.get(l), x, xb, n);
            mlp(l, s, xb, n, pos0, o);
            for (int i = 0; i < n * dim; i++) x[i] += o[i];
        }
        attention.rmsnorm(norm, x, xb, n);
        attention.matmul(lmHead, xb, n, logits);
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
