package io.quantmesh.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * An entry of tokenizer.json's "added_tokens": a string that is cut out of the input before normalization and
 * becomes exactly one id. {@code lstrip}/{@code rstrip} also swallow whitespace on that side.
 */
record AddedToken(int id, String content, boolean special, boolean lstrip, boolean rstrip) {

    static AddedToken fromJson(JsonNode node, String where) {
        if (!node.isObject()) throw JsonFields.bad(where, "an object", node);
        String content = JsonFields.text(node, "content", where);
        if (content.isEmpty()) throw new IllegalArgumentException(where + ".content is empty");
        return new AddedToken(JsonFields.integer(node, "id", 0, BpeModel.MAX_ID, where), content,
                JsonFields.bool(node, "special", false, where), JsonFields.bool(node, "lstrip", false, where),
                JsonFields.bool(node, "rstrip", false, where));
    }
}
