package io.quantmesh.core.quantized;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code quantization_config} block of a quantized checkpoint's config.json (docs/FORMAT.md §config.json):
 * reserved keys ({@code quant_method = "quantmesh"}, {@code format_version}, {@code method}, {@code seed},
 * {@code producer}, {@code modules}), every other top-level key a default for all layers, and {@code modules}
 * mapping each quantized linear to its overrides (at least its {@code shape}). A module's parameters are its entry
 * merged over the defaults.
 */
public final class QuantizationConfig {
    public static final String KEY = "quantization_config";
    public static final String QUANT_METHOD = "quantmesh";
    public static final int FORMAT_VERSION = 1;
    public static final String MODULES = "modules";
    private static final Set<String> RESERVED = Set.of("quant_method", "format_version", "method", "seed", "producer", MODULES);

    private final String method;
    private final int formatVersion;
    private final ObjectNode block;
    private final Map<String, LayerConfig> modules;

    private QuantizationConfig(String method, int formatVersion, ObjectNode block, Map<String, LayerConfig> modules) {
        this.method = method;
        this.formatVersion = formatVersion;
        this.block = block;
        this.modules = Collections.unmodifiableMap(modules);
    }

    /** True when config.json declares a quantmesh checkpoint. */
    public static boolean isQuantmesh(JsonNode modelConfig) {
        return QUANT_METHOD.equals(modelConfig.path(KEY).path("quant_method").asText(null));
    }

    /** Parses and checks the block of a model config.json (every module's config is resolved, not its tensors). */
    public static QuantizationConfig parse(JsonNode modelConfig) {
        JsonNode q = modelConfig.get(KEY);
        if (q == null || !q.isObject()) throw new IllegalArgumentException("config.json has no '" + KEY + "' object");
        if (!QUANT_METHOD.equals(q.path("quant_method").asText(null))) {
            throw new IllegalArgumentException(KEY + ".quant_method is " + q.get("quant_method") + ", not \"" + QUANT_METHOD + "\"");
        }
        JsonNode v = q.get("format_version");
        if (v == null || !v.isIntegralNumber() || v.longValue() < 1) {
            throw new IllegalArgumentException(KEY + ".format_version must be a positive integer, got " + v);
        }
        if (v.longValue() > FORMAT_VERSION) {
            throw new IllegalArgumentException("quantized checkpoint format " + v + " is newer than this reader (" + FORMAT_VERSION + ")");
        }
        JsonNode m = q.get("method");
        if (m == null || !m.isTextual()) throw new IllegalArgumentException(KEY + ".method must be a string, got " + m);
        JsonNode mods = q.get(MODULES);
        if (mods == null || !mods.isObject() || mods.isEmpty()) {
            throw new IllegalArgumentException(KEY + "." + MODULES + " must be a non-empty object");
        }
        ObjectNode defaults = JsonNodeFactory.instance.objectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = q.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!RESERVED.contains(e.getKey())) defaults.set(e.getKey(), e.getValue());
        }
        Map<String, LayerConfig> modules = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = mods.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().isEmpty() || !e.getValue().isObject()) {
                throw new IllegalArgumentException(KEY + "." + MODULES + "['" + e.getKey() + "'] must be an object");
            }
            ObjectNode resolved = defaults.deepCopy();
            resolved.setAll((ObjectNode) e.getValue());
            modules.put(e.getKey(), LayerConfig.of(e.getKey(), resolved));
        }
        return new QuantizationConfig(m.textValue(), v.intValue(), (ObjectNode) q.deepCopy(), modules);
    }

    /**
     * The block for these layers: the most common representation's most common parameter values become the
     * defaults (ties: first seen), each module keeps its shape and whatever differs. Deterministic in the map's order.
     *
     * @param producer free-form facts about how the checkpoint was made (may be null)
     */
    public static ObjectNode build(String method, Long seed, ObjectNode producer, Map<String, LayerConfig> layers) {
        if (layers.isEmpty()) throw new IllegalArgumentException("no quantized layers");
        ObjectNode q = JsonNodeFactory.instance.objectNode();
        q.put("quant_method", QUANT_METHOD);
        q.put("format_version", FORMAT_VERSION);
        q.put("method", method);
        if (seed != null) q.put("seed", seed.longValue());
        if (producer != null) q.set("producer", producer.deepCopy());
        ObjectNode defaults = defaults(layers);
        q.setAll(defaults);
        ObjectNode mods = q.putObject(MODULES);
        layers.forEach((name, layer) -> {
            ObjectNode full = layer.json(), entry = mods.putObject(name);
            entry.set(LayerConfig.SHAPE, full.get(LayerConfig.SHAPE));
            for (Iterator<Map.Entry<String, JsonNode>> it = full.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals(LayerConfig.SHAPE)) continue;
                if (!e.getValue().equals(defaults.get(e.getKey()))) entry.set(e.getKey(), e.getValue());
            }
        });
        return q;
    }

    private static ObjectNode defaults(Map<String, LayerConfig> layers) {
        String representation = mostCommon(layers.values().stream().map(l -> (JsonNode) l.json().get(LayerConfig.REPRESENTATION)).toList()).asText();
        List<ObjectNode> same = new ArrayList<>();
        for (LayerConfig l : layers.values()) if (l.representation().equals(representation)) same.add(l.json());
        ObjectNode defaults = JsonNodeFactory.instance.objectNode();
        for (Iterator<String> it = same.getFirst().fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (key.equals(LayerConfig.SHAPE) || key.equals(LayerConfig.SHARED_TENSORS)) continue;
            List<JsonNode> values = new ArrayList<>();
            for (ObjectNode l : same) if (l.has(key)) values.add(l.get(key));
            defaults.set(key, mostCommon(values));
        }
        return defaults;
    }

    private static JsonNode mostCommon(List<JsonNode> values) {
        Map<JsonNode, Integer> counts = new HashMap<>();
        JsonNode best = null;
        int bestCount = 0;
        for (JsonNode v : values) {
            int c = counts.merge(v, 1, Integer::sum);
            if (c > bestCount) {
                best = v;
                bestCount = c;
            }
        }
        return best;
    }

    public String method() {
        return method;
    }

    public int formatVersion() {
        return formatVersion;
    }

    /** The block as stored. */
    public ObjectNode json() {
        return block.deepCopy();
    }

    /** Every quantized module (name without ".weight") with its resolved config, in the block's order. */
    public Map<String, LayerConfig> modules() {
        return modules;
    }
}
