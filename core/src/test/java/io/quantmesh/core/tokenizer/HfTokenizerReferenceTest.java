package io.quantmesh.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantmesh.core.Shared;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Token-for-token comparison with the reference encoder (see {@link NodeReference}) on the real Llama 2 and Qwen 3
 * tokenizer.json files, the two evaluation texts and a set of tricky strings.
 */
class HfTokenizerReferenceTest {
    static final List<String> TRICKY = List.of(
            "", " ", "  ", "a", "Hello world", " Hello world", "Hello  world   ", "trailing space ",
            "\n", "\n\n", "\n\n\n\n", "line one\nline two\r\nline three\rfour", "\t tab\t\tand  spaces \t\n",
            "          ten spaces then text", "text then ten spaces          ", "  \n  \n\n   x   \n",
            "don't I'LL we'Re they've she'd it's O'Neil 'quoted' ''", "1234567890 3.14159 1,000,000 -42 +7e-3 2024-11-22",
            "00000000000000000000 12 345 6789", "naïve café résumé Ångström", "e\u0301 a\u0308 composed vs decomposed",
            "😀 👍🏽 👨‍👩‍👧‍👦 🇫🇷 emoji", "你好，世界。今天是美好的一天。", "日本語のテキスト、カタカナ、ひらがな",
            "한국어 텍스트입니다", "العربية نص", "हिन्दी पाठ", "Ελληνικά кириллица", "𠜎𠜱𠝹 rare CJK (supplementary plane)",
            "▁already▁has▁metaspace ▁", "Ġ Ċ byte-level look-alikes", "<0x0A> literal byte token text",
            "<s> special </s> tokens <unk> inline", "<|im_start|>user\nhi<|im_end|>\n<|endoftext|>",
            "<think>reasoning</think> <tool_call>{}</tool_call>", "a<s>b</s>c<|im_end|>d",
            "\u00a0no-break\u3000ideographic\u2003em\u2028ls\u2029ps\u0085nel\ufeffbom\u200bzwsp",
            "$$$ %%% &&& ((( ))) *** ... !!! ??? ;;; ::: ### @@@ ~~~", "A.B,C;D:E!F?G", "x = f(y) + g[z] * {w};",
            "CamelCaseWord snake_case_word kebab-case-word UPPER lower", "http://example.org/a?b=c&d=e#f",
            "Mixed 中文 and English 和 数字123", "\u0000\u0001\u0007\u001b control chars", "Tab\tseparated\tvalues\t",
            " = = Robert Boulter = = \n", " @-@ @,@ @.@ wikitext markers", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "The quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX!");

    static NodeReference ref;
    static Path cases;

    /** Each test calls this, so that without node every test is reported as skipped, with the reason. */
    @BeforeEach
    void setUp() throws IOException {
        if (ref != null) return;
        ref = NodeReference.require();
        cases = ref.prefix.resolve("cases");
        Files.createDirectories(cases);
        for (int i = 0; i < TRICKY.size(); i++) {
            Files.write(cases.resolve(String.format("tricky-%02d.txt", i)), TRICKY.get(i).getBytes(StandardCharsets.UTF_8));
        }
    }

    static List<Path> evalTexts() {
        return List.of(Shared.resolve("data/eval/wikitext2-test.txt"), Shared.resolve("data/eval/tinystories-sample.txt"));
    }

    static List<Path> trickyFiles() {
        List<Path> out = new ArrayList<>();
        for (int i = 0; i < TRICKY.size(); i++) out.add(cases.resolve(String.format("tricky-%02d.txt", i)));
        return out;
    }

    @Test
    void llama2MatchesReference() throws IOException {
        compare("llama2", ref.models("tokenizer-llama2"), concat(evalTexts(), trickyFiles()));
    }

    @Test
    void qwen3MatchesReference() throws IOException {
        compare("qwen3", ref.models("tokenizer-qwen3"), concat(evalTexts(), trickyFiles()));
    }

    /** Llama 2 written the newer way: no normalizer, a Metaspace pre-tokenizer with prepend_scheme "first". */
    @Test
    void llama2MetaspaceVariantMatchesReference() throws IOException {
        ObjectMapper om = new ObjectMapper();
        ObjectNode json = (ObjectNode) om.readTree(ref.models("tokenizer-llama2").resolve("tokenizer.json").toFile());
        json.putNull("normalizer");
        json.set("pre_tokenizer", om.readTree(
                "{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"add_prefix_space\":true,\"prepend_scheme\":\"first\",\"split\":false}"));
        json.set("decoder", om.readTree(
                "{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"prepend_scheme\":\"first\"},"
                        + "{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"}]}"));
        compare("llama2-metaspace", variant("llama2-metaspace", json), concat(List.of(evalTexts().get(1)), trickyFiles()));
    }

    /** Qwen 3's vocabulary behind a GPT-2 ByteLevel pre-tokenizer with its built-in regex and a prefix space. */
    @Test
    void gpt2ByteLevelVariantMatchesReference() throws IOException {
        ObjectMapper om = new ObjectMapper();
        ObjectNode json = (ObjectNode) om.readTree(ref.models("tokenizer-qwen3").resolve("tokenizer.json").toFile());
        json.set("pre_tokenizer", om.readTree("{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"use_regex\":true}"));
        compare("qwen3-gpt2regex", variant("qwen3-gpt2regex", json), concat(List.of(evalTexts().get(1)), trickyFiles()));
    }

    @Test
    void decodeInvertsEncodeOnEvaluationTexts() throws IOException {
        HfTokenizer llama = HfTokenizer.load(ref.models("tokenizer-llama2").resolve("tokenizer.json"));
        HfTokenizer qwen = HfTokenizer.load(ref.models("tokenizer-qwen3").resolve("tokenizer.json"));
        for (Path p : evalTexts()) {
            String text = Files.readString(p);
            assertEquals(text, llama.decode(llama.encode(text)), "llama2 round trip of " + p.getFileName());
            assertEquals(text, qwen.decode(qwen.encode(text)), "qwen3 round trip of " + p.getFileName());
        }
        for (String s : TRICKY) {
            if (s.contains("<") || s.contains("\u0301") || s.contains("\u0308")) continue; // added tokens, NFC
            assertEquals(s, qwen.decode(qwen.encode(s)), "qwen3 round trip of " + s);
            if (s.contains("\u2581")) continue; // a literal ▁ decodes to a space in SentencePiece vocabularies
            assertEquals(s, llama.decode(llama.encode(s)), "llama2 round trip of " + s);
        }
    }

    @Test
    void specialTokensAndVocabulary() throws IOException {
        HfTokenizer llama = HfTokenizer.load(ref.models("tokenizer-llama2").resolve("tokenizer.json"));
        assertEquals(32000, llama.vocabSize());
        assertEquals(1, llama.bosId());
        assertEquals(2, llama.eosId());
        assertEquals("\n", new String(llama.decodeBytes(5, llama.tokenId("<0x0A>")), StandardCharsets.UTF_8));
        int the = llama.tokenId("\u2581the");
        assertEquals("the", new String(llama.decodeBytes(llama.bosId(), the), StandardCharsets.UTF_8));
        assertEquals(" the", new String(llama.decodeBytes(the, the), StandardCharsets.UTF_8));
        assertEquals(" the", llama.piece(the));

        HfTokenizer qwen = HfTokenizer.load(ref.models("tokenizer-qwen3").resolve("tokenizer.json"));
        assertEquals(151669, qwen.vocabSize());
        assertEquals(-1, qwen.bosId(), "Qwen's tokenizer_config.json sets bos_token null");
        assertEquals(qwen.tokenId("<|im_end|>"), qwen.eosId());
        assertEquals(" the", new String(qwen.decodeBytes(-1, qwen.tokenId("\u0120the")), StandardCharsets.UTF_8));
    }

    private void compare(String name, Path models, List<Path> inputs) throws IOException {
        Path json = models.resolve("tokenizer.json");
        Map<Path, int[]> expected = ref.encode(json, models.resolve("tokenizer_config.json"), inputs);
        long t0 = System.nanoTime();
        HfTokenizer tok = HfTokenizer.load(json);
        long loadMs = (System.nanoTime() - t0) / 1_000_000;
        int trickyTokens = 0;
        int trickyMismatches = 0;
        List<String> failures = new ArrayList<>();
        for (Path in : inputs) {
            String text = Files.readString(in, StandardCharsets.UTF_8);
            long s = System.nanoTime();
            int[] got = tok.encode(text);
            long ms = (System.nanoTime() - s) / 1_000_000;
            int[] want = expected.get(in);
            int mismatches = mismatches(want, got);
            if (in.startsWith(cases)) {
                trickyTokens += want.length;
                trickyMismatches += mismatches;
            } else {
                System.out.printf("[reference] %s %s: %d reference tokens, %d java tokens, %d mismatches; java encode %d ms (load %d ms)%n",
                        name, in.getFileName(), want.length, got.length, mismatches, ms, loadMs);
            }
            if (mismatches != 0) failures.add(describe(in, text, want, got));
        }
        System.out.printf("[reference] %s tricky strings: %d cases, %d reference tokens, %d mismatches%n",
                name, trickyFiles().size(), trickyTokens, trickyMismatches);
        assertTrue(failures.isEmpty(), () -> name + ": " + failures.size() + " inputs differ from the reference:\n"
                + String.join("\n", failures));
    }

    /** Positions that differ, counting a length difference as mismatches too. */
    static int mismatches(int[] want, int[] got) {
        int n = Math.min(want.length, got.length);
        int bad = Math.abs(want.length - got.length);
        for (int i = 0; i < n; i++) if (want[i] != got[i]) bad++;
        return bad;
    }

    private static String describe(Path in, String text, int[] want, int[] got) {
        int i = 0;
        while (i < Math.min(want.length, got.length) && want[i] == got[i]) i++;
        String snippet = text.length() > 120 ? text.substring(0, 120) + "..." : text;
        return in.getFileName() + " (" + snippet.replace("\n", "\\n") + "): first difference at token " + i
                + ", reference " + slice(want, i) + " java " + slice(got, i);
    }

    private static String slice(int[] a, int from) {
        return java.util.Arrays.toString(java.util.Arrays.copyOfRange(a, Math.max(0, from - 2), Math.min(a.length, from + 8)));
    }

    private Path variant(String name, ObjectNode json) throws IOException {
        Path dir = ref.prefix.resolve("variants").resolve(name);
        Files.createDirectories(dir);
        new ObjectMapper().writeValue(dir.resolve("tokenizer.json").toFile(), json);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"tokenizer_class\": \"PreTrainedTokenizer\"}");
        return dir;
    }

    private static List<Path> concat(List<Path> a, List<Path> b) {
        List<Path> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
