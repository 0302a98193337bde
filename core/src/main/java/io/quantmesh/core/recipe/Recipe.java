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
 *                  or a universal polar codebook id {@code polar-kK-aA-bB-sS-vV} (PCDVQ, {@link PcdvqQuantizer})
 * @param groupSize inputs per group; a layer with fewer inputs uses one group per row (see {@link #groupFor});
 *                  −1 for polar recipes (group-free)
 * @param range     how each group's range is fit (min/max, or BitDistiller's clip search weighted by H_jj); null for
 *                  polar recipes
 */
public record Recipe(String name, boolean gptq, String codec, int groupSize, RangeFit range) {
    // before REGISTRY: the static block below validates polar ids with it
    private static final Pattern POLAR_ID = Pattern.compile("polar-k(\\d+)-a(\\d+)-b(\\d+)-s\\d+-v\\d+");
    private static final Map<String, Recipe> REGISTRY = new LinkedHashMap<>();

    static {
        var minMax = RangeFit.MIN_MAX;
        var clip = RangeFit.WEIGHTED_CLIP_SEARCH;
        for (Recipe r : List.of(new Recipe("rtn-int4-g128", false, "INT4", 128, minMax),
                new Recipe("gptq-int4-g128", true, "INT4", 128, clip), new Recipe("gptq-int3-g128", true, "INT3", 128, clip),
                new Recipe("gptq-int2-g128", true, "INT2", 128, clip), new Recipe("afpq-fp4-g128", true, "FP4", 128, minMax),
                new Recipe("pcdvq-2.0", true, "polar-k8-a14-b2-s0-v1", -1, null),
                new Recipe("pcdvq-2.25", true, "polar-k8-a16-b2-s0-v1", -1, null))) {
            REGISTRY.put(r.name(), r);
        }
    }

    public Recipe {
        if (codec.startsWith("polar-")) {
            polarShape(codec);   // validates the id
            if (!gptq || groupSize != -1 || range != null) {
                throw new IllegalArgumentException(name + ": polar recipes run the GPTQ loop, group-free, no range fit");
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
        String grid = codec.startsWith("INT") ? codec + " asymmetric" : codec + " two-scale (AFPQ)";
        String fit = range == RangeFit.MIN_MAX ? "min/max" : "H-weighted clip search";
        return (gptq ? "GPTQ (act-order)" : "round-to-nearest") + ", " + grid + ", " + fit + ", group " + groupSize;
    }
}
