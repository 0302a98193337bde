package io.quantmesh.core.model.moe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantmesh.core.Shared;
import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.codec.ScalarCodec;
import io.quantmesh.core.eval.Perplexity;
import io.quantmesh.core.importer.Llama2cImporter;
import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.model.Models;
import io.quantmesh.core.model.llama.Stories260KTest;
import io.quantmesh.core.quantized.Layers;
import io.quantmesh.core.quantized.QuantizedCheckpointWriter;
import io.quantmesh.core.quantized.QuantizedTensor;
import io.quantmesh.core.quantized.RoundToNearest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A quantized Mixture-of-Experts checkpoint: stories260K upcycled to Mixtral (every expert a copy of the dense MLP),
 * every projection and expert RTN INT4. It must load as exactly its dequantized weights, and — since identical
 * weights quantize identically — give the quantized dense model's logits (within the upcycle's 1e-5).
 */
class QuantizedMoeTest {
    @TempDir
    Path tmp;

    @Test
    void quantizedUpcycleEqualsTheQuantizedDenseModel() throws IOException {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        Path dense = tmp.resolve("dense"), moe = tmp.resolve("moe");
        Llama2cImporter.importTo(Stories260KTest.CHECKPOINT, Stories260KTest.TOKENIZER, dense);
        Upcycler.upcycle(dense, moe, new Upcycler.Options(MoeStyle.MIXTRAL, 4, 2, true, Upcycler.RouterInit.RANDOM, 3));
        Map<String, QuantizedTensor> qDense, qMoe;
        try (HfCheckpoint a = HfCheckpoint.open(dense); HfCheckpoint b = HfCheckpoint.open(moe)) {
            qDense = RoundToNearest.linears(a, RoundToNearest.DECODER_LINEARS, ScalarCodec.named("INT4"), 64);
            qMoe = RoundToNearest.linears(b, RoundToNearest.DECODER_LINEARS, ScalarCodec.named("INT4"), 64);
        }
        assertEquals(5 * (4 + 4 * 3), qMoe.size());   // attention + 4 experts x (w1, w2, w3) per layer; routers stay F32
        QuantizedCheckpointWriter.Options o = QuantizedCheckpointWriter.Options.of("rtn");
        QuantizedCheckpointWriter.write(dense, qDense, tmp.resolve("q-dense"), o);
        QuantizedCheckpointWriter.write(moe, qMoe, tmp.resolve("q-moe"), o);
        Layers.denseSubstitute(moe, qMoe, tmp.resolve("moe-dequantized"));
        try (LanguageModel d = Models.open(tmp.resolve("q-dense"), null);
             LanguageModel m = Models.open(tmp.resolve("q-moe"), null);
             LanguageModel ref = Models.open(tmp.resolve("moe-dequantized"), null)) {
            assertEquals("mixtral", m.family());
            int[] tokens = Arrays.copyOf(Perplexity.tokenize(d, Perplexity.readText(Stories260KTest.EVAL_TEXT)), 128);
            float[][] ld = d.forwardAll(d.newState(), tokens), lm = m.forwardAll(m.newState(), tokens);
            Layers.assertSameLogits(ref.forwardAll(ref.newState(), tokens), lm);
            double worst = UpcycleEquivalenceTest.worstRelative(ld, lm);
            System.out.printf("quantized mixtral upcycle vs quantized dense: max relative |Δlogit| %.2e%n", worst);
            assertTrue(worst <= 1e-5, "relative difference " + worst);
        }
    }
}
