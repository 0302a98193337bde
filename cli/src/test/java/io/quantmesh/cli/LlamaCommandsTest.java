package io.quantmesh.cli;

import io.quantmesh.core.Shared;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** import-llama2c, generate, ppl, synth and bench end to end, in process. */
class LlamaCommandsTest {
    @TempDir
    static Path tmp;
    static Path checkpoint, tokenizer, hf;

    @BeforeAll
    static void importStories() {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        checkpoint = Shared.resolve("models/stories260K/stories260K.bin");
        tokenizer = Shared.resolve("models/stories260K/tok512.bin");
        hf = tmp.resolve("stories260K");
        Run r = run("import-llama2c", "--checkpoint", checkpoint.toString(), "--tokenizer", tokenizer.toString(),
                "--out", hf.toString());
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("260,032 parameters"), r.out);
    }

    record Run(int code, String out, byte[] outBytes, String err) {}

    static synchronized Run run(String... args) {
        PrintStream oldOut = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        int code;
        try {
            System.setOut(new PrintStream(bytes, true));
            code = Main.commandLine().setErr(new PrintWriter(err, true)).execute(args);
        } finally {
            System.setOut(oldOut);
        }
        return new Run(code, bytes.toString(), bytes.toByteArray(), err.toString());
    }

    @Test
    void generateGreedyFromBosPrintsTheReferenceText() throws Exception {
        byte[] expected = Files.readAllBytes(Shared.resolve("models/stories260K/greedy-from-bos.txt"));
        Run r = run("generate", "--model", hf.toString());
        assertEquals(0, r.code, r.err);
        byte[] withNewline = java.util.Arrays.copyOf(expected, expected.length + 1);
        withNewline[expected.length] = '\n';
        assertArrayEquals(withNewline, r.outBytes);
        Run sampled = run("generate", "--model", checkpoint.toString(), "--tokenizer", tokenizer.toString(),
                "--prompt", "Tom had a dog", "--temperature", "0.8", "--steps", "40", "--seed", "3");
        assertEquals(0, sampled.code, sampled.err);
        assertTrue(sampled.out.startsWith("Tom had a dog"), sampled.out);
        assertEquals(sampled.out, run("generate", "--model", hf.toString(), "--prompt", "Tom had a dog",
                "--temperature", "0.8", "--steps", "40", "--seed", "3").out, "same seed, same text");
    }

    @Test
    void pplReportsTheProtocolFigures() {
        Run r = run("ppl", "--model", hf.toString(), "--file",
                Shared.resolve("data/eval/tinystories-sample.txt").toString(), "--ctx", "256");
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("ctx 256  tokens 15537  windows 60"), r.out);
        assertTrue(r.out.contains("ppl 5.7351"), r.out);
    }

    @Test
    void synthThenBenchOnIt() {
        Path dir = tmp.resolve("tiny");
        Run s = run("synth", "--shape", "llama-tiny-256", "--dtype", "BF16", "--out", dir.toString());
        assertEquals(0, s.code, s.err);
        assertTrue(Files.isRegularFile(dir.resolve("model.safetensors")));
        Run b = run("bench", "--model", dir.toString(), "--rows", "64", "--cols", "96", "--seconds", "0.05",
                "--tokens", "2");
        assertEquals(0, b.code, b.err);
        assertTrue(b.out.contains("speed-up"), b.out);
        assertTrue(b.out.contains("tokens/s"), b.out);
        assertTrue(b.out.contains("roofline"), b.out);
    }

    @Test
    void badInputGivesExitCode2AndOneLine() {
        Run r = run("generate", "--model", tmp.resolve("missing").toString());
        assertEquals(2, r.code);
        assertEquals(1, r.err.strip().lines().count(), r.err);
        assertTrue(r.err.contains("no such model"), r.err);
        Run binary = run("ppl", "--model", hf.toString(), "--file", checkpoint.toString(), "--ctx", "256");
        assertEquals(2, binary.code);
        assertTrue(binary.err.contains("not valid UTF-8"), binary.err);
        Run raw = run("ppl", "--model", checkpoint.toString(), "--file",
                Shared.resolve("data/eval/tinystories-sample.txt").toString(), "--ctx", "256");
        assertEquals(2, raw.code);
        assertTrue(raw.err.contains("pass its tokenizer.bin"), raw.err);
        Run shape = run("synth", "--shape", "gpt-5", "--out", tmp.resolve("x").toString());
        assertEquals(2, shape.code);
        assertTrue(shape.err.contains("unknown shape"), shape.err);
    }
}
