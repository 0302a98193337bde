package io.quantmesh.core.eval;

import io.quantmesh.core.model.InferenceState;
import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PerplexityTest {
    /** Byte-level tokenizer with BOS = 256; the model predicts "next = previous + 1" with probability p. */
    static final class Bytes implements Tokenizer {
        public int vocabSize() { return 257; }
        public int bosId() { return 256; }
        public int eosId() { return -1; }
        public int[] encode(String text) { return text.chars().toArray(); }
        public byte[] decodeBytes(int previous, int token) { return new byte[] {(byte) token}; }
        public String piece(int token) { return String.valueOf((char) token); }
    }

    static final class Successor implements LanguageModel {
        final double p;
        final List<Integer> windowStarts = new ArrayList<>();
        Successor(double p) { this.p = p; }
        public String family() { return "test"; }
        public int vocabSize() { return 257; }
        public int contextLength() { return 1000; }
        public Tokenizer tokenizer() { return new Bytes(); }
        static final class Pos implements InferenceState {
            int pos;
            public int position() { return pos; }
        }
        public InferenceState newState() { return new Pos(); }
        public float[] next(InferenceState state, int token) {
            if (((Pos) state).pos++ == 0) windowStarts.add(token);
            float[] logits = new float[257];
            // p on token+1, the rest spread evenly over the other 256 ids.
            java.util.Arrays.fill(logits, (float) Math.log((1 - p) / 256));
            logits[(token + 1) % 257] = (float) Math.log(p);
            return logits;
        }
    }

    @Test
    void countsWindowsAndPredictionsAndAveragesNll() {
        Successor m = new Successor(0.5);
        // BOS + "abcdefghij" = 11 tokens; ctx 4 -> 2 windows (8 tokens), 3 predictions each.
        Perplexity.Result r = Perplexity.evaluate(m, "abcdefghij", 4, "t", null);
        assertEquals(11, r.tokens());
        assertEquals(2, r.windows());
        assertEquals(6, r.predictions());
        // Window 1: BOS a b c -> "a after BOS" is not a successor (256+1 wraps to 0), then b, c are.
        // Window 2: d e f g -> all three are successors.
        double miss = -Math.log(0.5 / 256), hit = -Math.log(0.5);
        assertEquals((miss + 5 * hit) / 6, r.meanNll(), 1e-6);
        assertEquals(List.of(256, (int) 'd'), m.windowStarts); // each window from a fresh state
    }

    @Test
    void rejectsTooShortTextsAndBadCtx() {
        assertThrows(IllegalArgumentException.class, () -> Perplexity.evaluate(new Successor(0.5), "ab", 4, "t", null));
        assertThrows(IllegalArgumentException.class, () -> Perplexity.evaluate(new Successor(0.5), "abcdef", 1, "t", null));
        assertThrows(IllegalArgumentException.class, () -> Perplexity.evaluate(new Successor(0.5), "abcdef", 5000, "t", null));
    }

    @Test
    void readsTextWithUniversalNewlines(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("t.txt");
        Files.writeString(f, "a\r\nb\rc\n");
        assertEquals("a\nb\nc\n", Perplexity.readText(f));
    }
}
