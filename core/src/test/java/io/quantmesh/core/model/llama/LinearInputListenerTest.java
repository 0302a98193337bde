package io.quantmesh.core.model.llama;

import io.quantmesh.core.Shared;
import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.eval.Perplexity;
import io.quantmesh.core.importer.Llama2cCheckpoint;
import io.quantmesh.core.model.llama.LinearInputListener.Site;
import io.quantmesh.core.tokenizer.Llama2cTokenizer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The linear-input hook on real stories260K: what it reports, in which order, and that it changes nothing. */
class LinearInputListenerTest {
    static LlamaModel model;
    static int[] tokens;

    @BeforeAll
    static void load() throws IOException {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        model = new LlamaModel(Llama2cCheckpoint.read(Stories260KTest.CHECKPOINT).weights(),
                Llama2cTokenizer.load(Stories260KTest.TOKENIZER), null);
        tokens = Arrays.copyOf(Perplexity.tokenize(model, Files.readString(Stories260KTest.EVAL_TEXT)), 200);
    }

    record Call(int layer, Site site, float[] rows, int n, int width) {}

    static List<Call> capture(int[] toks) {
        List<Call> calls = new ArrayList<>();
        LlamaModel.State s = model.newState();
        s.linearInputListener((layer, site, x, n, width) ->
                calls.add(new Call(layer, site, Arrays.copyOf(x, n * width), n, width)));
        model.forwardAll(s, toks);
        return calls;
    }

    @Test
    void reportsEverySiteOfEveryLayerPerBlockInOrderWithoutChangingTheLogits() {
        LlamaConfig c = model.config();
        List<Call> calls = capture(tokens);
        // 200 tokens = blocks of 128 and 72; per block, per layer: ATTN_IN, O_PROJ, MLP_IN, DOWN_PROJ
        assertEquals(2 * c.numHiddenLayers() * 4, calls.size());
        int i = 0;
        for (int block : new int[] {128, 72}) {
            for (int l = 0; l < c.numHiddenLayers(); l++) {
                for (Site site : Site.values()) {
                    Call call = calls.get(i++);
                    assertEquals(l, call.layer());
                    assertEquals(site, call.site());
                    assertEquals(block, call.n());
                    int want = switch (site) {
                        case ATTN_IN, MLP_IN -> c.hiddenSize();
                        case O_PROJ -> c.numAttentionHeads() * c.headDim();
                        case DOWN_PROJ -> c.intermediateSize();
                    };
                    assertEquals(want, call.width(), site + " width");
                }
            }
        }
        float[][] plain = model.forwardAll(model.newState(), tokens);
        LlamaModel.State watched = model.newState().linearInputListener((l, s, x, n, w) -> {});
        float[][] observed = model.forwardAll(watched, tokens);
        for (int t = 0; t < tokens.length; t++) assertArrayEquals(plain[t], observed[t]);
    }

    @Test
    void downProjInputIsTheSwiGluOfTheMlpInput() {
        List<Call> calls = capture(Arrays.copyOf(tokens, 40));
        LlamaWeights.Layer w = model.weights().layers().get(2);
        Call mlpIn = calls.stream().filter(k -> k.layer() == 2 && k.site() == Site.MLP_IN).findFirst().orElseThrow();
        Call down = calls.stream().filter(k -> k.layer() == 2 && k.site() == Site.DOWN_PROJ).findFirst().orElseThrow();
        int dim = mlpIn.width(), inter = down.width();
        double maxDiff = 0;
        for (int t = 0; t < mlpIn.n(); t++) {
            for (int j = 0; j < inter; j++) {
                double g = 0, u = 0;
                for (int k = 0; k < dim; k++) {
                    g += (double) w.gateProj().get(j, k) * mlpIn.rows()[t * dim + k];
                    u += (double) w.upProj().get(j, k) * mlpIn.rows()[t * dim + k];
                }
                double want = g / (1 + Math.exp(-g)) * u;
                maxDiff = Math.max(maxDiff, Math.abs(want - down.rows()[t * inter + j]));
            }
        }
        assertTrue(maxDiff < 1e-4, "max |diff| = " + maxDiff);
    }
}
