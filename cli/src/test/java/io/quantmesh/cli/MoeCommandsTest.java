package io.quantmesh.cli;

import io.quantmesh.cli.LlamaCommandsTest.Run;
import io.quantmesh.core.Shared;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.quantmesh.cli.LlamaCommandsTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * upcycle, logits, generate, ppl and inspect --routing on stories260K and its upcycles into the three MoE styles:
 * one code path, the dense answers.
 */
class MoeCommandsTest {
    static final List<String> STYLES = List.of("mixtral", "qwen2_moe", "deepseek_moe");
    static final String TEXT = "Once upon a time, Lily saw a big red ball in the park.";

    @TempDir
    static Path tmp;
    static Path dense;

    @BeforeAll
    static void importAndUpcycle() {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        dense = tmp.resolve("dense");
        Run r = run("import-llama2c", "--checkpoint", Shared.resolve("models/stories260K/stories260K.bin").toString(),
                "--tokenizer", Shared.resolve("models/stories260K/tok512.bin").toString(), "--out", dense.toString());
        assertEquals(0, r.code(), r.err());
        for (String s : STYLES) {
            Run u = run("upcycle", "--dense", dense.toString(), "--style", s, "--out", tmp.resolve(s).toString());
            assertEquals(0, u.code(), u.err());
            assertTrue(u.out().contains("upcycled"), u.out());
        }
    }

    static float[] logits(Path model) {
        return logits(model, TEXT);
    }

    static float[] logits(Path model, String text) {
        Run r = run("logits", "--model", model.toString(), "--text", text);
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        float[] f = new float[lines.length];
        for (int i = 0; i < f.length; i++) f[i] = Float.parseFloat(lines[i]);
        return f;
    }

    @Test
    void logitsOfEveryStyleEqualTheDenseLogits() {
        float[] want = logits(dense);
        assertEquals(512, want.length);
        float scale = 0;
        for (float v : want) scale = Math.max(scale, Math.abs(v));
        for (String s : STYLES) {
            float[] got = logits(tmp.resolve(s));
            assertEquals(want.length, got.length);
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-5 * scale, s + " logit " + i);
            }
        }
    }

    /** The same command on an RWKV file (no BOS): the rwkv.cpp reference logits after the bytes `"`, `i`, `n`. */
    @Test
    void logitsServesRwkvThroughTheSameCodePath() throws Exception {
        float[] got = logits(Shared.resolve("models/rwkv-tiny/tiny-rwkv-5v1-730K-FP32.bin"), "\"in");
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(Files.readAllBytes(
                Shared.resolve("models/rwkv-tiny/expected-logits-5v1-730K.bin"))).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertEquals(256, got.length);
        for (int i = 0; i < got.length; i++) assertEquals(b.getFloat(4 * i), got[i], 1e-4, "logit " + i);
    }

    @Test
    void generateGreedyGivesTheReferenceTextForEveryStyle() throws Exception {
        byte[] expected = Files.readAllBytes(Shared.resolve("models/stories260K/greedy-from-bos.txt"));
        byte[] withNewline = java.util.Arrays.copyOf(expected, expected.length + 1);
        withNewline[expected.length] = '\n';
        for (String s : STYLES) {
            Run r = run("generate", "--model", tmp.resolve(s).toString());
            assertEquals(0, r.code(), r.err());
            assertArrayEquals(withNewline, r.outBytes(), s);
        }
    }

    @Test
    void pplOfEveryStyleIsTheDensePpl() {
        String file = Shared.resolve("data/eval/tinystories-sample.txt").toString();
        for (String s : STYLES) {
            Run r = run("ppl", "--model", tmp.resolve(s).toString(), "--file", file, "--ctx", "256");
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("tokens 15537  windows 60"), r.out());
            assertTrue(r.out().contains("ppl 5.7351"), s + ": " + r.out());
        }
    }

    @Test
    void inspectRoutingPrintsPerExpertStatistics() {
        Run r = run("inspect", "--routing", "--model", tmp.resolve("qwen2_moe").toString(), "--text", TEXT);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("qwen2_moe, 8 experts, top-2 (raw softmax weights), shared expert of width 172"), r.out());
        assertTrue(r.out().contains("    0  dense"), r.out()); // mlp_only_layers = [0]
        assertTrue(r.out().contains("all 4 sparse layers: σ(tokens per expert)"), r.out());
        // per layer, the token counts add up to tokens × k
        long tokens = Long.parseLong(r.out().replaceAll("(?s).*--text, (\\d+) tokens.*", "$1"));
        long[] perLayer = new long[5];
        for (String line : r.out().split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 6 && f[0].matches("\\d") && f[1].matches("\\d+")) perLayer[Integer.parseInt(f[0])] += Long.parseLong(f[2]);
        }
        for (int l = 1; l < 5; l++) assertEquals(2 * tokens, perLayer[l], "layer " + l);
    }

    @Test
    void badRoutingRequestsGiveExitCode2() {
        Run dense = run("inspect", "--routing", "--model", MoeCommandsTest.dense.toString(), "--text", TEXT);
        assertEquals(2, dense.code());
        assertTrue(dense.err().contains("has no experts"), dense.err());
        Run noText = run("inspect", "--routing", "--model", tmp.resolve("mixtral").toString());
        assertEquals(2, noText.code());
        assertTrue(noText.err().contains("--text or --file"), noText.err());
        Run style = run("upcycle", "--dense", MoeCommandsTest.dense.toString(), "--style", "switch", "--out",
                tmp.resolve("x").toString());
        assertEquals(2, style.code());
        assertTrue(style.err().contains("unknown MoE style"), style.err());
        Run raw = run("upcycle", "--dense", MoeCommandsTest.dense.toString(), "--style", "qwen2_moe", "--router",
                "random", "--out", tmp.resolve("y").toString());
        assertEquals(2, raw.code());
        assertTrue(raw.err().contains("grouped router"), raw.err());
    }
}
