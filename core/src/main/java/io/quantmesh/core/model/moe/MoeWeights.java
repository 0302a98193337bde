package io.quantmesh.core.model.moe;

import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.model.llama.AttentionWeights;
import io.quantmesh.core.model.llama.FeedForward;
import io.quantmesh.core.model.llama.LlamaWeights;
import io.quantmesh.core.ops.Matrix;
import io.quantmesh.core.safetensors.TensorSpec;
import io.quantmesh.core.tensor.DType;
import io.quantmesh.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The weights of an MoE decoder under their Hugging Face names (see {@link MoeStyle} for the per-style names).
 * Matrices stay in the checkpoint's dtype and memory; norms and biases are widened to float[].
 */
public record MoeWeights(
        MoeConfig config,
        Matrix embedTokens, // model.embed_tokens.weight [vocab, hidden]
        List<Layer> layers, // model.layers.N.*
        float[] norm,       // model.norm.weight         [hidden]
        Matrix lmHead) {    // lm_head.weight            [vocab, hidden] (embedTokens itself when tied)

    /** One decoder layer: attention, then either a dense MLP or the expert block. */
    public record Layer(
            AttentionWeights attention,
            float[] postAttentionLayernorm, // model.layers.N.post_attention_layernorm.weight [hidden]
            FeedForward dense,              // model.layers.N.mlp.*_proj            (dense layers; else null)
            Matrix router,                  // <block>.gate.weight                 [experts, hidden] (sparse layers)
            List<FeedForward> experts,      // <block>.experts.M.*                 [expertInter, hidden] ...
            FeedForward shared,             // qwen2_moe shared_expert.*, deepseek shared_experts.* (or null)
            Matrix sharedGate) {            // qwen2_moe <block>.shared_expert_gate.weight [1, hidden] (or null)

        public boolean isMoe() {
            return router != null;
        }
    }

    private static final String[] PARTS = {"gate", "up", "down"};

    /** Every tensor of a checkpoint with this config, in HF order. */
    public static List<TensorSpec> specs(MoeConfig m, DType dtype) {
        LlamaConfig c = m.base();
        long h = c.hiddenSize(), q = (long) c.numAttentionHeads() * c.headDim(), kv = c.kvDim(), vocab = c.vocabSize();
        List<TensorSpec> s = new ArrayList<>();
        s.add(new TensorSpec(LlamaWeights.EMBED, dtype, new long[] {vocab, h}));
        for (int n = 0; n < c.numHiddenLayers(); n++) {
            int l = n;
            s.add(spec(layer(l, "input_layernorm.weight"), dtype, h));
            s.add(spec(layer(l, "self_attn.q_proj.weight"), dtype, q, h));
            s.add(spec(layer(l, "self_attn.k_proj.weight"), dtype, kv, h));
            s.add(spec(layer(l, "self_attn.v_proj.weight"), dtype, kv, h));
            if (m.qkvBias()) {
                s.add(spec(layer(l, "self_attn.q_proj.bias"), dtype, q));
                s.add(spec(layer(l, "self_attn.k_proj.bias"), dtype, kv));
                s.add(spec(layer(l, "self_attn.v_proj.bias"), dtype, kv));
            }
            s.add(spec(layer(l, "self_attn.o_proj.weight"), dtype, h, q));
            s.add(spec(layer(l, "post_attention_layernorm.weight"), dtype, h));
            if (!m.isMoeLayer(l)) {
                addMlp(s, dtype, h, c.intermediateSize(), p -> layer(l, "mlp." + p + "_proj.weight"));
                continue;
            }
            MoeStyle st = m.style();
            s.add(spec(st.router(l), dtype, m.numExperts(), h));
            for (int e = 0; e < m.numExperts(); e++) {
                int expert = e;
                addMlp(s, dtype, h, m.expertIntermediateSize(), p -> st.expert(l, expert, p));
            }
            if (m.hasSharedExpert()) {
                addMlp(s, dtype, h, m.sharedIntermediateSize(), p -> st.shared(l, p));
                if (st == MoeStyle.QWEN2_MOE) s.add(spec(st.sharedGate(l), dtype, 1, h));
            }
        }
        s.add(spec(LlamaWeights.NORM, dtype, h));
        if (!c.tieWordEmbeddings()) s.add(spec(LlamaWeights.LM_HEAD, dtype, vocab, h));
        return s;
    }

    private static void addMlp(List<TensorSpec> s, DType dtype, long h, long inter, Function<String, String> name) {
        s.add(spec(name.apply("gate"), dtype, inter, h));
        s.add(spec(name.apply("up"), dtype, inter, h));
        s.add(spec(name.apply("down"), dtype, h, inter));
    }

    private static TensorSpec spec(String name, DType dtype, long... shape) {
        return new TensorSpec(name, dtype, shape);
    }

    private static String layer(int l, String suffix) {
        return LlamaWeights.layer(l, suffix);
    }

    /**
     * Fails unless a checkpoint holding {@code available} tensors can hold this config's: checked by arithmetic
     * before any list is built, so a hostile config (10^9 layers × 65,536 experts) costs nothing.
     */
    public static void checkFits(MoeConfig m, long available) {
        int layers = m.base().numHiddenLayers();
        if (layers > available) {
            throw new IllegalArgumentException("config has " + layers + " layers; the checkpoint holds only " + available
                    + " tensors");
        }
        long attention = m.qkvBias() ? 9 : 6, need = 2 + (m.base().tieWordEmbeddings() ? 0 : 1);
        long shared = m.hasSharedExpert() ? (m.style() == MoeStyle.QWEN2_MOE ? 4 : 3) : 0;
        for (int l = 0; l < layers; l++) {
            need += attention + (m.isMoeLayer(l) ? 1 + 3L * m.numExperts() + shared : 3);
        }
        if (need > available) {
            throw new IllegalArgumentException("config describes " + need + " tensors; the checkpoint holds only "
                    + available);
        }
    }

    /**
     * Binds the tensors {@code source} returns (null for a missing name) for each name of {@link #specs}: shapes
     * checked, F32, F16 or BF16. Matrices are views: {@code source}'s memory must outlive the weights.
     */
    public static MoeWeights load(MoeConfig m, Function<String, Tensor> source) {
        Map<String, Tensor> t = new HashMap<>();
        for (TensorSpec s : specs(m, DType.F32)) t.put(s.name(), LlamaWeights.bind(s, source));
        Function<String, Matrix> mat = name -> Matrix.of(t.get(name));
        Function<String, float[]> vec = name -> t.get(name).toFloatArray();
        LlamaConfig c = m.base();
        MoeStyle st = m.style();
        Matrix embed = mat.apply(LlamaWeights.EMBED);
        List<Layer> layers = new ArrayList<>();
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            int n = l;
            Function<String, String> at = suffix -> layer(n, suffix);
            AttentionWeights attn = new AttentionWeights(vec.apply(at.apply("input_layernorm.weight")),
                    mat.apply(at.apply("self_attn.q_proj.weight")), mat.apply(at.apply("self_attn.k_proj.weight")),
                    mat.apply(at.apply("self_attn.v_proj.weight")), mat.apply(at.apply("self_attn.o_proj.weight")),
                    m.qkvBias() ? vec.apply(at.apply("self_attn.q_proj.bias")) : null,
                    m.qkvBias() ? vec.apply(at.apply("self_attn.k_proj.bias")) : null,
                    m.qkvBias() ? vec.apply(at.apply("self_attn.v_proj.bias")) : null);
            float[] post = vec.apply(at.apply("post_attention_layernorm.weight"));
            if (!m.isMoeLayer(l)) {
                layers.add(new Layer(attn, post, mlp(mat, p -> at.apply("mlp." + p + "_proj.weight")), null, List.of(),
                        null, null));
                continue;
            }
            List<FeedForward> experts = new ArrayList<>(m.numExperts());
            for (int e = 0; e < m.numExperts(); e++) {
                int expert = e;
                experts.add(mlp(mat, p -> st.expert(n, expert, p)));
            }
            FeedForward shared = m.hasSharedExpert() ? mlp(mat, p -> st.shared(n, p)) : null;
            Matrix sharedGate = m.hasSharedExpert() && st == MoeStyle.QWEN2_MOE ? mat.apply(st.sharedGate(l)) : null;
            layers.add(new Layer(attn, post, null, mat.apply(st.router(l)), List.copyOf(experts), shared, sharedGate));
        }
        float[] norm = vec.apply(LlamaWeights.NORM);
        Matrix head = c.tieWordEmbeddings() ? embed : mat.apply(LlamaWeights.LM_HEAD);
        return new MoeWeights(m, embed, List.copyOf(layers), norm, head);
    }

    private static FeedForward mlp(Function<String, Matrix> mat, Function<String, String> name) {
        return new FeedForward(mat.apply(name.apply(PARTS[0])), mat.apply(name.apply(PARTS[1])),
                mat.apply(name.apply(PARTS[2])));
    }
}
