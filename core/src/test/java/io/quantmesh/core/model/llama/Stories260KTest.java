package io.quantmesh.core.model.llama;

import io.quantmesh.core.Shared;
import io.quantmesh.core.eval.Perplexity;
import io.quantmesh.core.importer.Llama2cCheckpoint;
import io.quantmesh.core.sampling.Generator;
import io.quantmesh.core.sampling.GreedySampler;
import io.quantmesh.core.tokenizer.Llama2cTokenizer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The runtime on the real stories260K model, loaded straight from the llama2.c file. (Perplexity, on both the raw
 * file and the imported directory, is in Llama2cImportTest.)
 */
public class Stories260KTest {
    public static final Path CHECKPOINT = Shared.resolve("models/stories260K/stories260K.bin");
    public static final Path TOKENIZER = Shared.resolve("models/stories260K/tok512.bin");
    public static final Path EVAL_TEXT = Shared.resolve("data/eval/tinystories-sample.txt");
    public static final Path GREEDY_TEXT = Shared.resolve("models/stories260K/greedy-from-bos.txt");
    static final Path checkpoint = CHECKPOINT, tokenizerBin = TOKENIZER, evalText = EVAL_TEXT, greedyText = GREEDY_TEXT;
    static LlamaModel model;

    @BeforeAll
    static void load() throws IOException {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        model = new LlamaModel(Llama2cCheckpoint.read(checkpoint).weights(), Llama2cTokenizer.load(tokenizerBin), null);
    }

    /** BOS then 255 greedy tokens (llama2.c's default 256 steps), byte tokens as raw bytes. */
    public static byte[] greedyFromBos(io.quantmesh.core.model.LanguageModel m) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int[] seq = Generator.generate(m, new int[] {m.tokenizer().bosId()}, 256, new GreedySampler(),
                (prev, tok) -> out.writeBytes(m.tokenizer().decodeBytes(prev, tok)));
        assertEquals(256, seq.length);
        return out.toByteArray();
    }

    @Test
    void greedyFromBosReproducesTheReferenceText() throws IOException {
        byte[] expected = Files.readAllBytes(greedyText);
        byte[] got = greedyFromBos(model);
        assertEquals(new String(expected, StandardCharsets.UTF_8), new String(got, StandardCharsets.UTF_8));
        assertArrayEquals(expected, got);
    }

    @Test
    void logitsMatchANaiveTranscriptionOfLlama2cRunC() throws IOException {
        Llama2cReferenceForward ref = new Llama2cReferenceForward(checkpoint);
        int[] tokens = Perplexity.tokenize(model, "Once upon a time, Tom saw a big dog. He was happy.");
        LlamaModel.State s = model.newState();
        float maxDiff = 0;
        for (int pos = 0; pos < tokens.length; pos++) {
            float[] want = ref.forward(tokens[pos], pos);
            float[] got = model.next(s, tokens[pos]);
            for (int i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(want[i] - got[i]));
        }
        // Only summation order and cos/sin rounding differ; logits here are O(10).
        assertTrue(maxDiff < 2e-4f, "max |logit diff| = " + maxDiff);
    }

    @Test
    void batchedForwardAllIsBitIdenticalToRepeatedNext() throws IOException {
        int[] all = Perplexity.tokenize(model, Files.readString(evalText));
        int[] tokens = Arrays.copyOf(all, 300); // crosses the 128-token block boundary twice
        float[][] batched = model.forwardAll(model.newState(), tokens);
        LlamaModel.State s = model.newState();
        for (int t = 0; t < tokens.length; t++) {
            float[] one = model.next(s, tokens[t]);
            for (int i = 0; i < one.length; i++) {
                if (Float.floatToRawIntBits(one[i]) != Float.floatToRawIntBits(batched[t][i])) {
                    throw new AssertionError("position " + t + " logit " + i + ": " + one[i] + " vs " + batched[t][i]);
                }
            }
        }
        // A state can also continue after a batch: prefill 10, then decode.
        LlamaModel.State mixed = model.newState();
        model.forwardAll(mixed, Arrays.copyOf(tokens, 10));
        assertArrayEquals(batched[10], model.next(mixed, tokens[10]));
        assertEquals(11, mixed.position());
    }
}
