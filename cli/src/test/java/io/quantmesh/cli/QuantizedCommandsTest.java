package io.quantmesh.cli;

import static io.quantmesh.cli.LlamaCommandsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantmesh.core.Shared;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** quantize-rtn, then ppl / inspect / generate / logits on the quantized checkpoint, in process. */
class QuantizedCommandsTest {
    @TempDir
    Path tmp;

    @Test
    void rtnInt4ThenTheModelCommands() throws Exception {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        Path hf = tmp.resolve("stories260K"), q = tmp.resolve("int4");
        assertEquals(0, run("import-llama2c", "--checkpoint", Shared.resolve("models/stories260K/stories260K.bin").toString(),
                "--tokenizer", Shared.resolve("models/stories260K/tok512.bin").toString(), "--out", hf.toString()).code());
        LlamaCommandsTest.Run r = run("quantize-rtn", "--model", hf.toString(), "--out", q.toString(), "--codec", "INT4",
                "--group-size", "64");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("quantized 35 linears"), r.out());
        assertTrue(r.out().contains("bits/weight: index 4.0000 | stored 4.3220"), r.out());

        r = run("ppl", "--model", q.toString(), "--file", Shared.resolve("data/eval/tinystories-sample.txt").toString(),
                "--ctx", "256");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("ctx 256  tokens 15537  windows 60"), r.out());
        assertTrue(r.out().contains("ppl 6.4230"), r.out());

        r = run("inspect", q.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("metadata quantmesh.format = 1"), r.out());
        assertTrue(r.out().matches("(?s).*model\\.layers\\.4\\.mlp\\.down_proj +int4 g64 +\\[64, 172] +index 4\\.0000 +stored 4\\.3488.*"), r.out());
        assertTrue(r.out().contains("quantization method rtn, format 1, 35 quantized linears, 226,560 parameters"), r.out());

        r = run("generate", "--model", q.toString(), "--steps", "20");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("Once upon a time"), r.out());
        assertEquals(0, run("logits", "--model", q.toString(), "--text", "Once").code());

        // A broken checkpoint: exit code 2 and one line with the reason.
        Files.writeString(q.resolve("config.json"), Files.readString(q.resolve("config.json"))
                .replace("\"format_version\" : 1", "\"format_version\" : 9"));
        r = run("ppl", "--model", q.toString(), "--file", Shared.resolve("data/eval/tinystories-sample.txt").toString(),
                "--ctx", "256");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("quantized checkpoint format 9 is newer than this reader (1)"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}
