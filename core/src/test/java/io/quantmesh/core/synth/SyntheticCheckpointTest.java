package io.quantmesh.core.synth;

import io.quantmesh.core.Shared;
import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.model.Models;
import io.quantmesh.core.model.llama.LlamaModel;
import io.quantmesh.core.tensor.DType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyntheticCheckpointTest {
    static final LlamaConfig SMALL = new LlamaConfig(64, 160, 2, 4, 2, 1e-5, 10000.0, 32000, 64, false, 1, 2);
    static Path tokenizer;

    @BeforeAll
    static void shared() {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        tokenizer = Shared.resolve("models/llama2-tokenizer/tokenizer.bin");
    }

    @Test
    void sameSeedSameBytesAndTheModelRuns(@TempDir Path tmp) throws IOException {
        Path a = tmp.resolve("a"), b = tmp.resolve("b"), c = tmp.resolve("c");
        SyntheticCheckpoint.write(a, SMALL, DType.BF16, 7, tokenizer, null);
        SyntheticCheckpoint.write(b, SMALL, DType.BF16, 7, tokenizer, null);
        SyntheticCheckpoint.write(c, SMALL, DType.BF16, 8, tokenizer, null);
        byte[] fa = Files.readAllBytes(a.resolve("model.safetensors"));
        assertArrayEquals(fa, Files.readAllBytes(b.resolve("model.safetensors")));
        assertTrue(!java.util.Arrays.equals(fa, Files.readAllBytes(c.resolve("model.safetensors"))));
        assertArrayEquals(Files.readAllBytes(tokenizer), Files.readAllBytes(a.resolve("tokenizer.bin")));

        try (HfCheckpoint ck = HfCheckpoint.open(a)) {
            assertEquals(SMALL, LlamaConfig.fromJson(ck.config()));
            assertEquals("bfloat16", ck.config().get("torch_dtype").asText());
            assertEquals(DType.BF16, ck.info("model.layers.1.mlp.down_proj.weight").dtype());
            float[] w = ck.tensor("model.layers.0.self_attn.q_proj.weight").toFloatArray();
            double sum = 0, sq = 0;
            for (float x : w) {
                sum += x;
                sq += x * x;
            }
            assertEquals(0.0, sum / w.length, 0.002);
            assertEquals(0.02, Math.sqrt(sq / w.length), 0.002);
            assertEquals(1f, ck.tensor("model.norm.weight").getFloat(5));
        }

        try (LanguageModel m = Models.open(a, null)) {
            assertTrue(m instanceof LlamaModel);
            int[] tokens = m.tokenizer().encode("Hello world, this is a synthetic model");
            float[][] all = m.forwardAll(m.newState(), tokens);
            var s = m.newState();
            for (int t = 0; t < tokens.length; t++) {
                float[] one = m.next(s, tokens[t]);
                assertArrayEquals(all[t], one, "bf16 weights: batched == sequential at " + t);
                for (float x : one) assertTrue(Float.isFinite(x));
            }
        }
    }

    @Test
    void layeredShapeRunsWithTheSmallTokenizer(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("layered");
        SyntheticCheckpoint.write(dir, SyntheticCheckpoint.layered(3, 64), DType.BF16, 3,
                Shared.resolve("models/stories260K/tok512.bin"), null);
        try (LanguageModel m = Models.open(dir, null)) {
            int[] tokens = m.tokenizer().encode("Once upon a time");
            float[] logits = m.next(m.newState(), tokens[0]);
            assertEquals(SyntheticCheckpoint.LAYERED_VOCAB, logits.length);
            for (float x : logits) assertTrue(Float.isFinite(x));
        }
    }

    @Test
    void f32AndF16CheckpointsRunToo(@TempDir Path tmp) throws IOException {
        for (DType dt : new DType[] {DType.F32, DType.F16}) {
            Path dir = tmp.resolve(dt.name());
            SyntheticCheckpoint.write(dir, SMALL, dt, 7, tokenizer, null);
            try (LanguageModel m = Models.open(dir, null)) {
                int[] tokens = m.tokenizer().encode("a small test");
                float[][] all = m.forwardAll(m.newState(), tokens);
                var s = m.newState();
                for (int t = 0; t < tokens.length; t++) assertArrayEquals(all[t], m.next(s, tokens[t]), dt + " at " + t);
            }
        }
    }

    @Test
    void presetsAndBadArguments(@TempDir Path tmp) {
        LlamaConfig tiny = SyntheticCheckpoint.preset("tinyllama-1.1b").config();
        assertEquals(2048, tiny.hiddenSize());
        assertEquals(22, tiny.numHiddenLayers());
        assertEquals(256, tiny.kvDim());
        assertThrows(IllegalArgumentException.class, () -> SyntheticCheckpoint.preset("gpt-5"));
        LlamaConfig layered = SyntheticCheckpoint.preset("layered-12x256").config();
        assertEquals(12, layered.numHiddenLayers());
        assertEquals(768, layered.intermediateSize());
        assertEquals(128, layered.kvDim());
        assertEquals(SyntheticCheckpoint.LAYERED_VOCAB, layered.vocabSize());
        assertThrows(IllegalArgumentException.class, () -> SyntheticCheckpoint.preset("layered-12x100"));
        assertThrows(IllegalArgumentException.class, () -> SyntheticCheckpoint.preset("layered-0x256"));
        assertThrows(IllegalArgumentException.class,
                () -> SyntheticCheckpoint.write(tmp, SMALL, DType.I8, 1, tokenizer, null));
        assertThrows(IOException.class,
                () -> SyntheticCheckpoint.write(tmp, SMALL, DType.F32, 1, tmp.resolve("nope.bin"), null));
    }
}
