package io.quantmesh.cli;

import io.quantmesh.core.Shared;
import io.quantmesh.core.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** quantmesh calibrate and bench-hessian end to end on stories260K, in process. */
class CalibrateCommandTest {

    @Test
    void calibrateWritesTheArtifactAndRejectsBadInputWithOneLine(@TempDir Path tmp) throws Exception {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        Path hf = tmp.resolve("stories260K"), out = tmp.resolve("h.safetensors");
        LlamaCommandsTest.Run imported = LlamaCommandsTest.run("import-llama2c", "--checkpoint",
                Shared.resolve("models/stories260K/stories260K.bin").toString(), "--tokenizer",
                Shared.resolve("models/stories260K/tok512.bin").toString(), "--out", hf.toString());
        assertEquals(0, imported.code(), imported.err());

        LlamaCommandsTest.Run r = LlamaCommandsTest.run("calibrate", "--model", hf.toString(), "--out", out.toString(),
                "--samples", "3", "--seq-len", "40", "--seed", "5", "--corpus", "austen,brown");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("20 sites, 3 x 40 tokens from austen,brown (seed 5"), r.out());
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals(40, f.tensors().size());
            assertEquals("austen,brown", f.metadata().get("corpus"));
            assertEquals("120", f.metadata().get("tokens"));
        }

        LlamaCommandsTest.Run bad = LlamaCommandsTest.run("calibrate", "--model", hf.toString(), "--out",
                tmp.resolve("bad.safetensors").toString(), "--seq-len", "4096");
        assertEquals(2, bad.code());
        assertEquals("quantmesh calibrate: seq_len 4096 exceeds the model's context of 512 tokens", bad.err().strip());
        LlamaCommandsTest.Run missing = LlamaCommandsTest.run("calibrate", "--model", tmp.resolve("nope").toString(),
                "--out", tmp.resolve("bad.safetensors").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("model directory does not exist"), missing.err());
        assertFalse(Files.exists(tmp.resolve("bad.safetensors")));
    }

    @Test
    void benchHessianPrintsItsFigures() {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        LlamaCommandsTest.Run r = LlamaCommandsTest.run("bench-hessian", "--dims", "8,20", "--seconds", "0.03",
                "--samples", "2", "--seq-len", "16", "--rounds", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("vec/naive") && r.out().contains("forward + H"), r.out());
    }
}
