package io.quantmesh.quant;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A named quantization recipe: which {@link ColumnQuantizer} each linear gets and whether it runs through the GPTQ
 * loop or plain round-to-nearest. Only recipes whose quantizer exists in this module are registered (docs/PIPELINE.md
 * §Recipes); the others of the issue (afpq-fp4-g128, vptq-v8-2.0, pcdvq-2.0, pcdvq-2.25) join when their
 * quantizers land.
 *
 * @param name      the CLI name, e.g. {@code gptq-int4-g128}
 * @param gptq      true: GPTQ loop with act-order; false: round-to-nearest (same quantizer, no feedback)
 * @param bits      INT bits per weight
 * @param groupSize inputs per group; a layer with fewer inputs uses one group per row (see {@link #groupFor})
 */
public record Recipe(String name, boolean gptq, int bits, int groupSize) {
    private static final Map<String, Recipe> REGISTRY = new LinkedHashMap<>();

    static {
        for (Recipe r : List.of(new Recipe("rtn-int4-g128", false, 4, 128), new Recipe("gptq-int4-g128", true, 4, 128),
                new Recipe("gptq-int3-g128", true, 3, 128), new Recipe("gptq-int2-g128", true, 2, 128))) {
            REGISTRY.put(r.name(), r);
        }
    }

    public Recipe {
        if (bits < 1 || bits > 8) throw new IllegalArgumentException("INT bits must be 1..8, got " + bits);
        if (groupSize < 1) throw new IllegalArgumentException("group size must be >= 1, got " + groupSize);
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
    public MinMaxIntQuantizer quantizerFor(int inputs) {
        return new MinMaxIntQuantizer(bits, groupFor(inputs));
    }

    public String describe() {
        return (gptq ? "GPTQ (act-order)" : "round-to-nearest") + ", INT" + bits + " asymmetric min/max, group " + groupSize;
    }
}
