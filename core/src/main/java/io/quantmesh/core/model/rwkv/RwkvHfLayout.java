package io.quantmesh.core.model.rwkv;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Hugging Face naming conventions of RWKV checkpoints, and how their tensors relate to the canonical ones:
 * <ul>
 *   <li>{@link #RWKV5}: {@code Rwkv5ForCausalLM} ({@code rwkv.blocks.N.attention.time_mix_key}, ...). RWKV-LM names
 *       with emb/ln0/att/ffn renamed and the time_mix letters spelled out; values raw, vectors (1, 1, C).
 *       v5.1 (which transformers never supported) is written the same way with {@code attention.time_first}.</li>
 *   <li>{@link #RWKV6}: {@code Rwkv6ForCausalLM}: the same renames, time_maa names kept; the low-rank factors keep
 *       RWKV-LM's x @ W orientation (time_maa_w1 (C, 5D), time_maa_w2 (5, D, C), time_decay_w1 (C, Dd),
 *       time_decay_w2 (Dd, C)), so they are transposed to and from the canonical out x in.</li>
 *   <li>{@link #RWKV7_FLA}: flash-linear-attention's {@code RWKV7ForCausalLM} ({@code model.layers.N.attn.r_proj.weight},
 *       {@code attn.w_lora.lora.0.weight} = w1, {@code lora.2.weight} = w2, {@code lora.2.bias} = w0, ...).</li>
 * </ul>
 */
public enum RwkvHfLayout {
    RWKV5("Rwkv5ForCausalLM", "rwkv5", "rwkv.embeddings.weight", "head.weight", "rwkv.ln_out.", "rwkv.blocks.",
            Map.of("ln0", "pre_ln", "att", "attention", "ffn", "feed_forward"),
            Map.of("att.time_mix_k", "time_mix_key", "att.time_mix_v", "time_mix_value",
                    "att.time_mix_r", "time_mix_receptance", "att.time_mix_g", "time_mix_gate",
                    "ffn.time_mix_k", "time_mix_key", "ffn.time_mix_r", "time_mix_receptance")),
    RWKV6("Rwkv6ForCausalLM", "rwkv6", "rwkv.embeddings.weight", "head.weight", "rwkv.ln_out.", "rwkv.blocks.",
            Map.of("ln0", "pre_ln", "att", "attention", "ffn", "feed_forward"), Map.of()),
    RWKV7_FLA("RWKV7ForCausalLM", "rwkv7", "model.embeddings.weight", "lm_head.weight", "model.norm.",
            "model.layers.", Map.of("ln0", "pre_norm", "ln1", "attn_norm", "ln2", "ffn_norm", "att", "attn"),
            flaLeaves());

    private static final Pattern BLOCK = Pattern.compile("blocks\\.(\\d+)\\.([a-z0-9_]+)\\.(.+)");

    private final String architecture, modelType, embedding, head, lnOut, blocks;
    private final Map<String, String> modules, leaves;        // canonical -> HF
    private final Map<String, String> modulesBack, leavesBack; // HF -> canonical
    private final Pattern hfBlock;

    RwkvHfLayout(String architecture, String modelType, String embedding, String head, String lnOut,
                 String blocks, Map<String, String> modules, Map<String, String> leaves) {
        this.architecture = architecture;
        this.modelType = modelType;
        this.embedding = embedding;
        this.head = head;
        this.lnOut = lnOut;
        this.blocks = blocks;
        this.modules = modules;
        this.leaves = leaves;
        this.modulesBack = invert(modules);
        this.leavesBack = new HashMap<>();
        leaves.forEach((k, v) -> leavesBack.put(k.substring(0, k.indexOf('.') + 1) + v, k.substring(k.indexOf('.') + 1)));
        this.hfBlock = Pattern.compile(Pattern.quote(blocks) + "(\\d+)\\.([a-z0-9_]+)\\.(.+)");
    }

    private static Map<String, String> flaLeaves() {
        Map<String, String> m = new HashMap<>();
        m.put("att.receptance.weight", "r_proj.weight");
        m.put("att.key.weight", "k_proj.weight");
        m.put("att.value.weight", "v_proj.weight");
        m.put("att.output.weight", "o_proj.weight");
        m.put("att.ln_x.weight", "g_norm.weight");
        m.put("att.ln_x.bias", "g_norm.bias");
        for (String x : new String[] {"w", "a", "v", "g"}) {
            m.put("att." + x + "0", x + "_lora.lora.2.bias");
            m.put("att." + x + "1", x + "_lora.lora.0.weight");
            m.put("att." + x + "2", x + "_lora.lora.2.weight");
        }
        return Map.copyOf(m);
    }

    private static Map<String, String> invert(Map<String, String> m) {
        Map<String, String> out = new HashMap<>();
        m.forEach((k, v) -> out.put(v, k));
        return out;
    }

    public static RwkvHfLayout of(RwkvVersion v) {
        return switch (v) {
            case V5_1, V5_2 -> RWKV5;
            case V6 -> RWKV6;
            case V7 -> RWKV7_FLA;
        };
    }

    /** The layout a config.json declares (model_type, else architectures), or null for a non-RWKV config. */
    static RwkvHfLayout fromConfig(String modelType, Iterable<String> architectures) {
        for (RwkvHfLayout l : values()) {
            if (l.modelType.equals(modelType) || ("rwkv7_fla".equals(modelType) && l == RWKV7_FLA)) return l;
        }
        for (String a : architectures) {
            for (RwkvHfLayout l : values()) {
                if (l.architecture.equals(a)) return l;
            }
        }
        return null;
    }

    public String architecture() {
        return architecture;
    }

    public String modelType() {
        return modelType;
    }

    /** The HF name of a canonical parameter. */
    public String hfName(String canonical) {
        if (canonical.equals("emb.weight")) return embedding;
        if (canonical.equals("head.weight")) return head;
        if (canonical.startsWith("ln_out.")) return lnOut + canonical.substring("ln_out.".length());
        Matcher m = BLOCK.matcher(canonical);
        if (!m.matches()) throw new IllegalArgumentException("not a canonical RWKV parameter name: " + canonical);
        String module = m.group(2), leaf = m.group(3);
        return blocks + m.group(1) + "." + modules.getOrDefault(module, module) + "."
                + leaves.getOrDefault(module + "." + leaf, leaf);
    }

    /** The canonical name of an HF tensor, or null when the name is not part of this layout. */
    public String canonicalName(String hf) {
        if (hf.equals(embedding)) return "emb.weight";
        if (hf.equals(head)) return "head.weight";
        if (hf.startsWith(lnOut)) return "ln_out." + hf.substring(lnOut.length());
        Matcher m = hfBlock.matcher(hf);
        if (!m.matches()) return null;
        String module = modulesBack.getOrDefault(m.group(2), m.group(2));
        String leaf = leavesBack.getOrDefault(module + "." + m.group(3), m.group(3));
        return "blocks." + m.group(1) + "." + module + "." + leaf;
    }

    /** How an HF tensor's layout differs from the canonical one. */
    enum Orientation { SAME, TRANSPOSED, SLICES_TRANSPOSED }

    Orientation orientation(String canonical) {
        if (this != RWKV6) return Orientation.SAME;
        if (canonical.endsWith(".time_maa_w2")) return Orientation.SLICES_TRANSPOSED;
        if (canonical.endsWith(".time_maa_w1") || canonical.endsWith(".time_decay_w1")
                || canonical.endsWith(".time_decay_w2")) {
            return Orientation.TRANSPOSED;
        }
        return Orientation.SAME;
    }

    /** The shape HF code declares for a parameter whose canonical shape is {@code s}. */
    long[] hfShape(String canonical, long[] s) {
        return switch (orientation(canonical)) {
            case TRANSPOSED -> new long[] {s[1], s[0]};
            case SLICES_TRANSPOSED -> new long[] {s[0], s[2], s[1]};
            case SAME -> s.length == 1 && isTokenShift(canonical) ? new long[] {1, 1, s[0]} : s;
        };
    }

    /** Token-shift vectors are (1, 1, C) parameters in the HF modules (v6's time_decay too). */
    private boolean isTokenShift(String canonical) {
        String leaf = canonical.substring(canonical.lastIndexOf('.') + 1);
        return switch (this) {
            case RWKV5 -> leaf.startsWith("time_mix_");
            case RWKV6 -> leaf.startsWith("time_maa_") || (leaf.equals("time_decay") && canonical.contains(".att."));
            case RWKV7_FLA -> leaf.startsWith("x_") && canonical.contains(".att.");
        };
    }
}
