package io.quantmesh.core.recipe;

import io.quantmesh.core.codec.ScalarCodec;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A named quantization recipe: which column quantizer each linear gets and whether it runs through the GPTQ loop or
 * plain round-to-nearest. Recipes live in core because they are the contract between stages: a submission names
 * one, calibration-svc rejects unknown names before spending any compute, codebook-svc builds the
 * {@link #codebooks()} it needs, quant-svc runs it. Only recipes the pipeline can run end to end are registered
 * (docs/PIPELINE.md §Recipes).
 *
 * @param name      the CLI name, e.g. {@code gptq-int4-g128}
 * @param gptq      true: GPTQ loop with act-order; false: round-to-nearest (same quantizer, no feedback)
 * @param codec     a core scalar codec name: INT2..INT8 (asymmetric, zero point) or FP4/FP3/NF4/NF3 (AFPQ two-scale),
 *                  or a universal polar codebook id {@code polar-kK-aA-bB-sS-vV} (PCDVQ, {@link PcdvqQuantizer}),
 *                  or a VPTQ-style VQ spec {@code vq-vV-kK-rR-oP} (v-vectors along the output dimension, a per-layer
 *                  Hessian-weighted k-means codebook of K centroids, a residual codebook of R centroids or 0 for none,
 *                  P percent of the columns as outliers with their own codebook; {@link #vectorShape})
 * @param groupSize inputs per group; a layer with fewer inputs uses one group per row (see {@link #groupFor});
 *                  −1 for polar and vq recipes (group-free)
 * @param range     how each group's range is fit (min/max, or BitDistiller's clip search weighted by H_jj); null for
 *                  polar and vq recipes
 */
public record Recipe(String name, boolean gptq, String codec, int groupSize, RangeFit range) {
    // before REGISTRY: the static block below validates polar ids with it
    private static final Pattern POLAR_ID = Pattern.compile("polar-k(\\d+)-a(\\d+)-b(\\d+)-s\\d+-v\\d+");
    private static final Pattern VQ_ID = Pattern.compile("vq-v(\\d{1,2})-k(\\d{1,8})-r(\\d{1,8})-o(\\d{1,2})");
    private static final Map<String, Recipe> REGISTRY = new LinkedHashMap<>();

    static {
        var minMax = RangeFit.MIN_MAX;
        var clip = RangeFit.WEIGHTED_CLIP_SEARCH;
        for (Recipe r : List.of(new Recipe("rtn-int4-g128", false, "INT4", 128, minMax),
                new Recipe("gptq-int4-g128", true, "INT4", 128, clip), new Recipe("gptq-int3-g128", true, "INT3", 128, clip),
                new Recipe("gptq-int2-g128", true, "INT2", 128, clip), new Recipe("afpq-fp4-g128", true, "FP4", 128, minMax),
                new Recipe("pcdvq-2.0", true, "polar-k8-a14-b2-s0-v1", -1, null),
                new Recipe("pcdvq-2.25", true, "polar-k8-a16-b2-s0-v1", -1, null),
                // 16-bit index per 8 weights = 2.0 bits: no room for a residual stage; no outlier columns (DESIGN §3
                // gives no fraction for 2.0 bits; docs/PIPELINE.md §VPTQ)
                new Recipe("vptq-v8-2.0", true, "vq-v8-k65536-r0-o0", -1, null))) {
            REGISTRY.put(r.name(), r);
        }
    }

    public Recipe {
        if (codec.startsWith("polar-") || codec.startsWith("vq-")) {
            if (codec.startsWith("polar-")) polarShape(codec); else vectorShape(codec);   // validates the id
            if (!gptq || groupSize != -1 || range != null) {
                throw new IllegalArgumentException(name + ": polar and vq recipes run the GPTQ loop, group-free, no range fit");
            }
        } else {
            ScalarCodec.named(codec);   // validates the codec name
            if (groupSize < 1 || range == null) {
                throw new IllegalArgumentException(name + ": scalar recipes need a group size >= 1 and a range fit");
            }
        }
    }

    /** True for PCDVQ recipes: {@link #codec} is a universal polar codebook id. */
    public boolean polar() {
        return codec.startsWith("polar-");
    }

    /** True for VPTQ-style recipes: {@link #codec} is a {@code vq-vV-kK-rR-oP} spec. */
    public boolean vector() {
        return codec.startsWith("vq-");
    }

    /**
     * {v, K, R, P} of a VQ spec {@code vq-vV-kK-rR-oP}: vector length 1..64, main codebook 1..2^24 centroids,
     * residual codebook 0..2^24 (0: one stage), outlier columns 0..99 percent.
     */
    public static int[] vectorShape(String id) {
        Matcher m = VQ_ID.matcher(id);
        if (!m.matches()) throw new IllegalArgumentException("not a vq spec: '" + id + "' (expected vq-vV-kK-rR-oP)");
        int[] s = {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)),
                Integer.parseInt(m.group(4))};
        if (s[0] < 1 || s[0] > 64 || s[1] < 1 || s[1] > 1 << 24 || s[2] > 1 << 24) {
            throw new IllegalArgumentException("vq spec '" + id + "': v must be 1..64, K 1..2^24, R 0..2^24");
        }
        return s;
    }

    /** {k, a, b} of a polar codebook id: k-vectors, 2^a directions, 2^b magnitudes. */
    public static int[] polarShape(String id) {
        Matcher m = POLAR_ID.matcher(id);
        if (!m.matches()) throw new IllegalArgumentException("not a polar codebook id: '" + id + "'");
        return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))};
    }

    /** The registered recipe of that name; an unknown name is an IllegalArgumentException listing the known ones. */
    public static Recipe named(String name) {
        Recipe r = REGISTRY.get(name);
        if (r == null) {
            throw new IllegalArgumentException("unknown recipe '" + name + "'; known recipes: " + String.join(", ", names()));
        }
        return r;
    }

    public static List<String> names() {
        return List.copyOf(REGISTRY.keySet());
    }

    public static List<Recipe> all() {
        return List.copyOf(REGISTRY.values());
    }

    /**
     * The group size used for a layer with {@code inputs} columns: {@code min(groupSize, inputs)}. When inputs is
     * not a multiple of it, the last group of each row is shorter (stories260K: in = 64 gives one group of 64 per
     * row; in = 172 gives groups of 128 + 44). Shorter groups cost a few more scale bits, never a wrong code.
     */
    public int groupFor(int inputs) {
        return Math.min(groupSize, inputs);
    }

    /** The universal codebook ids this recipe needs from codebook-svc (empty for scalar recipes). */
    public List<String> codebooks() {
        return polar() ? List.of(codec) : List.of();
    }

    public String describe() {
        if (polar()) {
            int[] kab = polarShape(codec);
            return "PCDVQ: randomized Hadamard + GPTQ (act-order), k = " + kab[0] + ", 2^" + kab[1]
                    + " DACC directions x 2^" + kab[2] + " magnitudes (" + codec + ")";
        }
        if (vector()) {
            int[] s = vectorShape(codec);
            return "VPTQ-style VQ: GPTQ (act-order), v = " + s[0] + " along the output dim, H-weighted k-means "
                    + s[1] + " centroids per layer (capped: docs/PIPELINE.md)"
                    + (s[2] == 0 ? ", no residual" : " + residual " + s[2]) + (s[3] == 0 ? ", no outliers" : ", " + s[3] + " % outlier columns");
        }
        String grid = codec.startsWith("INT") ? codec + " asymmetric" : codec + " two-scale (AFPQ)";
        String fit = range == RangeFit.MIN_MAX ? "min/max" : "H-weighted clip search";
        return (gptq ? "GPTQ (act-order)" : "round-to-nearest") + ", " + grid + ", " + fit + ", group " + groupSize;
    }
}
