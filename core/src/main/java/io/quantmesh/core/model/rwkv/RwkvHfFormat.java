package io.quantmesh.core.model.rwkv;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantmesh.core.Json;
import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.checkpoint.TensorSource;
import io.quantmesh.core.io.Durable;
import io.quantmesh.core.quantized.QuantizedCheckpointReader;
import io.quantmesh.core.safetensors.SafetensorsWriter;
import io.quantmesh.core.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes RWKV checkpoints in Hugging Face layout ({@code config.json} + safetensors) under the naming
 * conventions of {@link RwkvHfLayout}. Epsilons come from the config as the HF code uses them: v5 group norm 1e-5
 * (F.group_norm default), v6 {@code 1e-5 * head_size_divisor^2}, v7 {@code head_dim * norm_eps}.
 */
public final class RwkvHfFormat {
    private RwkvHfFormat() {}

    /** True for a directory whose config.json declares an RWKV v5/v6/v7 model. */
    public static boolean isRwkvDir(Path dir) {
        Path config = dir.resolve(HfCheckpoint.CONFIG);
        try {
            if (!Files.isRegularFile(config) || Files.size(config) > (64 << 20)) return false;
            JsonNode c = Json.mapper().readTree(config.toFile());
            return c != null && layout(c) != null;
        } catch (IOException e) {
            return false;
        }
    }

    public static RwkvWeights load(Path dir) throws IOException {
        try (TensorSource ckpt = QuantizedCheckpointReader.openDense(dir)) {
            return load(ckpt);
        }
    }

    /** Canonical weights of an open checkpoint (copied, so the checkpoint may be closed afterwards). */
    public static RwkvWeights load(TensorSource ckpt) throws IOException {
        JsonNode cfg = ckpt.config();
        RwkvHfLayout layout = layout(cfg);
        if (layout == null) {
            String type = cfg.path("model_type").asText("?");
            throw new IOException(ckpt.dir() + ": model_type '" + type + "' is not RWKV v5/v6/v7"
                    + ("rwkv".equals(type) ? " (RWKV v4 is not supported)" : ""));
        }
        if (layout == RwkvHfLayout.RWKV7_FLA) checkFlaSupported(ckpt.dir(), cfg);
        int c = (int) ckpt.shape(layout.hfName("emb.weight"))[1];
        RwkvVersion version = switch (layout) {
            case RWKV5 -> ckpt.contains(layout.hfName("blocks.0.att.gate.weight")) ? RwkvVersion.V5_2 : RwkvVersion.V5_1;
            case RWKV6 -> RwkvVersion.V6;
            case RWKV7_FLA -> RwkvVersion.V7;
        };
        Map<String, Tensor> canonical = new LinkedHashMap<>();
        try {
            for (String hf : ckpt.tensorNames()) {
                String name = layout.canonicalName(hf);
                if (name == null) throw new IOException(ckpt.dir() + ": tensor " + hf + " is not part of " + layout.architecture());
                if (version == RwkvVersion.V7 && name.matches("blocks\\.0\\.att\\.v[012]")) continue; // unused by v7
                canonical.put(name, RwkvWeights.canonicalShape(version, name, fromHf(layout, name, ckpt.tensor(hf)), c));
            }
            if (!canonical.containsKey("head.weight") && cfg.path("tie_word_embeddings").asBoolean(false)) {
                canonical.put("head.weight", canonical.get("emb.weight"));
            }
            double lnEps = switch (layout) {
                case RWKV5, RWKV6 -> cfg.path("layer_norm_epsilon").asDouble(1e-5);
                case RWKV7_FLA -> cfg.path("norm_eps").asDouble(1e-5);
            };
            Double gnEps = switch (layout) {
                case RWKV5 -> 1e-5;
                case RWKV6 -> 1e-5 * Math.pow(cfg.path("head_size_divisor").asDouble(8), 2);
                case RWKV7_FLA -> headSize(canonical) * cfg.path("norm_eps").asDouble(1e-5);
            };
            RwkvWeights w = RwkvWeights.infer(version, canonical, lnEps, gnEps);
            checkConfig(ckpt.dir(), cfg, w.config(), layout);
            return w;
        } catch (IllegalArgumentException e) {
            throw new IOException(ckpt.dir() + ": " + withHfNames(layout, e.getMessage()), e);
        }
    }

    private static final java.util.regex.Pattern CANONICAL =
            java.util.regex.Pattern.compile("(blocks\\.\\d+\\.[A-Za-z0-9_.]*[A-Za-z0-9_]|emb\\.weight|head\\.weight|ln_out\\.\\w+)");

    /** Messages speak canonical names; add the checkpoint's own spelling of each. */
    private static String withHfNames(RwkvHfLayout layout, String message) {
        java.util.Set<String> hf = new java.util.LinkedHashSet<>();
        java.util.regex.Matcher m = CANONICAL.matcher(message);
        while (m.find()) {
            try {
                hf.add(layout.hfName(m.group(1)));
            } catch (IllegalArgumentException ignored) {
                // not a parameter name after all
            }
        }
        return hf.isEmpty() ? message : message + " (" + layout.architecture() + " name: " + String.join(", ", hf) + ")";
    }

    static RwkvHfLayout layout(JsonNode cfg) {
        List<String> archs = new ArrayList<>();
        cfg.path("architectures").forEach(a -> archs.add(a.asText()));
        return RwkvHfLayout.fromConfig(cfg.path("model_type").asText(""), archs);
    }

    private static void checkFlaSupported(Path dir, JsonNode cfg) throws IOException {
        if (cfg.hasNonNull("attn")) throw new IOException(dir + ": hybrid RWKV-7 with attention layers is not supported");
        if (!cfg.path("norm_first").asBoolean(true)) {
            throw new IOException(dir + ": RWKV-7 without the layer-0 pre-norm (norm_first=false) is not supported");
        }
        int hidden = cfg.path("hidden_size").asInt(-1);
        for (JsonNode v : cfg.path("value_dim")) {
            if (v.asInt() != hidden) throw new IOException(dir + ": value_dim " + v.asInt() + " != hidden_size is not supported");
        }
    }

    private static int headSize(Map<String, Tensor> canonical) {
        Tensor rk = canonical.get("blocks.0.att.r_k");
        if (rk == null || rk.rank() != 2) throw new IllegalArgumentException("missing tensor blocks.0.att.r_k (H, N)");
        return (int) rk.dim(1);
    }

    /** Where config.json states a dimension, it must agree with the tensors. */
    private static void checkConfig(Path dir, JsonNode cfg, RwkvConfig c, RwkvHfLayout layout) throws IOException {
        Map<String, Integer> stated = new LinkedHashMap<>();
        stated.put("hidden_size", c.hiddenSize());
        stated.put("num_hidden_layers", c.numLayers());
        stated.put("vocab_size", c.vocabSize());
        stated.put("intermediate_size", c.ffnSize());
        stated.put(layout == RwkvHfLayout.RWKV7_FLA ? "head_dim" : "head_size", c.headSize());
        if (layout != RwkvHfLayout.RWKV7_FLA) stated.put("attention_hidden_size", c.hiddenSize());
        for (Map.Entry<String, Integer> e : stated.entrySet()) {
            JsonNode v = cfg.get(e.getKey());
            if (v != null && !v.isNull() && v.asInt() != e.getValue()) {
                throw new IOException(dir + ": config.json " + e.getKey() + " = " + v.asInt() + " but the tensors say "
                        + e.getValue());
            }
        }
    }

    /** Writes {@code w} as an HF checkpoint directory in its version's layout (config.json + model.safetensors). */
    public static void save(RwkvWeights w, Path dir) throws IOException {
        RwkvHfLayout layout = RwkvHfLayout.of(w.version());
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : w.tensors().entrySet()) {
            out.put(layout.hfName(e.getKey()), toHf(layout, e.getKey(), e.getValue()));
        }
        Files.createDirectories(dir);
        SafetensorsWriter.write(dir.resolve(HfCheckpoint.SINGLE), out, Map.of("format", "pt"));
        Durable.writeAtomically(dir.resolve(HfCheckpoint.CONFIG), Json.mapper().writeValueAsBytes(config(w.config(), layout)));
    }

    static ObjectNode config(RwkvConfig c, RwkvHfLayout layout) {
        ObjectNode n = Json.mapper().createObjectNode();
        ArrayNode archs = n.putArray("architectures");
        archs.add(layout.architecture());
        n.put("model_type", layout.modelType());
        n.put("rwkv_version", c.version().label());
        n.put("hidden_size", c.hiddenSize());
        n.put("num_hidden_layers", c.numLayers());
        n.put("intermediate_size", c.ffnSize());
        n.put("vocab_size", c.vocabSize());
        n.put("tie_word_embeddings", false);
        if (layout == RwkvHfLayout.RWKV7_FLA) {
            n.put("head_dim", c.headSize());
            n.put("num_heads", c.numHeads());
            n.put("hidden_ratio", (double) c.ffnSize() / c.hiddenSize());
            n.put("decay_low_rank_dim", c.lowRank().decay());
            n.put("a_low_rank_dim", c.lowRank().a());
            n.put("v_low_rank_dim", c.lowRank().value());
            n.put("gate_low_rank_dim", c.lowRank().gate());
            n.put("norm_eps", c.layerNormEps());
            n.put("norm_first", true);
            n.put("norm_bias", true);
            n.put("hidden_act", "sqrelu");
        } else {
            n.put("attention_hidden_size", c.hiddenSize());
            n.put("head_size", c.headSize());
            n.put("layer_norm_epsilon", c.layerNormEps());
            n.put("rescale_every", 0);
            if (layout == RwkvHfLayout.RWKV6) n.put("head_size_divisor", Math.sqrt(c.groupNormEps() / 1e-5));
        }
        return n;
    }

    /** An HF tensor in canonical orientation (values untouched: HF checkpoints are raw like RWKV-LM). */
    private static Tensor fromHf(RwkvHfLayout layout, String canonical, Tensor t) {
        return layout.orientation(canonical) == RwkvHfLayout.Orientation.SAME ? t : transposeLast2(t, canonical);
    }

    private static Tensor toHf(RwkvHfLayout layout, String canonical, Tensor t) {
        long[] hfShape = layout.hfShape(canonical, t.shape());
        return layout.orientation(canonical) == RwkvHfLayout.Orientation.SAME ? t.reshape(hfShape)
                : transposeLast2(t, canonical);
    }

    /** Swaps the last two dimensions of a 2-D or 3-D tensor (3-D: each slice). */
    private static Tensor transposeLast2(Tensor t, String name) {
        long[] s = t.shape();
        if (s.length < 2 || s.length > 3) {
            throw new IllegalArgumentException(name + ": expected a 2-D or 3-D tensor, got rank " + s.length);
        }
        int rows = (int) s[s.length - 2], cols = (int) s[s.length - 1];
        int slices = s.length == 3 ? (int) s[0] : 1;
        float[] v = t.toFloatArray();
        float[] out = new float[v.length];
        for (int k = 0; k < slices; k++) {
            float[] slice = RwkvMath.transpose(java.util.Arrays.copyOfRange(v, k * rows * cols, (k + 1) * rows * cols),
                    rows, cols);
            System.arraycopy(slice, 0, out, k * rows * cols, slice.length);
        }
        return s.length == 3 ? Tensor.ofFloats(out, slices, cols, rows) : Tensor.ofFloats(out, cols, rows);
    }
}
