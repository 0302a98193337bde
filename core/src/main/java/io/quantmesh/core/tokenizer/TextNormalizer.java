package io.quantmesh.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/** A tokenizer.json "normalizer": rewrites each piece of text between added tokens before pre-tokenization. */
interface TextNormalizer {

    String normalize(String text);

    /** Builds the normalizer described by {@code node} (null or JSON null: none). */
    static TextNormalizer fromJson(JsonNode node, String where, int depth) {
        if (node == null || node.isNull()) return null;
        if (depth > 16) throw new IllegalArgumentException(where + ": normalizers nested more than 16 deep");
        String type = JsonFields.type(node, where);
        return switch (type) {
            case "Sequence" -> {
                List<TextNormalizer> parts = new ArrayList<>();
                JsonNode list = JsonFields.array(node, "normalizers", where);
                for (int i = 0; i < list.size(); i++) {
                    TextNormalizer n = fromJson(list.get(i), where + ".normalizers[" + i + "]", depth + 1);
                    if (n != null) parts.add(n);
                }
                yield new Chain(List.copyOf(parts));
            }
            case "Prepend" -> new Prepend(JsonFields.text(node, "prepend", where));
            case "Replace" -> new Replace(PatternSpec.fromJson(node, where).compile(),
                    JsonFields.text(node, "content", where));
            case "NFC" -> new Unicode(Normalizer.Form.NFC);
            case "NFD" -> new Unicode(Normalizer.Form.NFD);
            case "NFKC" -> new Unicode(Normalizer.Form.NFKC);
            case "NFKD" -> new Unicode(Normalizer.Form.NFKD);
            case "Lowercase" -> text -> text.toLowerCase(Locale.ROOT);
            case "StripAccents" -> new StripAccents();
            case "Strip" -> new Strip(JsonFields.bool(node, "strip_left", false, where),
                    JsonFields.bool(node, "strip_right", false, where));
            default -> throw new IllegalArgumentException(where + ": unsupported normalizer type \"" + type
                    + "\" (supported: Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents)");
        };
    }

    record Chain(List<TextNormalizer> parts) implements TextNormalizer {
        @Override
        public String normalize(String text) {
            for (TextNormalizer n : parts) text = n.normalize(text);
            return text;
        }
    }

    /** Prepends a string (Llama's "▁"), to non-empty text only as Hugging Face tokenizers does. */
    record Prepend(String prefix) implements TextNormalizer {
        @Override
        public String normalize(String text) {
            return text.isEmpty() ? text : prefix + text;
        }
    }

    record Replace(Pattern pattern, String content) implements TextNormalizer {
        @Override
        public String normalize(String text) {
            return JsRegex.replaceAll(pattern, text, content);
        }
    }

    record Unicode(Normalizer.Form form) implements TextNormalizer {
        @Override
        public String normalize(String text) {
            return Normalizer.isNormalized(text, form) ? text : Normalizer.normalize(text, form);
        }
    }

    /** Removes combining marks (\p{M}), as the reference does; HF applies it after an NFD normalizer. */
    record StripAccents() implements TextNormalizer {
        private static final Pattern MARKS = Pattern.compile("\\p{M}");

        @Override
        public String normalize(String text) {
            return MARKS.matcher(text).replaceAll("");
        }
    }

    record Strip(boolean left, boolean right) implements TextNormalizer {
        @Override
        public String normalize(String text) {
            if (left) text = JsRegex.trimStart(text);
            if (right) text = JsRegex.trimEnd(text);
            return text;
        }
    }
}
