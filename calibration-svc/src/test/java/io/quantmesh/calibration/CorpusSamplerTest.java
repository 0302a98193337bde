package io.quantmesh.calibration;

import io.quantmesh.core.Shared;
import io.quantmesh.core.tokenizer.Llama2cTokenizer;
import io.quantmesh.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Calibration sets from the real shared corpora with the real stories260K tokenizer. */
class CorpusSamplerTest {
    static Tokenizer tokenizer;
    static Corpora corpora;
    static Corpus prose;

    @BeforeAll
    static void load() throws IOException {
        Assumptions.assumeTrue(Shared.available(), "shared/ not available");
        tokenizer = Llama2cTokenizer.load(Shared.resolve("models/stories260K/tok512.bin"));
        corpora = Corpora.shared();
        prose = corpora.load(List.of());
    }

    @Test
    void drawsNSequencesOfLTokensStartingWithBosAtWordStarts() {
        CalibrationSet set = new CorpusSampler(prose, tokenizer).sample(16, 256, 0);
        assertEquals(16, set.size());
        assertEquals(16 * 256, set.tokens());
        for (int i = 0; i < set.size(); i++) {
            int[] s = set.sequences()[i];
            assertEquals(256, s.length);
            assertEquals(Llama2cTokenizer.BOS, s[0]);
            for (int t = 1; t < s.length; t++) assertTrue(s[t] > 2 && s[t] < tokenizer.vocabSize(), "token " + s[t]);
            int at = (int) set.offsets()[i];
            assertFalse(Character.isWhitespace(prose.text().charAt(at)));
            assertTrue(at == 0 || Character.isWhitespace(prose.text().charAt(at - 1)));
            // the window's tokens are the encoding of the text at its offset
            int[] direct = tokenizer.encode(prose.text().substring(at, at + 4000));
            assertArrayEquals(Arrays.copyOf(direct, 255), Arrays.copyOfRange(s, 1, 256), "sequence " + i);
        }
        long distinct = Arrays.stream(set.offsets()).distinct().count();
        assertEquals(16, distinct);
    }

    @Test
    void sameSeedSameSetOtherSeedOtherSetAndPrefixesAreStable() {
        CorpusSampler sampler = new CorpusSampler(prose, tokenizer);
        CalibrationSet a = sampler.sample(8, 64, 42), b = sampler.sample(8, 64, 42), c = sampler.sample(8, 64, 43);
        assertEquals(a.sha256(), b.sha256());
        assertNotEquals(a.sha256(), c.sha256());
        CalibrationSet small = sampler.sample(3, 64, 42);
        for (int i = 0; i < 3; i++) assertArrayEquals(a.sequences()[i], small.sequences()[i]);
        // offsets are uniform over the whole text: 64 windows reach all three corpora's thirds
        long[] offs = sampler.sample(64, 16, 7).offsets();
        long len = prose.text().length();
        for (int third = 0; third < 3; third++) {
            int q = third;
            assertTrue(Arrays.stream(offs).anyMatch(o -> o * 3 / len == q), "no window in third " + q);
        }
    }

    @Test
    void windowsStartAtWordsAndWrapFromTheLastFileIntoTheFirst() {
        assertEquals(3, CorpusSampler.wordStart("ab cd", 1));
        assertEquals(3, CorpusSampler.wordStart("ab cd", 3));
        assertEquals(0, CorpusSampler.wordStart("ab cd", 4));
        assertEquals(2, CorpusSampler.wordStart("  x", 0));
        assertThrows(IllegalArgumentException.class, () -> CorpusSampler.wordStart(" \n ", 1));
        String text = "one two three four five six seven eight nine ten\n\n";
        Corpus c = new Corpus(List.of("t"), List.of("t.txt"), text);
        int[] w = new CorpusSampler(c, tokenizer).window(text.indexOf("ten"), 12);
        int[] want = tokenizer.encode("ten\n\none two three four five six seven eight nine ten\n\n");
        assertEquals(Llama2cTokenizer.BOS, w[0]);
        assertArrayEquals(Arrays.copyOf(want, 11), Arrays.copyOfRange(w, 1, 12));
    }

    @Test
    void defaultsSuitTheContext() {
        assertEquals(256, CorpusSampler.defaultSeqLen(512));       // stories260K
        assertEquals(1024, CorpusSampler.defaultSeqLen(2048));
        assertEquals(2048, CorpusSampler.defaultSeqLen(4096));
        assertEquals(2048, CorpusSampler.defaultSeqLen(131072));
        assertEquals(2048, CorpusSampler.defaultSeqLen(Integer.MAX_VALUE)); // recurrent models
        assertEquals(128, CorpusSampler.DEFAULT_SAMPLES);
    }

    @Test
    void corporaAreTheSharedCalibrationTextsAndNeverTheEvaluationTexts() throws IOException {
        assertEquals(List.of("austen", "brown", "moby-dick", "sotu"), corpora.names());
        assertEquals(List.of("austen", "moby-dick", "sotu"), prose.names());
        assertEquals(6 + 1 + 233, prose.files().size());
        Path eval = Shared.resolve("data/eval").toRealPath();
        for (String name : corpora.names()) {
            for (Path f : corpora.files(name)) {
                assertTrue(f.toRealPath().startsWith(corpora.root()), f + " outside the corpora");
                assertFalse(f.toRealPath().startsWith(eval), f + " is evaluation text");
            }
        }
        // no evaluation file's opening line occurs in the loaded calibration text
        Corpus all = corpora.load(corpora.names());
        try (var files = Files.list(eval)) {
            for (Path f : files.toList()) {
                String first = Files.readString(f).strip().lines().filter(l -> l.strip().length() > 40).findFirst()
                        .orElseThrow();
                assertFalse(all.text().contains(first), f + " leaked into the corpora");
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Corpora(eval));
        assertTrue(e.getMessage().contains("evaluation"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Corpora(Shared.resolve("data")));
        assertThrows(IllegalArgumentException.class, () -> new Corpora(Shared.root()));
    }

    @Test
    void badCorpusNamesAreRefusedWithTheAvailableNames(@TempDir Path dir) throws IOException {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> corpora.files("shakespeare"));
        assertTrue(e.getMessage().contains("unknown corpus 'shakespeare'") && e.getMessage().contains("moby-dick"),
                e.getMessage());
        for (String bad : List.of("../eval/wikitext2-test", "../eval", "/etc/passwd", "", "Austen", "a/b")) {
            assertThrows(IllegalArgumentException.class, () -> corpora.files(bad), bad);
        }
        // a link out of the root is refused
        Path root = Files.createDirectories(dir.resolve("corpora"));
        Files.writeString(dir.resolve("outside.txt"), "secret words here");
        Files.createSymbolicLink(root.resolve("leak.txt"), dir.resolve("outside.txt"));
        Files.writeString(root.resolve("tiny.txt"), "one two three");
        Corpora local = new Corpora(root);
        assertThrows(IllegalArgumentException.class, () -> local.files("leak"));
        // a corpus too small for the window is an error, not a hang
        Corpus tiny = local.load(List.of("tiny"));
        assertThrows(IllegalArgumentException.class, () -> new CorpusSampler(tiny, tokenizer).sample(1, 64, 0));
        assertEquals(2, new CorpusSampler(tiny, tokenizer).sample(1, 2, 0).sequences()[0].length);
    }
}
