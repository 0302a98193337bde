package io.quantmesh.quant;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A named quantization recipe: which {@link ColumnQuantizer} each linear gets and whether it runs through the GPTQ
 * loop or plain round-to-nearest. Only recipes whose quantizer exists in this module are registered (docs/PIPELINE.md
 * §Recipes); the others of the issue (vptq-v8-2.0, pcdvq-2.0, pcdvq-2.25) join when their quantizers land.
 *
 * @param name      the CLI name, e.g. {@code gptq-int4-g128}
 * @param gptq      true: GPTQ loop with act-order; false: round-to-nearest (same quantizer, no feedback)
 * @param codec     a core scalar codec name: INT2..INT8 (asymmetric, zero point) or FP4/FP3/NF4/NF3 (AFPQ two-scale)
 * @param groupSize inputs per group; a layer with fewer inputs uses one group per row (see {@link #groupFor})
 * @param range     how each group's range is fit (min/max, or BitDistiller's clip search weighted by H_jj)
 */
public record Recipe(String name, boolean gptq, String codec, int groupSize, ScalarGroupQuantizer.Range range) {
    private static final Map<String, Recipe> REGISTRY = new LinkedHashMap<>();

    static {
        var minMax = ScalarGroupQuantizer.Range.MIN_MAX;
        var clip = ScalarGroupQuantizer.Range.WEIGHTED_CLIP_SEARCH;
        for (Recipe r : List.of(new Recipe("rtn-int4-g128", false, "INT4", 128, minMax),
                new Recipe("gptq-int4-g128", true, "INT4", 128, clip), new Recipe("gptq-int3-g128", true, "INT3", 128, clip),
                new Recipe("gptq-int2-g128", true, "INT2", 128, clip), new Recipe("afpq-fp4-g128", true, "FP4", 128, minMax))) {
            REGISTRY.put(r.name(), r);
        }
    }

    public Recipe {
        ScalarGroupQuantizer.of(codec, groupSize, range);   // validates codec name and group size
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

    /** The quantizer of one layer with {@code inputs} columns. */
    public ScalarGroupQuantizer quantizerFor(int inputs) {
        return ScalarGroupQuantizer.of(codec, groupFor(inputs), range);
    }

    public String describe() {
        String grid = codec.startsWith("INT") ? codec + " asymmetric" : codec + " two-scale (AFPQ)";
        String fit = range == ScalarGroupQuantizer.Range.MIN_MAX ? "min/max" : "H-weighted clip search";
        return (gptq ? "GPTQ (act-order)" : "round-to-nearest") + ", " + grid + ", " + fit + ", group " + groupSize;
    }
}
