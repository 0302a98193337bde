package io.quantmesh.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

/** Typed, defensive access to tokenizer.json fields: a wrong type is an error that names the field. */
final class JsonFields {
    private JsonFields() {}

    static JsonNode object(JsonNode parent, String field, String where) {
        JsonNode n = parent.get(field);
        if (n == null || !n.isObject()) throw bad(where + "." + field, "an object", n);
        return n;
    }

    static JsonNode array(JsonNode parent, String field, String where) {
        JsonNode n = parent.get(field);
        if (n == null || !n.isArray()) throw bad(where + "." + field, "an array", n);
        return n;
    }

    static String text(JsonNode parent, String field, String where) {
        JsonNode n = parent.get(field);
        if (n == null || !n.isTextual()) throw bad(where + "." + field, "a string", n);
        return n.textValue();
    }

    /** A string field that may be absent or null. */
    static String optText(JsonNode parent, String field, String where) {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isTextual()) throw bad(where + "." + field, "a string or null", n);
        return n.textValue();
    }

    static boolean bool(JsonNode parent, String field, boolean absent, String where) {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) return absent;
        if (!n.isBoolean()) throw bad(where + "." + field, "true or false", n);
        return n.booleanValue();
    }

    static int integer(JsonNode parent, String field, int min, int max, String where) {
        JsonNode n = parent.get(field);
        if (n == null || !n.canConvertToInt() || !n.isIntegralNumber()) throw bad(where + "." + field, "an integer", n);
        int v = n.intValue();
        if (v < min || v > max) {
            throw new IllegalArgumentException(where + "." + field + " = " + v + " is outside [" + min + ", " + max + "]");
        }
        return v;
    }

    /** The "type" of a component object. */
    static String type(JsonNode node, String where) {
        if (!node.isObject()) throw bad(where, "an object", node);
        return text(node, "type", where);
    }

    static IllegalArgumentException bad(String field, String expected, JsonNode got) {
        String kind = got == null ? "nothing" : got.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
        return new IllegalArgumentException(field + ": expected " + expected + ", got " + kind);
    }
}
