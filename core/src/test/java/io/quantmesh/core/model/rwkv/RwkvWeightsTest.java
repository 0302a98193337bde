package io.quantmesh.core.model.rwkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantmesh.core.tensor.Tensor;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The named views RWKVQuant needs: element-wise multiplication parameters apart from the matrices. */
class RwkvWeightsTest {

    @Test
    void elementwiseViewOfEachVersion() {
        Map<String, Tensor> v52 = TinyRwkv.weights(TinyRwkv.V5_2).elementwiseParameters();
        assertTrue(v52.keySet().containsAll(Set.of("blocks.0.att.time_mix_k", "blocks.0.att.time_mix_v",
                "blocks.0.att.time_mix_r", "blocks.0.att.time_mix_g", "blocks.0.att.time_decay",
                "blocks.0.att.time_faaaa", "blocks.11.ffn.time_mix_k", "blocks.11.ffn.time_mix_r")));
        assertEquals(12 * 8, v52.size());
        Map<String, Tensor> v51 = TinyRwkv.weights(TinyRwkv.V5_1).elementwiseParameters();
        assertTrue(v51.containsKey("blocks.5.att.time_first") && !v51.containsKey("blocks.5.att.time_mix_g"));

        RwkvWeights v7 = TinyRwkv.weights(TinyRwkv.V7);
        Map<String, Tensor> e7 = v7.elementwiseParameters();
        assertTrue(e7.keySet().containsAll(Set.of("blocks.1.att.x_r", "blocks.1.att.x_w", "blocks.1.att.x_k",
                "blocks.1.att.x_v", "blocks.1.att.x_a", "blocks.1.att.x_g", "blocks.1.att.w0", "blocks.1.att.a0",
                "blocks.1.att.v0", "blocks.1.att.k_k", "blocks.1.att.k_a", "blocks.1.att.r_k", "blocks.1.ffn.x_k")));
        assertFalse(e7.containsKey("blocks.0.att.v0")); // layer 0 has no value residual
        Map<String, Tensor> m7 = v7.matrixParameters();
        assertTrue(m7.keySet().containsAll(Set.of("blocks.1.att.key.weight", "blocks.1.att.w1", "blocks.1.att.w2",
                "blocks.1.att.g1", "blocks.1.ffn.value.weight", "head.weight")));
        assertFalse(m7.containsKey("emb.weight") || m7.containsKey("blocks.1.ln1.weight"));
        assertEquals(RwkvWeights.Kind.EMBEDDING, v7.kind("emb.weight"));
        assertEquals(RwkvWeights.Kind.NORM, v7.kind("blocks.1.att.ln_x.weight"));
        // every parameter has exactly one kind
        int total = 0;
        for (RwkvWeights.Kind k : RwkvWeights.Kind.values()) total += v7.ofKind(k).size();
        assertEquals(v7.tensors().size(), total);
    }

    @Test
    void replacingAParameterChangesTheModel() {
        RwkvWeights w = TinyRwkv.weights(TinyRwkv.V5_2);
        float[] mix = w.floats("blocks.2.att.time_mix_k");
        for (int i = 0; i < mix.length; i++) mix[i] = Math.round(mix[i] * 4) / 4f; // a crude 2-bit codebook
        RwkvWeights q = w.with("blocks.2.att.time_mix_k", Tensor.ofFloats(mix, mix.length));
        assertEquals(mix[3], q.floats("blocks.2.att.time_mix_k")[3]);
        assertTrue(TinyRwkv.maxAbsDiff(TinyRwkv.logitsAfter(new RwkvModel(q, TinyRwkv.model(TinyRwkv.V5_2).tokenizer()),
                "\"in"), TinyRwkv.logitsAfter(TinyRwkv.model(TinyRwkv.V5_2), "\"in")) > 0);
        assertThrows(IllegalArgumentException.class, () -> w.with("blocks.2.att.time_mix_k", Tensor.ofFloats(new float[3], 3)));
        assertThrows(IllegalArgumentException.class, () -> w.tensor("blocks.2.att.nope"));
    }
}
