package io.quantmesh.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** A tokenizer.json "pre_tokenizer": cuts normalized text into the words that BPE encodes one by one. */
interface PreTokenizer {

    /**
     * Appends the words of {@code piece} to {@code out}. {@code firstSection}: the piece starts the input text
     * (no added token before it), which Metaspace's prepend_scheme "first" needs.
     */
    void split(String piece, boolean firstSection, List<String> out);

    static PreTokenizer fromJson(JsonNode node, String where, int depth) {
        if (node == null || node.isNull()) return null;
        if (depth > 16) throw new IllegalArgumentException(where + ": pre-tokenizers nested more than 16 deep");
        String type = JsonFields.type(node, where);
        return switch (type) {
            case "Sequence" -> {
                List<PreTokenizer> parts = new ArrayList<>();
                JsonNode list = JsonFields.array(node, "pretokenizers", where);
                for (int i = 0; i < list.size(); i++) {
                    PreTokenizer p = fromJson(list.get(i), where + ".pretokenizers[" + i + "]", depth + 1);
                    if (p != null) parts.add(p);
                }
                yield new Chain(List.copyOf(parts));
            }
            case "ByteLevel" -> new ByteLevel(JsonFields.bool(node, "add_prefix_space", true, where),
                    JsonFields.bool(node, "use_regex", true, where));
            case "Metaspace" -> Metaspace.fromJson(node, where);
            case "Split" -> new Split(PatternSpec.fromJson(node, where).compile(),
                    SplitBehavior.fromJson(JsonFields.text(node, "behavior", where)),
                    JsonFields.bool(node, "invert", false, where));
            case "Digits" -> new Digits(JsonFields.bool(node, "individual_digits", false, where));
            case "WhitespaceSplit" -> new WhitespaceSplit();
            default -> throw new IllegalArgumentException(where + ": unsupported pre_tokenizer type \"" + type
                    + "\" (supported: Sequence, ByteLevel, Metaspace, Split, Digits, WhitespaceSplit)");
        };
    }

    record Chain(List<PreTokenizer> parts) implements PreTokenizer {
        @Override
        public void split(String piece, boolean firstSection, List<String> out) {
            List<String> current = List.of(piece);
            for (PreTokenizer p : parts) {
                List<String> next = new ArrayList<>(current.size() * 2);
                for (String s : current) p.split(s, firstSection, next);
                current = next;
            }
            out.addAll(current);
        }
    }

    /**
     * GPT-2 byte-level: optionally a leading space, optionally GPT-2's word regex, then every UTF-8 byte written
     * in the {@link ByteLevelAlphabet}.
     */
    record ByteLevel(boolean addPrefixSpace, boolean useRegex) implements PreTokenizer {
        static final Pattern GPT2 =
                JsRegex.regex("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

        @Override
        public void split(String piece, boolean firstSection, List<String> out) {
            if (addPrefixSpace && !piece.startsWith(" ")) piece = " " + piece;
            if (!useRegex) {
                out.add(ByteLevelAlphabet.encode(piece));
                return;
            }
            for (int[] m : JsRegex.matches(GPT2, piece)) out.add(ByteLevelAlphabet.encode(piece.substring(m[0], m[1])));
        }
    }

    /**
     * SentencePiece-style: spaces become the replacement (▁), which is prepended per prepend_scheme, and with
     * split the text is cut before each ▁ (HF's MergedWithNext). The reference encoder ignores split; HF honours it.
     */
    record Metaspace(String replacement, String prependScheme, boolean splitOnReplacement) implements PreTokenizer {
        static Metaspace fromJson(JsonNode node, String where) {
            String replacement = JsonFields.text(node, "replacement", where);
            if (replacement.codePointCount(0, replacement.length()) != 1) {
                throw new IllegalArgumentException(where + ".replacement must be one character");
            }
            String scheme = JsonFields.optText(node, "prepend_scheme", where);
            if (scheme == null) scheme = JsonFields.bool(node, "add_prefix_space", true, where) ? "always" : "never";
            if (!List.of("first", "always", "never").contains(scheme)) {
                throw new IllegalArgumentException(where + ".prepend_scheme: expected first, always or never, got " + scheme);
            }
            return new Metaspace(replacement, scheme, JsonFields.bool(node, "split", true, where));
        }

        @Override
        public void split(String piece, boolean firstSection, List<String> out) {
            String s = piece.replace(" ", replacement);
            boolean prepend = prependScheme.equals("always") || (prependScheme.equals("first") && firstSection);
            if (prepend && !s.startsWith(replacement)) s = replacement + s;
            if (!splitOnReplacement) {
                out.add(s);
                return;
            }
            List<int[]> marks = new ArrayList<>();
            for (int i = s.indexOf(replacement); i >= 0; i = s.indexOf(replacement, i + replacement.length())) {
                marks.add(new int[] {i, i + replacement.length()});
            }
            out.addAll(SplitBehavior.MERGED_WITH_NEXT.split(s, marks, false));
        }
    }

    record Split(Pattern pattern, SplitBehavior behavior, boolean invert) implements PreTokenizer {
        @Override
        public void split(String piece, boolean firstSection, List<String> out) {
            out.addAll(behavior.split(piece, JsRegex.matches(pattern, piece), invert));
        }
    }

    /** ASCII digits isolated one by one, or kept as contiguous runs. */
    record Digits(boolean individual) implements PreTokenizer {
        private static final Pattern ONE = Pattern.compile("[0-9]");
        private static final Pattern RUN = Pattern.compile("[0-9]+");

        @Override
        public void split(String piece, boolean firstSection, List<String> out) {
            out.addAll(SplitBehavior.ISOLATED.split(piece, JsRegex.matches(individual ? ONE : RUN, piece), false));
        }
    }

    /** Words separated by (JavaScript) whitespace, the whitespace dropped. */
    record WhitespaceSplit() implements PreTokenizer {
        private static final Pattern SPACE = JsRegex.regex("\\s+");

        @Override
        public void split(String piece, boolean firstSection, List<String> out) {
            out.addAll(SplitBehavior.REMOVED.split(piece, JsRegex.matches(SPACE, piece), false));
        }
    }
}
