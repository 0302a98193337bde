package io.quantmesh.core.importer;

import io.quantmesh.core.Shared;
import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.eval.Perplexity;
import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.model.Models;
import io.quantmesh.core.model.llama.LlamaModel;
import io.quantmesh.core.model.llama.LlamaWeights;
import io.quantmesh.core.model.llama.Stories260KTest;
import io.quantmesh.core.tensor.DType;
import io.quantmesh.core.tensor.Tensor;
import io.quantmesh.core.tokenizer.Llama2cTokenizer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Llama2cImportTest {
    @TempDir
    static Path tmp;
    static final Path checkpoint = Stories260KTest.CHECKPOINT, tokenizer = Stories260KTest.TOKENIZER;
    static Path imported;

    @BeforeAll
    static void importStories() throws IOException {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        imported = tmp.resolve("stories260K-hf");
        Llama2cImporter.importTo(checkpoint, tokenizer, imported);
    }

    @Test
    void writesAnHfLlamaDirectory() throws IOException {
        try (HfCheckpoint ck = HfCheckpoint.open(imported)) {
            LlamaConfig c = LlamaConfig.fromJson(ck.config());
            assertEquals(new LlamaConfig(64, 172, 5, 8, 4, 1e-5, 10000.0, 512, 512, true, 1, 2), c);
            assertEquals("llama", ck.config().get("model_type").asText());
            assertEquals(List.copyOf(LlamaWeights.specs(c, DType.F32).stream().map(s -> s.name()).toList()),
                    List.copyOf(ck.tensorNames()));
            assertArrayEquals(new long[] {32, 64}, ck.info("model.layers.4.self_attn.k_proj.weight").shape());
            assertFalse(ck.contains("lm_head.weight"));
        }
        assertArrayEquals(Files.readAllBytes(tokenizer), Files.readAllBytes(imported.resolve("tokenizer.bin")));
    }

    @Test
    void importedDirectoryAndRawFileGiveIdenticalLogitsPerplexityAndGreedyText() throws IOException {
        try (LanguageModel raw = Models.open(checkpoint, tokenizer); LanguageModel hf = Models.open(imported, null)) {
            int[] tokens = Perplexity.tokenize(raw, "Lily and Ben went to the park. They saw a big tree.");
            assertArrayEquals(tokens, Perplexity.tokenize(hf, "Lily and Ben went to the park. They saw a big tree."));
            float[][] a = raw.forwardAll(raw.newState(), tokens), b = hf.forwardAll(hf.newState(), tokens);
            for (int t = 0; t < tokens.length; t++) assertArrayEquals(a[t], b[t], "position " + t);

            String text = Perplexity.readText(Stories260KTest.EVAL_TEXT);
            Perplexity.Result pr = Perplexity.evaluate(raw, text, 256, "raw", null);
            Perplexity.Result ph = Perplexity.evaluate(hf, text, 256, "hf", null);
            assertEquals(pr.meanNll(), ph.meanNll(), 0.0);
            assertEquals(15537, ph.tokens());
            assertEquals(60, ph.windows());
            assertEquals(5.7351, ph.ppl(), 5e-4, ph.toString());
            assertArrayEquals(Files.readAllBytes(Stories260KTest.GREEDY_TEXT),
                    Stories260KTest.greedyFromBos(hf));
        }
    }

    /** stories260K rewritten in the version-1 layout must read back to the same tensors. */
    @Test
    void version1LayoutReadsToTheSameWeights() throws IOException {
        float[] f = Llama2cFiles.readAllFloats(checkpoint);
        int d = 64, h = 172, l = 5, kv = 32, v = 512;
        int[] sizes = {v * d, l * d, l * d * d, l * kv * d, l * kv * d, l * d * d, l * d, l * h * d, l * d * h, l * h * d, d};
        List<float[]> parts = new ArrayList<>();
        int off = 0;
        for (int s : sizes) {
            parts.add(Arrays.copyOfRange(f, off, off + s));
            off += s;
        }
        // v0: emb, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final -> v1: rms_att, rms_ffn, rms_final, emb, wq..w3
        List<float[]> v1 = List.of(parts.get(1), parts.get(6), parts.get(10), parts.get(0), parts.get(2), parts.get(3),
                parts.get(4), parts.get(5), parts.get(7), parts.get(8), parts.get(9));
        Path file = tmp.resolve("stories260K-v1.bin");
        Llama2cFiles.writeV1(file, new int[] {64, 172, 5, 8, 4, 512, 512}, true, v1);
        Llama2cCheckpoint a = Llama2cCheckpoint.read(checkpoint), b = Llama2cCheckpoint.read(file);
        assertEquals(0, a.version());
        assertEquals(1, b.version());
        assertEquals(a.config(), b.config());
        assertSameTensors(a.tensors(), b.tensors());
    }

    /** Unshared classifier: legacy negative vocab and v1's flag both yield lm_head.weight = wcls. */
    @Test
    void separateClassifierBecomesLmHead() throws IOException {
        SplittableRandom rnd = new SplittableRandom(9);
        int d = 8, h = 12, l = 2, heads = 2, kvHeads = 1, v = 10, seq = 6, hd = d / heads, kv = kvHeads * hd;
        int[] sizes = {v * d, l * d, l * d * d, l * kv * d, l * kv * d, l * d * d, l * d, l * h * d, l * d * h, l * h * d, d};
        List<float[]> parts = new ArrayList<>();
        for (int s : sizes) parts.add(random(rnd, s));
        float[] wcls = random(rnd, v * d);
        List<float[]> v0 = new ArrayList<>(parts);
        v0.add(new float[seq * hd / 2]);
        v0.add(new float[seq * hd / 2]);
        v0.add(wcls);
        Path f0 = tmp.resolve("unshared-v0.bin");
        Llama2cFiles.writeV0(f0, new int[] {d, h, l, heads, kvHeads, -v, seq}, v0);
        List<float[]> v1 = new ArrayList<>(List.of(parts.get(1), parts.get(6), parts.get(10), parts.get(0), parts.get(2),
                parts.get(3), parts.get(4), parts.get(5), parts.get(7), parts.get(8), parts.get(9)));
        v1.add(wcls);
        Path f1 = tmp.resolve("unshared-v1.bin");
        Llama2cFiles.writeV1(f1, new int[] {d, h, l, heads, kvHeads, v, seq}, false, v1);
        for (Path f : List.of(f0, f1)) {
            Llama2cCheckpoint ck = Llama2cCheckpoint.read(f);
            assertFalse(ck.config().tieWordEmbeddings());
            assertArrayEquals(wcls, ck.tensors().get("lm_head.weight").toFloatArray());
            // gate_proj is w1, down_proj is w2, up_proj is w3
            assertArrayEquals(Arrays.copyOfRange(parts.get(7), h * d, 2 * h * d),
                    ck.tensors().get("model.layers.1.mlp.gate_proj.weight").toFloatArray());
            assertArrayEquals(Arrays.copyOfRange(parts.get(8), d * h, 2 * d * h),
                    ck.tensors().get("model.layers.1.mlp.down_proj.weight").toFloatArray());
            assertArrayEquals(Arrays.copyOfRange(parts.get(9), 0, h * d),
                    ck.tensors().get("model.layers.0.mlp.up_proj.weight").toFloatArray());
            LlamaModel m = new LlamaModel(ck.weights(), tenTokenVocabulary(), null);
            assertEquals(10, m.next(m.newState(), 3).length);
        }
        assertSameTensors(Llama2cCheckpoint.read(f0).tensors(), Llama2cCheckpoint.read(f1).tensors());
    }

    @Test
    void rotaryPermutationMovesPairsToHalves() {
        // one head of dim 4, 1 column: interleaved rows (a0 b0 a1 b1) -> halves (a0 a1 b0 b1)
        Tensor w = Tensor.ofFloats(new float[] {10, 11, 20, 21, 30, 31, 40, 41}, 4, 2);
        Tensor p = RotaryPermutation.interleavedToHalves(w, 1);
        assertArrayEquals(new float[] {10, 11, 30, 31, 20, 21, 40, 41}, p.toFloatArray());
        Tensor big = Tensor.ofFloats(random(new SplittableRandom(1), 48 * 5), 48, 5);
        assertArrayEquals(big.toFloatArray(),
                RotaryPermutation.halvesToInterleaved(RotaryPermutation.interleavedToHalves(big, 3), 3).toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> RotaryPermutation.interleavedToHalves(big, 5));
    }

    @Test
    void rejectsTruncatedAndImplausibleFiles() throws IOException {
        byte[] all = Files.readAllBytes(checkpoint);
        Path cut = tmp.resolve("cut.bin");
        Files.write(cut, Arrays.copyOf(all, all.length - 4));
        IOException e = assertThrows(IOException.class, () -> Llama2cCheckpoint.read(cut));
        assertTrue(e.getMessage().contains("implies 1056540"), e.getMessage());

        Path huge = tmp.resolve("huge.bin");
        byte[] h = Arrays.copyOf(all, 4096);
        java.nio.ByteBuffer.wrap(h).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(0, 1 << 20).putInt(4, 1 << 20)
                .putInt(8, 1 << 20).putInt(12, 1 << 10).putInt(16, 1 << 10).putInt(20, 1 << 20);
        Files.write(huge, h);
        e = assertThrows(IOException.class, () -> Llama2cCheckpoint.read(huge));
        assertTrue(e.getMessage().contains("overflow") || e.getMessage().contains("implies"), e.getMessage());

        Path v2 = tmp.resolve("v2.bin");
        byte[] q = new byte[512];
        java.nio.ByteBuffer.wrap(q).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(0, Llama2cCheckpoint.MAGIC).putInt(4, 2);
        Files.write(v2, q);
        e = assertThrows(IOException.class, () -> Llama2cCheckpoint.read(v2));
        assertTrue(e.getMessage().contains("version 2"), e.getMessage());

        Path bad = tmp.resolve("bad.bin");
        byte[] b = Arrays.copyOf(all, all.length);
        java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(12, 7); // 7 heads do not divide 64
        Files.write(bad, b);
        assertThrows(IOException.class, () -> Llama2cCheckpoint.read(bad));
        assertThrows(IOException.class, () -> Models.open(checkpoint, null));
    }

    /** A tokenizer.bin with pieces "t0".."t9". */
    static Llama2cTokenizer tenTokenVocabulary() throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 + 10 * 10).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(2);
        for (int i = 0; i < 10; i++) b.putFloat(-i).putInt(2).put((byte) 't').put((byte) ('0' + i));
        return Llama2cTokenizer.parse(Arrays.copyOf(b.array(), b.position()), "ten");
    }

    static void assertSameTensors(Map<String, Tensor> a, Map<String, Tensor> b) {
        assertEquals(List.copyOf(a.keySet()), List.copyOf(b.keySet()));
        for (String name : a.keySet()) assertArrayEquals(a.get(name).toFloatArray(), b.get(name).toFloatArray(), name);
    }

    static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }
}
