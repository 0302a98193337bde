package io.quantmesh.core.tokenizer;

import io.quantmesh.core.Shared;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Llama2cTokenizerTest {
    private static Llama2cTokenizer llama2;
    private static Llama2cTokenizer tok512;

    @BeforeAll
    static void load() throws IOException {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        llama2 = Llama2cTokenizer.load(Shared.resolve("models/llama2-tokenizer/tokenizer.bin"));
        tok512 = Llama2cTokenizer.load(Shared.resolve("models/stories260K/tok512.bin"));
    }

    /** Expected ids from llama2.c's test.c (which encodes with BOS; ours leaves BOS to the caller). */
    @Test
    void llama2KnownEncodings() {
        assertEquals(32000, llama2.vocabSize());
        assertArrayEquals(new int[0], llama2.encode(""));
        assertArrayEquals(new int[] {306, 4658, 278, 6593, 310, 2834, 338},
                llama2.encode("I believe the meaning of life is"));
        assertArrayEquals(new int[] {3439, 17632, 1925, 29892, 278, 6368, 310, 14215, 537, 5922, 393, 29871},
                llama2.encode("Simply put, the theory of relativity states that "));
        assertArrayEquals(new int[] {319, 11473, 2643, 378, 629, 271, 18099, 278, 3815, 373, 278, 6826, 29901, 13, 13,
                        4706, 6324, 14332, 29892, 13, 13, 4706, 306, 925, 29871},
                llama2.encode("A brief message congratulating the team on the launch:\n\n        Hi everyone,\n\n        I just "));
        assertArrayEquals(new int[] {4103, 9632, 4223, 304, 5176, 29901, 13, 13, 4706, 7205, 4932, 357, 1149, 301, 449,
                        276, 316, 2778, 13, 4706, 1236, 407, 837, 524, 1149, 6042, 354, 772, 440, 29878, 1318, 13, 4706,
                        715, 1878, 330, 3055, 1725, 1149, 330, 3055, 1725, 4639, 28754, 13, 4706, 923, 968, 1149},
                llama2.encode("Translate English to French:\n\n        sea otter => loutre de mer\n        peppermint => "
                        + "menthe poivrée\n        plush girafe => girafe peluche\n        cheese =>"));
    }

    @Test
    void byteFallbackAndDecodeOfByteTokens() {
        // '\n' is not a piece of the 512-token vocabulary: it becomes <0x0A> = 10 + 3.
        int[] ids = tok512.encode("a\nb");
        assertTrue(Arrays.stream(ids).anyMatch(i -> i == 13), Arrays.toString(ids));
        assertEquals("<0x0A>", tok512.piece(13));
        assertArrayEquals(new byte[] {'\n'}, tok512.decodeBytes(5, 13));
        // A code point missing from the vocabulary is spelled as its UTF-8 bytes.
        int[] emoji = tok512.encode("\uD83D\uDE00");
        byte[] utf8 = "\uD83D\uDE00".getBytes(StandardCharsets.UTF_8);
        assertEquals(" \uD83D\uDE00", new String(tok512.decode(0, emoji), StandardCharsets.UTF_8));
        assertTrue(emoji.length >= utf8.length, Arrays.toString(emoji));
    }

    @Test
    void decodeStripsTheDummySpaceOnlyAfterBos() {
        int[] ids = llama2.encode("Hello world");
        assertEquals("Hello world", new String(llama2.decode(Llama2cTokenizer.BOS, ids), StandardCharsets.UTF_8));
        assertEquals(" Hello world", new String(llama2.decode(0, ids), StandardCharsets.UTF_8));
    }

    @Test
    void roundTripsTheEvaluationText() throws IOException {
        String text = Files.readString(Shared.resolve("data/eval/tinystories-sample.txt"));
        for (Llama2cTokenizer t : List.of(tok512, llama2)) {
            int[] ids = t.encode(text);
            assertEquals(text, new String(t.decode(Llama2cTokenizer.BOS, ids), StandardCharsets.UTF_8));
        }
    }

    /** The heap merge must take exactly the merges of llama2.c's rescan-everything loop. */
    @Test
    void heapMergeEqualsLlama2cQuadraticMerge() throws IOException {
        String text = Files.readString(Shared.resolve("data/eval/tinystories-sample.txt"));
        SplittableRandom rnd = new SplittableRandom(5);
        String alphabet = "ab cde\n\té€日本語😀'\".,";
        for (int trial = 0; trial < 60; trial++) {
            String s;
            if (trial % 2 == 0) {
                int from = rnd.nextInt(text.length() - 400);
                s = text.substring(from, from + 1 + rnd.nextInt(300));
            } else {
                StringBuilder b = new StringBuilder();
                int n = 1 + rnd.nextInt(40);
                for (int i = 0; i < n; i++) b.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0, rnd.nextInt(alphabet.codePointCount(0, alphabet.length())))));
                s = b.toString();
            }
            for (Llama2cTokenizer t : List.of(tok512, llama2)) {
                assertArrayEquals(quadraticEncode(t, s), t.encode(s), "text: " + s);
            }
        }
    }

    /** A literal transcription of llama2.c's encode: rescan all pairs, merge the first best, repeat. */
    private static int[] quadraticEncode(Llama2cTokenizer t, String text) {
        List<Integer> toks = new ArrayList<>();
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        if (utf8.length > 0) toks.add(find(t, new byte[] {' '}));
        int i = 0;
        while (i < utf8.length) {
            int len = 1;
            while (i + len < utf8.length && (utf8[i + len] & 0xC0) == 0x80 && len < 4) len++;
            byte[] cp = Arrays.copyOfRange(utf8, i, i + len);
            int id = find(t, cp);
            if (id >= 0) toks.add(id);
            else for (byte b : cp) toks.add((b & 0xff) + 3);
            i += len;
        }
        while (true) {
            float best = -1e10f;
            int bestId = -1, bestIdx = -1;
            for (int k = 0; k + 1 < toks.size(); k++) {
                byte[] a = t.pieceBytes(toks.get(k)), b = t.pieceBytes(toks.get(k + 1));
                byte[] j = Arrays.copyOf(a, a.length + b.length);
                System.arraycopy(b, 0, j, a.length, b.length);
                int id = find(t, j);
                if (id >= 0 && t.score(id) > best) {
                    best = t.score(id);
                    bestId = id;
                    bestIdx = k;
                }
            }
            if (bestIdx < 0) break;
            toks.set(bestIdx, bestId);
            toks.remove(bestIdx + 1);
        }
        return toks.stream().mapToInt(Integer::intValue).toArray();
    }

    private static final java.util.Map<Llama2cTokenizer, java.util.Map<String, Integer>> INDEX = new java.util.HashMap<>();

    /** Exact-bytes lookup (what llama2.c's bsearch over the sorted vocabulary finds; the vocabularies have no duplicates). */
    private static int find(Llama2cTokenizer t, byte[] piece) {
        java.util.Map<String, Integer> index = INDEX.computeIfAbsent(t, k -> {
            java.util.Map<String, Integer> m = new java.util.HashMap<>();
            for (int id = k.vocabSize() - 1; id >= 0; id--) m.put(new String(k.pieceBytes(id), StandardCharsets.ISO_8859_1), id);
            return m;
        });
        return index.getOrDefault(new String(piece, StandardCharsets.ISO_8859_1), -1);
    }

    @Test
    void loadsTheModelsVocabSizeAsLlama2cDoes() throws IOException {
        Path f = Shared.resolve("models/stories260K/tok512.bin");
        assertEquals(500, Llama2cTokenizer.load(f, 500).vocabSize());
        assertEquals(512, Tokenizers.load(f, 512).vocabSize());
        IOException e = assertThrows(IOException.class, () -> Llama2cTokenizer.load(f, 600));
        assertTrue(e.getMessage().contains("vocab_size is 600"), e.getMessage());
    }

    @Test
    void rejectsHostileFiles() {
        ByteBuffer b = ByteBuffer.allocate(4 + 8 + 8).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(8).putFloat(0f).putInt(1_000_000).putFloat(0f).putInt(0);
        IOException e = assertThrows(IOException.class, () -> Llama2cTokenizer.parse(b.array(), "bad.bin"));
        assertTrue(e.getMessage().contains("claims 1000000 bytes"), e.getMessage());
        assertThrows(IOException.class, () -> Llama2cTokenizer.parse(new byte[] {1, 0}, "short.bin"));
        assertThrows(IOException.class, () -> Llama2cTokenizer.parse(new byte[] {-1, -1, -1, -1}, "neg.bin"));
        assertThrows(IOException.class, () -> Llama2cTokenizer.parse(new byte[] {4, 0, 0, 0, 0, 0, 0, 0, 1}, "trunc.bin"));
        assertThrows(IllegalArgumentException.class, () -> tok512.decodeBytes(0, 512));
    }

    @Test
    void pieceBytesOfEveryTokenLookUpToThatToken() {
        for (Llama2cTokenizer t : List.of(tok512, llama2)) {
            int dup = 0;
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (int id = 0; id < t.vocabSize(); id++) {
                if (!seen.add(new String(t.pieceBytes(id), StandardCharsets.ISO_8859_1))) dup++;
            }
            // llama2.c's bsearch would pick an arbitrary id among duplicates; both vocabularies have none.
            assertEquals(0, dup);
        }
    }
}
