package io.quantmesh.core.model.rwkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantmesh.core.Shared;
import io.quantmesh.core.eval.Perplexity;
import io.quantmesh.core.tokenizer.ByteTokenizer;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** The windowed perplexity protocol on a few WikiText-2 windows (the full figures come from RwkvPerplexity.main). */
class RwkvPerplexityTest {

    private static int[] wikitext() throws Exception {
        return ByteTokenizer.encode(Files.readAllBytes(Shared.resolve("data/eval/wikitext2-test.txt")));
    }

    /** Batched, multi-threaded evaluation equals the project's generic evaluator (one window at a time). */
    @Test
    void batchedEvaluationEqualsTheGenericEvaluator() throws Exception {
        int ctx = 64, windows = 5;
        String text = Perplexity.readText(Shared.resolve("data/eval/wikitext2-test.txt")).substring(0, ctx * windows + 10);
        RwkvModel m = TinyRwkv.model(TinyRwkv.V5_2);
        Perplexity.Result generic = Perplexity.evaluate(m, text, ctx, "wikitext2 prefix", null);
        RwkvPerplexity.Result r = RwkvPerplexity.evaluate(m, Perplexity.tokenize(m, text), ctx, 0, 2, 2);
        assertEquals(windows, generic.windows());
        assertEquals(windows, r.windows());
        assertEquals(generic.predictions(), r.predictions());
        assertEquals(generic.meanNll(), r.meanNll(), 1e-12);
        RwkvPerplexity.Result again = RwkvPerplexity.evaluate(m, Perplexity.tokenize(m, text), ctx, 0, 1, 5);
        assertEquals(r.meanNll(), again.meanNll(), 1e-12); // independent of threads and batch width
    }

    /** Sanity bounds on 8 windows of 256: a broken runtime lands near 256 (uniform), these models far below. */
    @Test
    void tinyModelsPredictWikitextBytes() throws Exception {
        int[] tokens = wikitext();
        double v52 = RwkvPerplexity.evaluate(TinyRwkv.model(TinyRwkv.V5_2), tokens, 256, 8, 2, 8).ppl();
        double v7 = RwkvPerplexity.evaluate(TinyRwkv.model(TinyRwkv.V7), tokens, 256, 8, 2, 8).ppl();
        System.out.printf("wikitext2, first 8 windows of 256 bytes: v5.2 ppl %.3f, v7 ppl %.3f%n", v52, v7);
        assertTrue(v52 > 3 && v52 < 15, "v5.2 ppl " + v52);
        assertTrue(v7 > 3 && v7 < 60, "v7 ppl " + v7);
    }

    @Test
    void rejectsDegenerateArguments() {
        RwkvModel m = TinyRwkv.model(TinyRwkv.V5_1);
        assertThrows(IllegalArgumentException.class, () -> RwkvPerplexity.evaluate(m, new int[10], 1, 0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> RwkvPerplexity.evaluate(m, new int[10], 16, 0, 1, 1));
    }
}
