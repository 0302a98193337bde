package io.quantmesh.cli;

import static io.quantmesh.cli.LlamaCommandsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantmesh.core.Shared;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** quantize (collecting Hessians itself), then ppl on the result; bad recipe names. In process. */
class QuantizeCommandTest {
    @TempDir
    Path tmp;

    @Test
    void gptqInt4WithCollectedHessiansThenPpl() throws Exception {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        Path hf = tmp.resolve("stories260K"), q = tmp.resolve("g4");
        assertEquals(0, run("import-llama2c", "--checkpoint", Shared.resolve("models/stories260K/stories260K.bin").toString(),
                "--tokenizer", Shared.resolve("models/stories260K/tok512.bin").toString(), "--out", hf.toString()).code());
        LlamaCommandsTest.Run r = run("quantize", "--model", hf.toString(), "--recipe", "gptq-int4-g128", "--out",
                q.toString(), "--calib-samples", "16", "--seed", "3");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("gptq-int4-g128: 35 linears, 226,560 weights"), r.out());
        assertTrue(r.out().contains("bits/weight of the quantized linears: 4.0000 indices only"), r.out());
        assertTrue(r.out().matches("(?s).*sha256 [0-9a-f]{64}  model\\.safetensors.*"), r.out());

        r = run("ppl", "--model", q.toString(), "--file", Shared.resolve("data/eval/tinystories-sample.txt").toString(),
                "--ctx", "256");
        assertEquals(0, r.code(), r.err());
        double ppl = Double.parseDouble(r.out().replaceAll("(?s).*ppl ([0-9.]+).*", "$1"));
        assertTrue(ppl > 5.7 && ppl < 6.6, r.out());   // fp32 5.7351

        r = run("quantize", "--model", hf.toString(), "--recipe", "pcdvq-9", "--out", tmp.resolve("x").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown recipe 'pcdvq-9'; known recipes: rtn-int4-g128, gptq-int4-g128"), r.err());
    }
}
