package io.quantmesh.core.model.rwkv;

import io.quantmesh.core.tensor.DType;
import io.quantmesh.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * All parameters of an RWKV model under canonical names, in one convention whatever file they came from.
 *
 * <p>Canonical convention: RWKV-LM parameter names ({@code blocks.3.att.time_mix_k}); values as RWKV-LM trains them
 * (raw {@code time_decay}, not rwkv.cpp's pre-computed {@code exp(-exp(.))}); every matrix out x in ({@code y = W x},
 * also the low-rank projections, which RWKV-LM stores in x @ W orientation); per-channel vectors 1-D; F32.
 *
 * <p>Each parameter has a {@link Kind}, so RWKVQuant can treat the element-wise multiplication parameters
 * (token-shift mixes, decays, bonuses, v7's k_k/k_a/r_k and low-rank biases) with their own codebooks and the
 * projection matrices with the GPTQ-family quantizers.
 */
public final class RwkvWeights {

    /** How a parameter acts on activations. */
    public enum Kind {
        /** The token embedding table (a lookup, not a product). */
        EMBEDDING,
        /** A projection matrix (out x in), including the v6/v7 low-rank factors and the head. */
        MATRIX,
        /** A per-channel vector (or per-head table) multiplied into activations or state element-wise. */
        ELEMENTWISE,
        /** LayerNorm / GroupNorm affine parameters. */
        NORM
    }

    /** One expected parameter: canonical name, canonical shape, kind. */
    public record Spec(String name, long[] shape, Kind kind) {
        public Spec {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }
    }

    private final RwkvConfig config;
    private final Map<String, Tensor> tensors;
    private final Map<String, Kind> kinds;

    private RwkvWeights(RwkvConfig config, Map<String, Tensor> tensors, Map<String, Kind> kinds) {
        this.config = config;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.kinds = Collections.unmodifiableMap(kinds);
    }

    /**
     * Validates that {@code tensors} holds exactly the parameters of {@code config} with their canonical shapes and
     * copies them into owned F32 memory (sources may be memory-mapped files that close later).
     */
    public static RwkvWeights of(RwkvConfig config, Map<String, Tensor> tensors) {
        List<Spec> specs = specs(config);
        Map<String, Tensor> owned = new LinkedHashMap<>();
        Map<String, Kind> kinds = new LinkedHashMap<>();
        for (Spec s : specs) {
            Tensor t = tensors.get(s.name());
            if (t == null) throw new IllegalArgumentException("RWKV " + config.version().label() + ": missing tensor " + s.name());
            if (!Arrays.equals(t.shape(), s.shape())) {
                throw new IllegalArgumentException("RWKV tensor " + s.name() + ": shape " + Arrays.toString(t.shape())
                        + ", expected " + Arrays.toString(s.shape()));
            }
            if (!t.dtype().isFloating()) throw new IllegalArgumentException("RWKV tensor " + s.name() + " is " + t.dtype());
            owned.put(s.name(), ownedF32(t));
            kinds.put(s.name(), s.kind());
        }
        for (String name : tensors.keySet()) {
            if (!owned.containsKey(name)) {
                throw new IllegalArgumentException("RWKV " + config.version().label() + ": unexpected tensor " + name);
            }
        }
        return new RwkvWeights(config, owned, kinds);
    }

    /**
     * Infers the dimensions of a {@code version} model from its canonical tensors and builds the weights;
     * {@code groupNormEps} null means the version's default.
     */
    public static RwkvWeights infer(RwkvVersion version, Map<String, Tensor> tensors, double layerNormEps,
                                    Double groupNormEps) {
        Tensor emb = need(tensors, "emb.weight", 2);
        int vocab = dim(emb, 0), c = dim(emb, 1);
        int layers = 0;
        while (tensors.containsKey("blocks." + layers + ".ln1.weight")) layers++;
        if (layers == 0) throw new IllegalArgumentException("RWKV checkpoint has no blocks.0.ln1.weight");
        int ffn = dim(need(tensors, "blocks.0.ffn.key.weight", 2), 0);
        int headSize;
        RwkvConfig.LowRank lowRank = RwkvConfig.LowRank.NONE;
        switch (version) {
            case V5_1 -> {
                long heads = need(tensors, "blocks.0.att.time_decay", -1).numel();
                if (heads <= 0 || c % heads != 0) {
                    throw new IllegalArgumentException("RWKV 5.1 time_decay has " + heads + " heads for width " + c);
                }
                headSize = (int) (c / heads);
            }
            case V5_2 -> headSize = dim(need(tensors, "blocks.0.att.time_faaaa", 2), 1);
            case V6 -> {
                headSize = dim(need(tensors, "blocks.0.att.time_faaaa", 2), 1);
                int mix5 = dim(need(tensors, "blocks.0.att.time_maa_w1", 2), 0);
                if (mix5 % 5 != 0) throw new IllegalArgumentException("RWKV 6 time_maa_w1 rows " + mix5 + " not 5 * rank");
                lowRank = new RwkvConfig.LowRank(mix5 / 5, dim(need(tensors, "blocks.0.att.time_decay_w1", 2), 0), 0, 0, 0);
            }
            case V7 -> {
                headSize = dim(need(tensors, "blocks.0.att.r_k", 2), 1);
                int value = layers > 1 ? dim(need(tensors, "blocks.1.att.v1", 2), 0) : 0;
                lowRank = new RwkvConfig.LowRank(0, dim(need(tensors, "blocks.0.att.w1", 2), 0),
                        dim(need(tensors, "blocks.0.att.a1", 2), 0), value, dim(need(tensors, "blocks.0.att.g1", 2), 0));
            }
            default -> throw new IllegalStateException(version.name());
        }
        RwkvConfig config = new RwkvConfig(version, vocab, c, layers, headSize, ffn, lowRank, layerNormEps,
                groupNormEps != null ? groupNormEps : version.defaultGroupNormEps());
        return of(config, tensors);
    }

    private static Tensor need(Map<String, Tensor> tensors, String name, int rank) {
        Tensor t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException("RWKV checkpoint: missing tensor " + name);
        if (rank >= 0 && t.rank() != rank) {
            throw new IllegalArgumentException("RWKV tensor " + name + " has shape " + Arrays.toString(t.shape())
                    + ", expected rank " + rank);
        }
        return t;
    }

    private static int dim(Tensor t, int i) {
        long d = t.dim(i);
        if (d <= 0 || d > Integer.MAX_VALUE / 8) throw new IllegalArgumentException("RWKV dimension out of range: " + d);
        return (int) d;
    }

    /** The canonical parameter list of a model with {@code c}'s dimensions, in a stable order. */
    public static List<Spec> specs(RwkvConfig c) {
        long v = c.vocabSize(), d = c.hiddenSize(), h = c.numHeads(), n = c.headSize(), f = c.ffnSize();
        RwkvConfig.LowRank lr = c.lowRank();
        List<Spec> s = new ArrayList<>();
        s.add(new Spec("emb.weight", new long[] {v, d}, Kind.EMBEDDING));
        s.add(new Spec("blocks.0.ln0.weight", new long[] {d}, Kind.NORM));
        s.add(new Spec("blocks.0.ln0.bias", new long[] {d}, Kind.NORM));
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "blocks." + i + ".";
            for (String ln : new String[] {"ln1", "ln2", "att.ln_x"}) {
                s.add(new Spec(p + ln + ".weight", new long[] {d}, Kind.NORM));
                s.add(new Spec(p + ln + ".bias", new long[] {d}, Kind.NORM));
            }
            String a = p + "att.", m = p + "ffn.";
            switch (c.version()) {
                case V5_1, V5_2 -> {
                    boolean v52 = c.version() == RwkvVersion.V5_2;
                    vectors(s, d, a, v52 ? new String[] {"time_mix_k", "time_mix_v", "time_mix_r", "time_mix_g"}
                            : new String[] {"time_mix_k", "time_mix_v", "time_mix_r"});
                    long[] perHead = v52 ? new long[] {h, n} : new long[] {h};
                    s.add(new Spec(a + "time_decay", perHead, Kind.ELEMENTWISE));
                    s.add(new Spec(a + (v52 ? "time_faaaa" : "time_first"), perHead, Kind.ELEMENTWISE));
                    squares(s, d, a, v52 ? new String[] {"receptance", "key", "value", "gate", "output"}
                            : new String[] {"receptance", "key", "value", "output"});
                    vectors(s, d, m, "time_mix_k", "time_mix_r");
                    squares(s, d, m, "receptance");
                }
                case V6 -> {
                    vectors(s, d, a, "time_maa_x", "time_maa_w", "time_maa_k", "time_maa_v", "time_maa_r", "time_maa_g");
                    s.add(new Spec(a + "time_maa_w1", new long[] {5L * lr.mix(), d}, Kind.MATRIX));
                    s.add(new Spec(a + "time_maa_w2", new long[] {5, d, lr.mix()}, Kind.MATRIX));
                    vectors(s, d, a, "time_decay");
                    s.add(new Spec(a + "time_decay_w1", new long[] {lr.decay(), d}, Kind.MATRIX));
                    s.add(new Spec(a + "time_decay_w2", new long[] {d, lr.decay()}, Kind.MATRIX));
                    s.add(new Spec(a + "time_faaaa", new long[] {h, n}, Kind.ELEMENTWISE));
                    squares(s, d, a, "receptance", "key", "value", "gate", "output");
                    vectors(s, d, m, "time_maa_k", "time_maa_r");
                    squares(s, d, m, "receptance");
                }
                case V7 -> {
                    vectors(s, d, a, "x_r", "x_w", "x_k", "x_v", "x_a", "x_g");
                    lowRank(s, a, "w", lr.decay(), d, true);
                    lowRank(s, a, "a", lr.a(), d, true);
                    if (i > 0) lowRank(s, a, "v", lr.value(), d, true);
                    lowRank(s, a, "g", lr.gate(), d, false);
                    vectors(s, d, a, "k_k", "k_a");
                    s.add(new Spec(a + "r_k", new long[] {h, n}, Kind.ELEMENTWISE));
                    squares(s, d, a, "receptance", "key", "value", "output");
                    vectors(s, d, m, "x_k");
                }
                default -> throw new IllegalStateException(c.version().name());
            }
            s.add(new Spec(m + "key.weight", new long[] {f, d}, Kind.MATRIX));
            s.add(new Spec(m + "value.weight", new long[] {d, f}, Kind.MATRIX));
        }
        s.add(new Spec("ln_out.weight", new long[] {d}, Kind.NORM));
        s.add(new Spec("ln_out.bias", new long[] {d}, Kind.NORM));
        s.add(new Spec("head.weight", new long[] {v, d}, Kind.MATRIX));
        return s;
    }

    /**
     * Canonical shape of a loaded tensor: per-channel vectors 1-D (HF (1, 1, C), rwkv.cpp (C) or (H, N, 1)),
     * per-head tables (H, N) (rwkv.cpp (H, N, 1)), v5.1's per-head decay and bonus (H); matrices unchanged.
     */
    static Tensor canonicalShape(RwkvVersion v, String name, Tensor t, int c) {
        long[] s = t.shape();
        String leaf = name.substring(name.lastIndexOf('.') + 1);
        boolean v5Table = (v == RwkvVersion.V5_1 || v == RwkvVersion.V5_2)
                && (leaf.equals("time_decay") || leaf.equals("time_first") || leaf.equals("time_faaaa"));
        if (v == RwkvVersion.V5_1 && v5Table) return t.reshape(t.numel());
        if (v5Table || leaf.equals("r_k") || leaf.equals("time_faaaa")) {
            return s.length == 3 && s[2] == 1 ? t.reshape(s[0], s[1]) : t;
        }
        boolean matrix = name.endsWith(".weight") && !name.contains(".ln") && !name.startsWith("ln_out.")
                || leaf.matches("time_maa_w[12]|time_decay_w[12]|[wavg][12]");
        return matrix || t.numel() != c ? t : t.reshape(c);
    }

    private static void vectors(List<Spec> s, long d, String prefix, String... names) {
        for (String n : names) s.add(new Spec(prefix + n, new long[] {d}, Kind.ELEMENTWISE));
    }

    private static void squares(List<Spec> s, long d, String prefix, String... names) {
        for (String n : names) s.add(new Spec(prefix + n + ".weight", new long[] {d, d}, Kind.MATRIX));
    }

    /** v7 low-rank pair x1 (rank x C), x2 (C x rank) and, where the formula adds one, the bias x0 (C). */
    private static void lowRank(List<Spec> s, String prefix, String x, long rank, long d, boolean bias) {
        if (bias) s.add(new Spec(prefix + x + "0", new long[] {d}, Kind.ELEMENTWISE));
        s.add(new Spec(prefix + x + "1", new long[] {rank, d}, Kind.MATRIX));
        s.add(new Spec(prefix + x + "2", new long[] {d, rank}, Kind.MATRIX));
    }

    private static Tensor ownedF32(Tensor t) {
        long n = t.numel();
        MemorySegment seg = Arena.ofAuto().allocate(Math.max(1, n * 4), 64).asSlice(0, n * 4);
        Tensor out = new Tensor(DType.F32, t.shape(), seg);
        if (t.dtype() == DType.F32) {
            MemorySegment.copy(t.segment(), 0, seg, 0, n * 4);
        } else {
            for (long i = 0; i < n; i++) out.setFloat(i, t.getFloat(i));
        }
        return out;
    }

    public RwkvConfig config() {
        return config;
    }

    public RwkvVersion version() {
        return config.version();
    }

    /** Every parameter, canonical names in {@link #specs} order. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException("no RWKV parameter named " + name);
        return t;
    }

    /** A copy of a parameter's values. */
    public float[] floats(String name) {
        return tensor(name).toFloatArray();
    }

    public Kind kind(String name) {
        Kind k = kinds.get(name);
        if (k == null) throw new IllegalArgumentException("no RWKV parameter named " + name);
        return k;
    }

    /** The element-wise multiplication parameters (token-shift / time-mix vectors, decays, bonuses, ...) by name. */
    public Map<String, Tensor> elementwiseParameters() {
        return ofKind(Kind.ELEMENTWISE);
    }

    /** The projection matrices (out x in) by name, head included, embedding excluded. */
    public Map<String, Tensor> matrixParameters() {
        return ofKind(Kind.MATRIX);
    }

    public Map<String, Tensor> ofKind(Kind kind) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        tensors.forEach((name, t) -> {
            if (kinds.get(name) == kind) out.put(name, t);
        });
        return Collections.unmodifiableMap(out);
    }

    /** The same model with one parameter replaced (same shape), e.g. by its quantized-dequantized values. */
    public RwkvWeights with(String name, Tensor replacement) {
        Tensor old = tensor(name);
        if (!Arrays.equals(old.shape(), replacement.shape())) {
            throw new IllegalArgumentException(name + ": replacement shape " + Arrays.toString(replacement.shape())
                    + " differs from " + Arrays.toString(old.shape()));
        }
        Map<String, Tensor> copy = new LinkedHashMap<>(tensors);
        copy.put(name, ownedF32(replacement));
        return new RwkvWeights(config, copy, new LinkedHashMap<>(kinds));
    }
}
