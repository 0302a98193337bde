package io.quantmesh.core.model.llama;

import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.ops.Matrix;
import io.quantmesh.core.safetensors.TensorSpec;
import io.quantmesh.core.tensor.DType;
import io.quantmesh.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * The weights of a Llama-family decoder under their Hugging Face names. Matrices stay in the checkpoint's dtype
 * (F32, F16 or BF16) and, when loaded from safetensors, in the mapped file itself; norm vectors are widened to
 * float[]. Shapes are [out, in] as in torch.nn.Linear.
 */
public record LlamaWeights(
        LlamaConfig config,
        Matrix embedTokens, // model.embed_tokens.weight  [vocab, hidden]
        List<Layer> layers, // model.layers.N.*
        float[] norm,       // model.norm.weight          [hidden]
        Matrix lmHead) {    // lm_head.weight             [vocab, hidden] (embedTokens itself when tied)

    public static final String EMBED = "model.embed_tokens.weight";
    public static final String NORM = "model.norm.weight";
    public static final String LM_HEAD = "lm_head.weight";

    public record Layer(
            float[] inputLayernorm,         // model.layers.N.input_layernorm.weight          [hidden]
            Matrix qProj,                   // model.layers.N.self_attn.q_proj.weight         [heads*headDim, hidden]
            Matrix kProj,                   // model.layers.N.self_attn.k_proj.weight         [kvHeads*headDim, hidden]
            Matrix vProj,                   // model.layers.N.self_attn.v_proj.weight         [kvHeads*headDim, hidden]
            Matrix oProj,                   // model.layers.N.self_attn.o_proj.weight         [hidden, heads*headDim]
            float[] postAttentionLayernorm, // model.layers.N.post_attention_layernorm.weight [hidden]
            Matrix gateProj,                // model.layers.N.mlp.gate_proj.weight            [intermediate, hidden]
            Matrix upProj,                  // model.layers.N.mlp.up_proj.weight              [intermediate, hidden]
            Matrix downProj) {              // model.layers.N.mlp.down_proj.weight            [hidden, intermediate]

        /** The attention half, as {@link Attention} takes it. */
        public AttentionWeights attention() {
            return new AttentionWeights(inputLayernorm, qProj, kProj, vProj, oProj);
        }

        public FeedForward mlp() {
            return new FeedForward(gateProj, upProj, downProj);
        }
    }

    /** Per-layer tensor suffixes, in the order HF checkpoints list them. */
    static final String[] LAYER_TENSORS = {
            "input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight",
            "self_attn.v_proj.weight", "self_attn.o_proj.weight", "post_attention_layernorm.weight",
            "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight"};

    public static String layer(int n, String suffix) {
        return "model.layers." + n + "." + suffix;
    }

    /** Every tensor of a checkpoint with this config: name, {@code dtype}, shape, in file order. */
    public static List<TensorSpec> specs(LlamaConfig c, DType dtype) {
        long h = c.hiddenSize(), q = (long) c.numAttentionHeads() * c.headDim(), kv = c.kvDim();
        long inter = c.intermediateSize(), vocab = c.vocabSize();
        List<TensorSpec> specs = new ArrayList<>();
        specs.add(new TensorSpec(EMBED, dtype, new long[] {vocab, h}));
        long[][] layerShapes = {{h}, {q, h}, {kv, h}, {kv, h}, {h, q}, {h}, {inter, h}, {inter, h}, {h, inter}};
        for (int n = 0; n < c.numHiddenLayers(); n++) {
            for (int i = 0; i < LAYER_TENSORS.length; i++) {
                specs.add(new TensorSpec(layer(n, LAYER_TENSORS[i]), dtype, layerShapes[i]));
            }
        }
        specs.add(new TensorSpec(NORM, dtype, new long[] {h}));
        if (!c.tieWordEmbeddings()) specs.add(new TensorSpec(LM_HEAD, dtype, new long[] {vocab, h}));
        return specs;
    }

    /**
     * Binds the tensors {@code source} returns for each name of {@link #specs} (shapes checked; F32, F16 or BF16).
     * Matrices are views: {@code source}'s memory must outlive the weights.
     */
    public static LlamaWeights load(LlamaConfig c, Function<String, Tensor> source) {
        List<TensorSpec> specs = specs(c, DType.F32);
        Tensor[] t = new Tensor[specs.size()];
        for (int i = 0; i < t.length; i++) t[i] = bind(specs.get(i), source);
        int k = 0;
        Matrix embed = Matrix.of(t[k++]);
        List<Layer> layers = new ArrayList<>();
        for (int n = 0; n < c.numHiddenLayers(); n++) {
            layers.add(new Layer(t[k].toFloatArray(), Matrix.of(t[k + 1]), Matrix.of(t[k + 2]), Matrix.of(t[k + 3]),
                    Matrix.of(t[k + 4]), t[k + 5].toFloatArray(), Matrix.of(t[k + 6]), Matrix.of(t[k + 7]),
                    Matrix.of(t[k + 8])));
            k += LAYER_TENSORS.length;
        }
        float[] norm = t[k++].toFloatArray();
        Matrix head = c.tieWordEmbeddings() ? embed : Matrix.of(t[k]);
        return new LlamaWeights(c, embed, List.copyOf(layers), norm, head);
    }

    /** The tensor {@code source} gives for {@code spec}'s name, checked: present, that shape, F32, F16 or BF16. */
    public static Tensor bind(TensorSpec spec, Function<String, Tensor> source) {
        Tensor x = source.apply(spec.name());
        if (x == null) throw new IllegalArgumentException("checkpoint has no tensor '" + spec.name() + "'");
        if (!Arrays.equals(x.shape(), spec.shape())) {
            throw new IllegalArgumentException("tensor '" + spec.name() + "' has shape " + Arrays.toString(x.shape())
                    + ", config says " + Arrays.toString(spec.shape()));
        }
        if (x.dtype() != DType.F32 && x.dtype() != DType.F16 && x.dtype() != DType.BF16) {
            throw new IllegalArgumentException("tensor '" + spec.name() + "' is " + x.dtype() + "; need F32, F16 or BF16");
        }
        return x;
    }

    /** The matrices one decode step reads in full: every projection of every layer, then the LM head. */
    public List<Matrix> decodeMatrices() {
        List<Matrix> out = new ArrayList<>();
        for (Layer l : layers) out.addAll(List.of(l.qProj, l.kProj, l.vProj, l.oProj, l.gateProj, l.upProj, l.downProj));
        out.add(lmHead);
        return out;
    }

    /** Bytes of weights one decode step reads: {@link #decodeMatrices}, the norms and one embedding row. */
    public long bytesReadPerToken() {
        long b = (long) embedTokens.cols() * embedTokens.dtype().byteSize() + 4L * norm.length;
        for (Layer l : layers) b += 4L * (l.inputLayernorm.length + l.postAttentionLayernorm.length);
        for (Matrix m : decodeMatrices()) b += m.byteSize();
        return b;
    }
}
