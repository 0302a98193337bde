package io.quantmesh.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Constructed tokenizer.json files whose encodings are derived by hand (no node needed). */
class HfTokenizerTest {
    private static final ObjectMapper OM = new ObjectMapper();

    /** A BPE model over the given vocabulary (ids in order) and merges ("a b" form). */
    static ObjectNode json(List<String> vocab, List<String> merges) {
        ObjectNode root = OM.createObjectNode();
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        ObjectNode v = model.putObject("vocab");
        for (int i = 0; i < vocab.size(); i++) v.put(vocab.get(i), i);
        ArrayNode m = model.putArray("merges");
        merges.forEach(m::add);
        root.putArray("added_tokens");
        return root;
    }

    static HfTokenizer load(ObjectNode json) throws TokenizerFormatException {
        return HfTokenizer.parse(json.toString().getBytes(StandardCharsets.UTF_8), null);
    }

    static HfTokenizer load(String json) throws TokenizerFormatException {
        return HfTokenizer.parse(json.getBytes(StandardCharsets.UTF_8), null);
    }

    @Test
    void lowestRankMergesFirstAndLeftmostWinsTies() throws Exception {
        // ids: a0 b1 c2 ab3 bc4 aa5
        HfTokenizer t = load(json(List.of("a", "b", "c", "ab", "bc", "aa"), List.of("b c", "a b", "a a")));
        assertArrayEquals(new int[] {0, 4}, t.encode("abc"), "'b c' (rank 0) beats 'a b' (rank 1)");
        assertArrayEquals(new int[] {5, 0}, t.encode("aaa"), "equal ranks: the leftmost pair merges first");
        assertArrayEquals(new int[] {5, 5}, t.encode("aaaa"));
        assertArrayEquals(new int[] {3, 3}, t.encode("abab"));
    }

    @Test
    void mergesInArrayFormEqualStringForm() throws Exception {
        ObjectNode strings = json(List.of("a", "b", "c", "ab", "abc"), List.of("a b", "ab c"));
        ObjectNode arrays = strings.deepCopy();
        ArrayNode m = ((ObjectNode) arrays.get("model")).putArray("merges");
        m.addArray().add("a").add("b");
        m.addArray().add("ab").add("c");
        for (String s : List.of("abc", "cab", "abcabc", "ccc")) {
            assertArrayEquals(load(strings).encode(s), load(arrays).encode(s), s);
        }
        assertArrayEquals(new int[] {4, 2, 3}, load(arrays).encode("abccab"));
    }

    @Test
    void unknownCharactersUseByteFallbackThenUnkThenNothing() throws Exception {
        List<String> vocab = new java.util.ArrayList<>(List.of("<unk>", "a"));
        for (int b = 0; b < 256; b++) vocab.add(String.format("<0x%02X>", b)); // <0xNN> = id 2 + NN
        ObjectNode j = json(vocab, List.of());
        ((ObjectNode) j.get("model")).put("byte_fallback", true).put("unk_token", "<unk>");
        j.set("decoder", OM.readTree("{\"type\":\"ByteFallback\"}"));
        // é = C3 A9
        assertArrayEquals(new int[] {1, 2 + 0xC3, 2 + 0xA9, 1}, load(j).encode("aéa"));
        assertEquals("aéa", load(j).decode(load(j).encode("aéa")));

        ObjectNode noBytes = json(List.of("<unk>", "a", "<0xC3>"), List.of());
        ((ObjectNode) noBytes.get("model")).put("byte_fallback", true).put("unk_token", "<unk>").put("fuse_unk", true);
        assertArrayEquals(new int[] {1, 0, 1}, load(noBytes).encode("aééa"), "missing <0xA9>: one fused unk");

        ObjectNode noUnk = json(List.of("a"), List.of());
        assertArrayEquals(new int[] {0, 0}, load(noUnk).encode("aéa"), "no unk token: dropped");
    }

    @Test
    void addedTokensAreCutOutFirstLongestMatchAndStripNeighbours() throws Exception {
        ObjectNode j = json(List.of("a", " ", "<", ">"), List.of());
        ArrayNode added = j.putArray("added_tokens");
        added.addObject().put("id", 4).put("content", "<x>").put("special", true);
        added.addObject().put("id", 5).put("content", "<x><y>").put("special", true);
        added.addObject().put("id", 6).put("content", "<r>").put("rstrip", true).put("lstrip", true);
        HfTokenizer t = load(j);
        assertArrayEquals(new int[] {0, 5, 0, 4}, t.encode("a<x><y>a<x>"));
        assertArrayEquals(new int[] {0, 6, 0}, t.encode("a \t<r> \n a"));
        assertArrayEquals(new int[] {2, 0, 3}, t.encode("<a>"));
    }

    @Test
    void splitBehaviours() {
        String text = "a--b";
        List<int[]> dashes = List.of(new int[] {1, 2}, new int[] {2, 3});
        assertEquals(List.of("a", "b"), SplitBehavior.REMOVED.split(text, dashes, false));
        assertEquals(List.of("a", "-", "-", "b"), SplitBehavior.ISOLATED.split(text, dashes, false));
        assertEquals(List.of("a-", "-", "b"), SplitBehavior.MERGED_WITH_PREVIOUS.split(text, dashes, false));
        assertEquals(List.of("a", "-", "-b"), SplitBehavior.MERGED_WITH_NEXT.split(text, dashes, false));
        assertEquals(List.of("a", "--", "b"), SplitBehavior.CONTIGUOUS.split(text, dashes, false));
        assertEquals(List.of("-", "-"), SplitBehavior.REMOVED.split(text, dashes, true), "inverted: matches are kept");
    }

    @Test
    void metaspaceSplitsBeforeEachReplacement() throws Exception {
        // ids: ▁0 a1 b2 ▁a3 ▁b4
        ObjectNode j = json(List.of("\u2581", "a", "b", "\u2581a", "\u2581b"), List.of("\u2581 a", "\u2581 b"));
        j.set("pre_tokenizer", OM.readTree("{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"prepend_scheme\":\"always\",\"split\":true}"));
        assertArrayEquals(new int[] {3, 0, 4}, load(j).encode("a  b"), "▁a | ▁ | ▁b");
        ((ObjectNode) j.get("pre_tokenizer")).put("prepend_scheme", "never");
        assertArrayEquals(new int[] {1, 0, 4}, load(j).encode("a  b"));
        ((ObjectNode) j.get("pre_tokenizer")).put("prepend_scheme", "first");
        ArrayNode added = j.putArray("added_tokens");
        added.addObject().put("id", 5).put("content", "<s>").put("special", true);
        assertArrayEquals(new int[] {3, 5, 1}, load(j).encode("a<s>a"), "'first': only the section at the start");
    }

    @Test
    void regexFollowsJavaScriptWhitespaceAndDotSemantics() {
        var spaces = JsRegex.regex("\\s+");
        assertEquals(1, JsRegex.matches(spaces, "a\uFEFFb").size(), "U+FEFF is JS whitespace");
        assertEquals(0, JsRegex.matches(spaces, "a\u0085b").size(), "U+0085 is not JS whitespace");
        assertEquals(2, JsRegex.matches(JsRegex.regex("[^\\s\\p{L}]+"), "a!!\u3000?").size());
        assertEquals(List.of(), JsRegex.matches(JsRegex.regex("."), "\u2028"));
        assertEquals(1, JsRegex.matches(JsRegex.regex("(?i:'s|'t)"), "IT'S").size());
        assertEquals(0, JsRegex.matches(JsRegex.regex("(?i:'s)"), "'\u017F").size(), "ASCII-only case folding");
        assertEquals(1, JsRegex.matches(JsRegex.regex("[a&&b]"), "&").size(), "'&&' is literal, not intersection");
    }

    @Test
    void catastrophicBacktrackingFailsInsteadOfHanging() throws Exception {
        ObjectNode j = json(List.of("a", "b"), List.of());
        j.set("pre_tokenizer", OM.readTree("{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(.*a){12}b\"},\"behavior\":\"Isolated\"}"));
        HfTokenizer t = load(j);
        var e = assertThrows(IllegalArgumentException.class, () -> t.encode("a".repeat(64) + "!"));
        assertTrue(e.getMessage().contains("budget"), e.getMessage());
    }

    @Test
    void decoderStripsTheFirstSpaceAndReassemblesBytes() throws Exception {
        List<String> vocab = new java.util.ArrayList<>(List.of("<s>", "\u2581hi", "\u2581"));
        for (int b = 0; b < 256; b++) vocab.add(String.format("<0x%02X>", b));
        ObjectNode j = json(vocab, List.of());
        j.set("decoder", OM.readTree("{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":{\"String\":\"\u2581\"},"
                + "\"content\":\" \"},{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"},{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}]}"));
        ArrayNode added = j.putArray("added_tokens");
        added.addObject().put("id", 0).put("content", "<s>").put("special", true);
        HfTokenizer t = load(j);
        assertEquals(0, t.bosId(), "well-known name");
        assertEquals("hi", new String(t.decodeBytes(0, 1), StandardCharsets.UTF_8));
        assertEquals(" hi", new String(t.decodeBytes(1, 1), StandardCharsets.UTF_8));
        assertArrayEquals(new byte[] {(byte) 0xE2}, t.decodeBytes(1, 3 + 0xE2));
        assertEquals("hi hi€", t.decode(new int[] {1, 1, 3 + 0xE2, 3 + 0x82, 3 + 0xAC}));
        assertEquals("<0xE2>", t.piece(3 + 0xE2), "partial UTF-8: the vocabulary string");
        assertEquals(" hi", t.piece(1));
    }

    @Test
    void byteLevelRoundTrip() throws Exception {
        List<String> vocab = new java.util.ArrayList<>();
        for (int b = 0; b < 256; b++) vocab.add(String.valueOf(ByteLevelAlphabet.charOf(b)));
        vocab.add("\u0120h"); // " h"
        ObjectNode j = json(vocab, List.of("\u0120 h"));
        j.set("pre_tokenizer", OM.readTree("{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true}"));
        j.set("decoder", OM.readTree("{\"type\":\"ByteLevel\"}"));
        HfTokenizer t = load(j);
        int[] ids = t.encode("hi h\u00e9 \uD83D\uDE00");
        assertEquals('h', ids[0]);
        assertEquals(256, ids[2], "' h' merged");
        assertEquals("hi h\u00e9 \uD83D\uDE00", t.decode(ids));
        assertEquals(3, t.encode("\uD800").length, "a lone surrogate is U+FFFD's three bytes, as in the reference");
    }

    @Test
    void bosEosFromTemplateAndConfig() throws Exception {
        ObjectNode j = json(List.of("[B]", "[E]", "x"), List.of());
        j.set("post_processor", OM.readTree("{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"[B]\",\"type_id\":0}},"
                + "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},{\"SpecialToken\":{\"id\":\"[E]\",\"type_id\":0}}],"
                + "\"special_tokens\":{\"[B]\":{\"id\":\"[B]\",\"ids\":[0],\"tokens\":[\"[B]\"]},\"[E]\":{\"id\":\"[E]\",\"ids\":[1],\"tokens\":[\"[E]\"]}}}"));
        HfTokenizer t = load(j);
        assertEquals(0, t.bosId());
        assertEquals(1, t.eosId());
        HfTokenizer c = HfTokenizer.parse(j.toString().getBytes(StandardCharsets.UTF_8),
                "{\"bos_token\": null, \"eos_token\": {\"content\": \"x\", \"__type\": \"AddedToken\"}}".getBytes(StandardCharsets.UTF_8));
        assertEquals(-1, c.bosId());
        assertEquals(2, c.eosId());
    }

    @Test
    void malformedFilesGiveClearErrors(@TempDir Path dir) throws Exception {
        String ok = json(List.of("a", "b", "ab"), List.of("a b")).toString();
        assertMessage("not valid JSON", () -> load("{\"model\": "));
        assertMessage("not valid JSON", () -> load("[".repeat(200) + "]".repeat(200)));
        assertMessage("expected an object", () -> load("[1, 2]"));
        assertMessage("model", () -> load("{}"));
        assertMessage("id must be an integer", () -> load(ok.replace("\"b\":1", "\"b\":-1")));
        assertMessage("id must be an integer", () -> load(ok.replace("\"b\":1", "\"b\":1e12")));
        assertMessage("id must be an integer", () -> load(ok.replace("\"b\":1", "\"b\":\"1\"")));
        assertMessage("share id", () -> load(ok.replace("\"b\":1", "\"b\":0")));
        assertMessage("right token is not in the vocabulary", () -> load(ok.replace("\"a b\"", "\"a c\"")));
        assertMessage("merged token is not in the vocabulary", () -> load(ok.replace("\"ab\":2", "\"ba\":2")));
        assertMessage("two tokens separated by one space", () -> load(ok.replace("\"a b\"", "\"a b c\"")));
        assertMessage("unsupported normalizer type \"Precompiled\"", () -> load(ok.replace("\"added_tokens\"",
                "\"normalizer\":{\"type\":\"Precompiled\"},\"added_tokens\"")));
        assertMessage("only BPE", () -> load(ok.replace("\"BPE\"", "\"Unigram\"")));
        assertMessage("invalid regex", () -> load(ok.replace("\"added_tokens\"",
                "\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(\"},\"behavior\":\"Isolated\"},\"added_tokens\"")));
        assertMessage("unk_token", () -> load(ok.replace("\"type\":\"BPE\"", "\"type\":\"BPE\",\"unk_token\":\"<unk>\"")));

        Path big = dir.resolve("tokenizer.json");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(HfTokenizer.MAX_FILE_BYTES + 1); // sparse: costs no disk
        }
        assertMessage("more than the", () -> HfTokenizer.load(dir));
        Files.delete(big);
        assertThrows(java.nio.file.NoSuchFileException.class, () -> HfTokenizer.load(dir));
    }

    @Test
    void outOfRangeIdsAreRejected() throws Exception {
        HfTokenizer t = load(json(List.of("a"), List.of()));
        assertThrows(IllegalArgumentException.class, () -> t.decodeBytes(-1, 1));
        assertThrows(IllegalArgumentException.class, () -> t.piece(-1));
    }

    interface Action {
        void run() throws Exception;
    }

    static void assertMessage(String fragment, Action action) {
        Exception e = assertThrows(Exception.class, action::run);
        assertTrue(e instanceof java.io.IOException, "expected an IOException, got " + e);
        assertTrue(e.getMessage().contains(fragment), "message \"" + e.getMessage() + "\" lacks \"" + fragment + "\"");
    }
}
