package io.quantmesh.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A tokenizer.json "decoder" compiled for streaming: what bytes each token contributes, plus how many leading
 * copies of a strip character the first token of a sequence loses (Llama's Strip(" ", start=1) and Metaspace's
 * prefix space). Supported: ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence. A Strip of
 * trailing characters ({@code stop > 0}) after Fuse would need the end of the stream and is not applied.
 */
final class PieceDecoder {
    private sealed interface Step permits ReplaceStep, ByteFallbackStep, ByteLevelStep, StripTokenStep {}

    private record ReplaceStep(Pattern pattern, String content) implements Step {}

    private record ByteFallbackStep() implements Step {}

    private record ByteLevelStep() implements Step {}

    private record StripTokenStep(String content, int start, int stop) implements Step {}

    private final List<Step> steps = new ArrayList<>();
    private String firstStripContent;
    private int firstStripCount;
    private boolean fused;

    /** {@code node} null or JSON null: token strings are emitted as UTF-8. */
    PieceDecoder(JsonNode node) {
        if (node != null && !node.isNull()) add(node, "decoder", 0);
    }

    private void add(JsonNode node, String where, int depth) {
        if (depth > 16) throw new IllegalArgumentException(where + ": decoders nested more than 16 deep");
        String type = JsonFields.type(node, where);
        switch (type) {
            case "Sequence" -> {
                JsonNode list = JsonFields.array(node, "decoders", where);
                for (int i = 0; i < list.size(); i++) add(list.get(i), where + ".decoders[" + i + "]", depth + 1);
            }
            case "Replace" -> steps.add(new ReplaceStep(PatternSpec.fromJson(node, where).compile(),
                    JsonFields.text(node, "content", where)));
            case "ByteFallback" -> steps.add(new ByteFallbackStep());
            case "ByteLevel" -> steps.add(new ByteLevelStep());
            case "Fuse" -> fused = true;
            case "Strip" -> {
                String content = JsonFields.text(node, "content", where);
                if (content.length() != 1) throw new IllegalArgumentException(where + ".content must be one character");
                int start = JsonFields.integer(node, "start", 0, 1 << 20, where);
                int stop = JsonFields.integer(node, "stop", 0, 1 << 20, where);
                if (fused) stripFirst(content, start); // after Fuse: the start of the whole text
                else steps.add(new StripTokenStep(content, start, stop));
            }
            case "Metaspace" -> {
                String replacement = JsonFields.text(node, "replacement", where);
                steps.add(new ReplaceStep(JsRegex.literal(replacement), " "));
                String scheme = JsonFields.optText(node, "prepend_scheme", where);
                boolean prefix = scheme != null ? !scheme.equals("never")
                        : JsonFields.bool(node, "add_prefix_space", true, where);
                if (prefix) stripFirst(" ", 1);
            }
            default -> throw new IllegalArgumentException(where + ": unsupported decoder type \"" + type
                    + "\" (supported: Sequence, ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip)");
        }
    }

    private void stripFirst(String content, int count) {
        if (firstStripContent != null && !firstStripContent.equals(content)) {
            throw new IllegalArgumentException("decoder strips two different leading characters");
        }
        firstStripContent = content;
        firstStripCount += count;
    }

    /** The bytes {@code token} decodes to in the middle of a sequence. */
    byte[] bytes(String token) {
        String s = token;
        for (Step step : steps) {
            switch (step) {
                case ReplaceStep r -> s = JsRegex.replaceAll(r.pattern(), s, r.content());
                case ByteFallbackStep b -> {
                    int v = byteFallbackValue(s);
                    if (v >= 0) return new byte[] {(byte) v}; // raw byte: the caller reassembles UTF-8
                }
                case ByteLevelStep b -> {
                    return byteLevel(s);
                }
                case StripTokenStep st -> s = strip(s, st);
            }
        }
        return Utf8.encode(s);
    }

    /** Removes up to the configured number of leading strip characters from a sequence's first token. */
    byte[] stripFirst(byte[] piece) {
        if (firstStripContent == null || firstStripCount == 0) return piece;
        byte[] c = firstStripContent.getBytes(StandardCharsets.UTF_8);
        int off = 0;
        for (int k = 0; k < firstStripCount && startsWith(piece, off, c); k++) off += c.length;
        return off == 0 ? piece : java.util.Arrays.copyOfRange(piece, off, piece.length);
    }

    private static boolean startsWith(byte[] a, int off, byte[] prefix) {
        if (a.length - off < prefix.length) return false;
        for (int i = 0; i < prefix.length; i++) if (a[off + i] != prefix[i]) return false;
        return true;
    }

    /** "&lt;0x0A&gt;" → 10; anything else → -1. */
    static int byteFallbackValue(String s) {
        if (s.length() != 6 || !s.startsWith("<0x") || s.charAt(5) != '>') return -1;
        int hi = Character.digit(s.charAt(3), 16);
        int lo = Character.digit(s.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    /** Each alphabet character back to its byte; a token with a character outside the alphabet stays UTF-8. */
    private static byte[] byteLevel(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            int b = ByteLevelAlphabet.byteOf(s.charAt(i));
            if (b < 0) return Utf8.encode(s);
            out.write(b);
        }
        return out.toByteArray();
    }

    private static String strip(String s, StripTokenStep st) {
        char c = st.content().charAt(0);
        int from = 0;
        while (from < st.start() && from < s.length() && s.charAt(from) == c) from++;
        int to = s.length();
        for (int k = 0; k < st.stop() && to > from && s.charAt(to - 1) == c; k++) to--;
        return s.substring(from, to);
    }
}
