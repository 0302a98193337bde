package io.quantmesh.core.model.moe;

import io.quantmesh.core.checkpoint.TensorSource;
import io.quantmesh.core.model.llama.DecoderModel;
import io.quantmesh.core.ops.KernelPool;
import io.quantmesh.core.tokenizer.Tokenizer;

/**
 * A Mixture-of-Experts decoder of any {@link MoeStyle}: the Llama decoder ({@link DecoderModel}: attention, with
 * Qwen2's q/k/v biases where present, norms, KV cache) whose MLP block is, per layer, either dense SwiGLU or the
 * routed experts of a {@link SparseMoeBlock}. {@link #forwardAll} equals repeated {@link #next} bit for bit.
 */
public final class MoeModel extends DecoderModel {
    private final MoeConfig config;
    private final MoeWeights w;
    private final SparseMoeBlock experts;

    /** @param owner closed with the model (e.g. the mapped checkpoint the weights view); may be null */
    public MoeModel(MoeWeights weights, Tokenizer tokenizer, AutoCloseable owner) {
        super(weights.config().base(), weights.embedTokens(), weights.norm(), weights.lmHead(),
                weights.layers().stream().map(MoeWeights.Layer::attention).toList(),
                weights.layers().stream().map(MoeWeights.Layer::postAttentionLayernorm).toList(), tokenizer, owner);
        this.config = weights.config();
        this.w = weights;
        this.experts = new SparseMoeBlock(config, KernelPool.shared());
    }

    /** Loads a Hugging Face MoE checkpoint with its parsed config; the model keeps it mapped and closes it on close(). */
    public static MoeModel load(TensorSource checkpoint, MoeConfig config, Tokenizer tokenizer) {
        MoeWeights.checkFits(config, checkpoint.tensorNames().size());
        MoeWeights weights = MoeWeights.load(config, n -> checkpoint.contains(n) ? checkpoint.tensor(n) : null);
        return new MoeModel(weights, tokenizer, checkpoint);
    }

    public MoeConfig config() {
        return config;
    }

    public MoeWeights weights() {
        return w;
    }

    @Override
    public String family() {
        return config.style().family();
    }

    /** A sequence's KV cache, and who watches its routing. */
    public final class State extends DecoderModel.State {
        RoutingListener listener;

        /** Routing of this sequence's next tokens goes to {@code listener} (null: nobody, no overhead). */
        public State routingListener(RoutingListener listener) {
            this.listener = listener;
            return this;
        }
    }

    @Override
    public State newState() {
        return new State();
    }

    /** Routed experts (+ shared expert), or a dense MLP in the layers the style keeps dense. */
    @Override
    protected void mlp(int layer, DecoderModel.State s, float[] xb, int n, int pos0, float[] out) {
        MoeWeights.Layer L = w.layers().get(layer);
        if (L.isMoe()) {
            experts.forward(layer, L, xb, n, out, pos0, ((State) s).listener);
        } else {
            L.dense().apply(xb, n, out, attention.pool());
        }
    }
}
