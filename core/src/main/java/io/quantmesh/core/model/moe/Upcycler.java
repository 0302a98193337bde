package io.quantmesh.core.model.moe;

import io.quantmesh.core.Json;
import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.io.Durable;
import io.quantmesh.core.model.llama.LlamaWeights;
import io.quantmesh.core.safetensors.SafetensorsWriter;
import io.quantmesh.core.safetensors.TensorSpec;
import io.quantmesh.core.tensor.DType;
import io.quantmesh.core.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Writes an MoE checkpoint of any {@link MoeStyle} whose logits equal a dense Llama checkpoint's: the test bed with
 * an exactly known answer (DESIGN.md §6). Attention, norms, embeddings and head are copied; every routed expert
 * is a copy of (a part of) the dense SwiGLU MLP F, and the parts are scaled so that, per token,
 * <pre>
 *   mixtral    Σ_k w_k · F(x)                          = F(x)   (renormalised: Σ_k w_k = 1)
 *   qwen2_moe  Σ_k w_k · ½F(x) + sigmoid(0) · F(x)     = F(x)   (routed down_proj halved, shared gate zero)
 *   deepseek   Σ_k w_k · F_b(x) + F_a(x)               = F(x)   (F split by hidden units: F = F_a + F_b)
 * </pre>
 * The last two hold when the routed weights sum to 1. With {@code norm_topk_prob = true} they do by construction;
 * without it (the styles' default) the top-k must hold all the softmax mass, which {@link RouterInit#GROUPED}
 * arranges. Halving is exact in binary floating point; the remaining differences are float rounding of a sum of
 * weights equal to 1 and of the reassociated F_a + F_b.
 *
 * <p>Routers are random (seeded) so that tokens really spread over the experts.
 */
public final class Upcycler {
    private Upcycler() {}

    /** Target std of router logits, in units the router input's norm makes ~1. */
    private static final double RANDOM_SPREAD = 2.0;
    /** Std of the per-group component of a grouped router's logits: groups ~1e6 apart, members ~2 (float keeps ~0.5). */
    private static final double GROUP_SPREAD = 1e6;

    public enum RouterInit {
        /** i.i.d. Gaussian rows: logits of std ~2, so routing weights vary smoothly across tokens and experts. */
        RANDOM,
        /**
         * Experts come in groups of k whose rows share a dominant Gaussian direction (logits ~1e6 apart between
         * groups) plus an i.i.d. part (std ~2) within the group. The losing groups' softmax mass is exp(−Δ), Δ the
         * gap between the two best group scores, which is zero in float unless Δ &lt; ~17: the top-k (one whole
         * group) then hold all the mass, so Σ_k w_k = 1 without renormalisation, while which group wins, and the
         * split inside it, still depend on the token. A token that falls within ~17 of a boundary between two groups
         * breaks this; it is rare (one token of 24 upcycles × 1024 routing decisions in our sweep) and visible: a
         * routing listener sees Σ_k w_k &lt; 1 (the equivalence test checks that premise, not just the logits).
         */
        GROUPED
    }

    /**
     * @param experts routed experts per sparse layer
     * @param topK    experts per token
     */
    public record Options(MoeStyle style, int experts, int topK, boolean normTopKProb, RouterInit router, long seed) {
        public Options {
            if (experts < 1 || topK < 1 || topK > experts) {
                throw new IllegalArgumentException("need 1 <= top-k <= experts, got " + topK + " of " + experts);
            }
            if (router == RouterInit.GROUPED && experts % topK != 0) {
                throw new IllegalArgumentException("the grouped router needs experts (" + experts
                        + ") divisible by top-k (" + topK + ")");
            }
            boolean renormalised = style == MoeStyle.MIXTRAL || normTopKProb && (style == MoeStyle.QWEN2_MOE || topK > 1);
            if (!renormalised && router != RouterInit.GROUPED) {
                throw new IllegalArgumentException(style.family() + " without renormalised top-k weights equals the "
                        + "dense model only with the grouped router");
            }
        }

        /** Mixtral 8 experts top-2 random router; Qwen2-MoE 8 top-2 and DeepSeekMoE 16 top-4, unrenormalised, grouped. */
        public static Options defaults(MoeStyle style, long seed) {
            return switch (style) {
                case MIXTRAL -> new Options(style, 8, 2, true, RouterInit.RANDOM, seed);
                case QWEN2_MOE -> new Options(style, 8, 2, false, RouterInit.GROUPED, seed);
                case DEEPSEEK_MOE -> new Options(style, 16, 4, false, RouterInit.GROUPED, seed);
            };
        }
    }

    /** The MoE config the upcycle of a dense model with these options has. */
    public static MoeConfig config(LlamaConfig dense, Options o) {
        int inter = dense.intermediateSize();
        return switch (o.style()) {
            case MIXTRAL -> new MoeConfig(o.style(), dense, o.experts(), o.topK(), inter, true, 0, 1, List.of(), 0, 1,
                    false);
            // Layer 0 stays dense (mlp_only_layers) to exercise that path too.
            case QWEN2_MOE -> new MoeConfig(o.style(), dense, o.experts(), o.topK(), inter, o.normTopKProb(), inter, 1,
                    List.of(0), 0, 1, true);
            case DEEPSEEK_MOE -> {
                if (inter % 2 != 0) throw new IllegalArgumentException("DeepSeek split needs an even intermediate_size");
                // Fine-grained experts of half the dense width; one shared expert of that width; first layer dense.
                yield new MoeConfig(o.style(), dense, o.experts(), o.topK(), inter / 2, o.normTopKProb(), inter / 2, 1,
                        List.of(), 1, 1, false);
            }
        };
    }

    /** Reads the dense HF Llama directory {@code denseDir}, writes the MoE checkpoint to {@code outDir}. */
    public static MoeConfig upcycle(Path denseDir, Path outDir, Options o) throws IOException {
        try (HfCheckpoint dense = HfCheckpoint.open(denseDir)) {
            String type = dense.config().path("model_type").asText("");
            if (!type.equals("llama")) throw new IOException(denseDir + ": model_type '" + type + "', need a dense llama");
            LlamaConfig dc = LlamaConfig.fromJson(dense.config());
            MoeConfig m = config(dc, o);
            // Tensors keep the dense checkpoint's dtype (copies, halving and splits are exact in F32, F16 and
            // BF16); routers are F32, which the grouped router's 1e6-scale rows need (F16 cannot hold them).
            DType dtype = dense.info(LlamaWeights.EMBED).dtype();
            Set<String> routers = IntStream.range(0, dc.numHiddenLayers()).filter(m::isMoeLayer)
                    .mapToObj(m.style()::router).collect(Collectors.toSet());
            List<TensorSpec> specs = MoeWeights.specs(m, dtype).stream()
                    .map(s -> routers.contains(s.name()) ? new TensorSpec(s.name(), DType.F32, s.shape()) : s)
                    .toList();
            Files.createDirectories(outDir);
            Map<String, String> meta = Map.of("format", "pt", "source", "quantmesh upcycle of " + denseDir.getFileName()
                    + ": " + o.style().family() + ", " + o.experts() + " experts, top-" + o.topK() + ", "
                    + o.router().name().toLowerCase() + " router, seed " + o.seed());
            SplittableRandom rng = new SplittableRandom(o.seed());
            try (SafetensorsWriter w = SafetensorsWriter.open(outDir.resolve(HfCheckpoint.SINGLE), specs, meta)) {
                Map<String, Tensor> layer = Map.of();
                int current = -1;
                for (TensorSpec s : specs) {
                    int l = layerOf(s.name());
                    if (l >= 0 && l != current) {
                        layer = layerTensors(dense, m, o, l, rng);
                        current = l;
                    }
                    Tensor t = l >= 0 ? layer.get(s.name()) : dense.tensor(s.name());
                    if (t == null) throw new IllegalStateException("upcycle produced no tensor " + s.name());
                    w.write(s.name(), t.to(s.dtype()));
                }
                w.commit();
            }
            try (Stream<Path> files = Files.list(denseDir)) {
                for (Path f : files.filter(p -> p.getFileName().toString().startsWith("tokenizer")).toList()) {
                    Durable.writeAtomically(outDir.resolve(f.getFileName().toString()), Files.readAllBytes(f));
                }
            }
            Durable.writeAtomically(outDir.resolve(HfCheckpoint.CONFIG), Json.mapper().writeValueAsBytes(m.toJson()));
            return m;
        }
    }

    private static int layerOf(String name) {
        if (!name.startsWith("model.layers.")) return -1;
        int from = "model.layers.".length();
        return Integer.parseInt(name.substring(from, name.indexOf('.', from)));
    }

    /** Every tensor of MoE layer l (expert copies share one Tensor). */
    private static Map<String, Tensor> layerTensors(HfCheckpoint dense, MoeConfig m, Options o, int l,
                                                    SplittableRandom rng) {
        LlamaConfig c = m.base();
        Map<String, Tensor> t = new HashMap<>();
        for (String suffix : new String[] {"input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight",
                "self_attn.v_proj.weight", "self_attn.o_proj.weight", "post_attention_layernorm.weight"}) {
            t.put(LlamaWeights.layer(l, suffix), dense.tensor(LlamaWeights.layer(l, suffix)));
        }
        if (m.qkvBias()) {
            t.put(LlamaWeights.layer(l, "self_attn.q_proj.bias"), Tensor.zeros(DType.F32, (long) c.numAttentionHeads() * c.headDim()));
            t.put(LlamaWeights.layer(l, "self_attn.k_proj.bias"), Tensor.zeros(DType.F32, c.kvDim()));
            t.put(LlamaWeights.layer(l, "self_attn.v_proj.bias"), Tensor.zeros(DType.F32, c.kvDim()));
        }
        Tensor gate = dense.tensor(LlamaWeights.layer(l, "mlp.gate_proj.weight"));
        Tensor up = dense.tensor(LlamaWeights.layer(l, "mlp.up_proj.weight"));
        Tensor down = dense.tensor(LlamaWeights.layer(l, "mlp.down_proj.weight"));
        if (!m.isMoeLayer(l)) {
            t.put(LlamaWeights.layer(l, "mlp.gate_proj.weight"), gate);
            t.put(LlamaWeights.layer(l, "mlp.up_proj.weight"), up);
            t.put(LlamaWeights.layer(l, "mlp.down_proj.weight"), down);
            return t;
        }
        MoeStyle st = m.style();
        float[] norm = t.get(LlamaWeights.layer(l, "post_attention_layernorm.weight")).toFloatArray();
        t.put(st.router(l), router(o, c.hiddenSize(), norm, rng));
        Tensor[] routed; // gate, up, down of every routed expert
        switch (st) {
            case MIXTRAL -> routed = new Tensor[] {gate, up, down};
            case QWEN2_MOE -> {
                routed = new Tensor[] {gate, up, scaled(down, 0.5f)};
                put(t, p -> st.shared(l, p), gate, up, down);
                t.put(st.sharedGate(l), Tensor.zeros(DType.F32, 1, c.hiddenSize()));
            }
            case DEEPSEEK_MOE -> {
                int half = c.intermediateSize() / 2;
                put(t, p -> st.shared(l, p), rows(gate, 0, half), rows(up, 0, half), cols(down, 0, half));
                routed = new Tensor[] {rows(gate, half, 2 * half), rows(up, half, 2 * half), cols(down, half, 2 * half)};
            }
            default -> throw new AssertionError(st);
        }
        for (int e = 0; e < m.numExperts(); e++) {
            int expert = e;
            put(t, p -> st.expert(l, expert, p), routed);
        }
        return t;
    }

    private static void put(Map<String, Tensor> t, java.util.function.Function<String, String> name, Tensor... gateUpDown) {
        t.put(name.apply("gate"), gateUpDown[0]);
        t.put(name.apply("up"), gateUpDown[1]);
        t.put(name.apply("down"), gateUpDown[2]);
    }

    /** Router [experts, hidden], scaled by the router input's typical norm √d·rms(post-attention norm weight). */
    private static Tensor router(Options o, int hidden, float[] norm, SplittableRandom rng) {
        double ss = 0;
        for (float v : norm) ss += (double) v * v;
        double inputNorm = Math.sqrt(ss); // |x| ≈ √d · rms(weight) for an RMS-normalised x̂ with unit RMS
        double member = RANDOM_SPREAD / inputNorm;
        float[] r = new float[o.experts() * hidden];
        double[] groupRow = new double[hidden];
        for (int e = 0; e < o.experts(); e++) {
            if (o.router() == RouterInit.GROUPED && e % o.topK() == 0) {
                for (int i = 0; i < hidden; i++) groupRow[i] = rng.nextGaussian() * GROUP_SPREAD / inputNorm;
            }
            for (int i = 0; i < hidden; i++) {
                double v = rng.nextGaussian() * member;
                r[e * hidden + i] = (float) (o.router() == RouterInit.GROUPED ? groupRow[i] + v : v);
            }
        }
        return Tensor.ofFloats(r, o.experts(), hidden);
    }

    private static Tensor scaled(Tensor t, float f) {
        float[] v = t.toFloatArray();
        for (int i = 0; i < v.length; i++) v[i] *= f;
        return Tensor.ofFloats(v, t.shape());
    }

    /** Rows [from, to) of a 2-D tensor. */
    private static Tensor rows(Tensor t, int from, int to) {
        int cols = Math.toIntExact(t.dim(1));
        float[] v = new float[(to - from) * cols];
        t.copyRowsTo(from, to - from, v, 0);
        return Tensor.ofFloats(v, to - from, cols);
    }

    /** Columns [from, to) of a 2-D tensor. */
    private static Tensor cols(Tensor t, int from, int to) {
        int rows = Math.toIntExact(t.dim(0)), cols = Math.toIntExact(t.dim(1)), w = to - from;
        float[] all = t.toFloatArray(), v = new float[rows * w];
        for (int r = 0; r < rows; r++) System.arraycopy(all, r * cols + from, v, r * w, w);
        return Tensor.ofFloats(v, rows, w);
    }
}
