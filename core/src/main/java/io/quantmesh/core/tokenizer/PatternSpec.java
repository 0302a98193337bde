package io.quantmesh.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.regex.Pattern;

/** A tokenizer.json pattern field: {@code "pattern": {"String": "▁"}} or {@code "pattern": {"Regex": "\\s+"}}. */
record PatternSpec(String literal, String regex) {

    static PatternSpec fromJson(JsonNode owner, String where) {
        JsonNode p = JsonFields.object(owner, "pattern", where);
        String lit = JsonFields.optText(p, "String", where + ".pattern");
        String re = JsonFields.optText(p, "Regex", where + ".pattern");
        if ((lit == null) == (re == null)) {
            throw new IllegalArgumentException(where + ".pattern: expected exactly one of \"String\" or \"Regex\"");
        }
        return new PatternSpec(lit, re);
    }

    Pattern compile() {
        return literal != null ? JsRegex.literal(literal) : JsRegex.regex(regex);
    }
}
