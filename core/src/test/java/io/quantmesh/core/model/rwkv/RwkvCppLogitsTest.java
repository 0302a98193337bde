package io.quantmesh.core.model.rwkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The v5.1 / v5.2 runtimes against rwkv.cpp's reference logits for the prompt {@code "in}. */
class RwkvCppLogitsTest {

    @Test
    void v51MatchesRwkvCpp() throws Exception {
        check(TinyRwkv.V5_1, RwkvVersion.V5_1);
    }

    @Test
    void v52MatchesRwkvCpp() throws Exception {
        check(TinyRwkv.V5_2, RwkvVersion.V5_2);
    }

    private static void check(String id, RwkvVersion version) throws Exception {
        RwkvModel m = TinyRwkv.model(id);
        assertEquals(version, m.version());
        float[] expected = TinyRwkv.expectedLogits(id);
        assertEquals(256, expected.length);
        for (RwkvKernels k : new RwkvKernels[] {RwkvKernels.vector(), RwkvKernels.reference()}) {
            RwkvModel model = new RwkvModel(m.weights(), m.tokenizer(), k);
            double diff = TinyRwkv.maxAbsDiff(TinyRwkv.logitsAfter(model, "\"in"), expected);
            System.out.printf("%s %s: max |logit - rwkv.cpp| = %.3g%n", id, k.getClass().getSimpleName(), diff);
            assertTrue(diff < 1e-4, id + ": max abs logit difference " + diff);
        }
    }
}
