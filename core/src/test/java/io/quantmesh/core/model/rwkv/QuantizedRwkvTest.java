package io.quantmesh.core.model.rwkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.codec.ScalarCodec;
import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.model.Models;
import io.quantmesh.core.quantized.Layers;
import io.quantmesh.core.quantized.QuantizedCheckpointWriter;
import io.quantmesh.core.quantized.QuantizedTensor;
import io.quantmesh.core.quantized.RoundToNearest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A quantized RWKV checkpoint (HF layout) loads through Models.open as exactly its dequantized weights. */
class QuantizedRwkvTest {
    static final Pattern LINEARS = Pattern.compile("rwkv\\.blocks\\.\\d+\\.(attention|feed_forward)\\.(key|value|receptance|output|gate)\\.weight");

    @TempDir
    Path tmp;

    @Test
    void quantizedTinyRwkvRunsOnItsDequantizedWeights() throws IOException {
        Path hf = tmp.resolve("hf"), q = tmp.resolve("q"), ref = tmp.resolve("ref");
        RwkvHfFormat.save(TinyRwkv.weights(TinyRwkv.V5_2), hf);
        Map<String, QuantizedTensor> layers;
        try (HfCheckpoint ck = HfCheckpoint.open(hf)) {
            layers = RoundToNearest.linears(ck, LINEARS, ScalarCodec.named("INT8"), 64);
        }
        assertEquals(12 * 8, layers.size());   // v5.2: key, value, receptance, output, gate + ffn key, value, receptance
        QuantizedCheckpointWriter.write(hf, layers, q, QuantizedCheckpointWriter.Options.of("rtn"));
        Layers.denseSubstitute(hf, layers, ref);
        try (LanguageModel m = Models.open(q, null); LanguageModel r = Models.open(ref, null)) {
            RwkvModel rm = (RwkvModel) m;
            float[] got = TinyRwkv.logitsAfter(rm, "\"in the"), want = TinyRwkv.logitsAfter((RwkvModel) r, "\"in the");
            Layers.assertSameLogits(new float[][] {want}, new float[][] {got});
            double d = TinyRwkv.maxAbsDiff(got, TinyRwkv.logitsAfter(TinyRwkv.model(TinyRwkv.V5_2), "\"in the"));
            System.out.printf("tiny RWKV v5.2, INT8 g64 linears: max |Δlogit| vs fp32 %.4f%n", d);
            assertTrue(d > 0 && d < 0.5, "INT8 moved the logits by " + d);
        }
    }
}
