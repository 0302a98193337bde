package io.quantmesh.core.quantized;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The resolved parameters of one quantized linear: its entry under {@code quantization_config.modules} merged over
 * the block's defaults (docs/FORMAT.md §config.json). Always holds {@code representation} and {@code shape}
 * [rows, cols]; the other keys depend on the representation and are read with range checks, so a hostile config
 * fails with the module and key named.
 */
public final class LayerConfig {
    public static final String REPRESENTATION = "representation";
    public static final String SHAPE = "shape";
    public static final String SHARED_TENSORS = "shared_tensors";
    /** Dequantized layers go to float[]: at most this many weights per layer. */
    static final long MAX_WEIGHTS = Integer.MAX_VALUE - 8;

    private final String module;
    private final ObjectNode json;
    private final String representation;
    private final int rows;
    private final int cols;

    private LayerConfig(String module, ObjectNode json) {
        this.module = module;
        this.json = json;
        this.representation = text(REPRESENTATION);
        JsonNode shape = json.get(SHAPE);
        if (shape == null || !shape.isArray() || shape.size() != 2 || !shape.get(0).canConvertToInt()
                || !shape.get(1).canConvertToInt() || !shape.get(0).isIntegralNumber() || !shape.get(1).isIntegralNumber()) {
            throw error("'shape' must be [rows, cols], got " + shape);
        }
        this.rows = shape.get(0).intValue();
        this.cols = shape.get(1).intValue();
        if (rows < 1 || cols < 1 || (long) rows * cols > MAX_WEIGHTS) {
            throw error("shape [" + rows + ", " + cols + "] is empty or has more than " + MAX_WEIGHTS + " weights");
        }
    }

    /** Parses a resolved entry (defaults already merged). */
    public static LayerConfig of(String module, ObjectNode resolved) {
        return new LayerConfig(module, resolved.deepCopy());
    }

    /** A new config for writers: representation and shape set, parameters added with {@link #with}. */
    public static LayerConfig create(String representation, int rows, int cols) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put(REPRESENTATION, representation);
        n.putArray(SHAPE).add(rows).add(cols);
        return new LayerConfig("", n);
    }

    public LayerConfig with(String key, long value) {
        return copy(n -> n.put(key, value));
    }

    public LayerConfig with(String key, boolean value) {
        return copy(n -> n.put(key, value));
    }

    public LayerConfig with(String key, String value) {
        return copy(n -> n.put(key, value));
    }

    /** {@code value} null writes an explicit JSON null (unknown), never omits the key. */
    public LayerConfig withNullable(String key, Long value) {
        return copy(n -> {
            if (value == null) n.putNull(key); else n.put(key, value.longValue());
        });
    }

    private LayerConfig copy(java.util.function.Consumer<ObjectNode> change) {
        ObjectNode n = json.deepCopy();
        change.accept(n);
        return new LayerConfig(module, n);
    }

    /** The module name this config was read for ("" for one built in memory). */
    public String module() {
        return module;
    }

    public String representation() {
        return representation;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** A copy of the resolved JSON. */
    public ObjectNode json() {
        return json.deepCopy();
    }

    public int integer(String key, long min, long max) {
        JsonNode v = json.get(key);
        if (v == null) throw error("missing key '" + key + "'");
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < min || v.longValue() > max) {
            throw error("'" + key + "' must be an integer in " + min + ".." + max + ", got " + v);
        }
        return (int) v.longValue();
    }

    public boolean bool(String key) {
        JsonNode v = json.get(key);
        if (v == null) throw error("missing key '" + key + "'");
        if (!v.isBoolean()) throw error("'" + key + "' must be true or false, got " + v);
        return v.booleanValue();
    }

    public String text(String key) {
        JsonNode v = json.get(key);
        if (v == null) throw error("missing key '" + key + "'");
        if (!v.isTextual()) throw error("'" + key + "' must be a string, got " + v);
        return v.textValue();
    }

    /** A key that must be present, holding an integer or null (unknown). */
    public Long nullableLong(String key) {
        JsonNode v = json.get(key);
        if (v == null) throw error("missing key '" + key + "' (write null when unknown)");
        if (v.isNull()) return null;
        if (!v.isIntegralNumber() || !v.canConvertToLong()) throw error("'" + key + "' must be an integer or null, got " + v);
        return v.longValue();
    }

    /** The tensor another module stores for this module's {@code role}, or null when this module stores its own. */
    public String sharedTensor(String role) {
        JsonNode s = json.get(SHARED_TENSORS);
        if (s == null || s.isNull()) return null;
        if (!s.isObject()) throw error("'" + SHARED_TENSORS + "' must be an object");
        JsonNode v = s.get(role);
        if (v == null) return null;
        if (!v.isTextual() || v.textValue().isEmpty()) throw error("'" + SHARED_TENSORS + "." + role + "' must be a tensor name");
        return v.textValue();
    }

    IllegalArgumentException error(String message) {
        return new IllegalArgumentException((module.isEmpty() ? "" : "module '" + module + "': ") + message);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LayerConfig c && json.equals(c.json);
    }

    @Override
    public int hashCode() {
        return json.hashCode();
    }

    @Override
    public String toString() {
        return json.toString();
    }
}
