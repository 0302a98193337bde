package io.quantmesh.core.model.moe;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantmesh.core.Json;
import io.quantmesh.core.Shared;
import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.eval.Perplexity;
import io.quantmesh.core.importer.Llama2cImporter;
import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.model.Models;
import io.quantmesh.core.model.llama.Stories260KTest;
import io.quantmesh.core.model.moe.Upcycler.Options;
import io.quantmesh.core.model.moe.Upcycler.RouterInit;
import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.synth.SyntheticCheckpoint;
import io.quantmesh.core.tensor.DType;
import io.quantmesh.core.tensor.Tensor;
import io.quantmesh.core.tokenizer.Llama2cTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The constructed-MoE test bed (DESIGN.md §6): stories260K upcycled into each style, with every expert a copy of
 * (a part of) the dense MLP, must give the dense model's logits within 1e-5 relative (max |Δ| over the vocabulary
 * ≤ 1e-5 · max |dense logit|, at every position). See {@link Upcycler} for why the answer is exact.
 */
class UpcycleEquivalenceTest {
    static final double TOLERANCE = 1e-5;
    static final int TOKENS = 256;

    @TempDir
    static Path tmp;
    static Path denseDir;
    static LanguageModel dense;
    static int[] tokens;
    static float[][] denseLogits;

    @BeforeAll
    static void importDense() throws IOException {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        denseDir = tmp.resolve("stories260K");
        Llama2cImporter.importTo(Stories260KTest.CHECKPOINT, Stories260KTest.TOKENIZER, denseDir);
        dense = Models.open(denseDir, null);
        tokens = Arrays.copyOf(Perplexity.tokenize(dense, Perplexity.readText(Stories260KTest.EVAL_TEXT)), TOKENS);
        denseLogits = dense.forwardAll(dense.newState(), tokens);
    }

    @AfterAll
    static void close() {
        if (dense != null) dense.close();
    }

    static List<Options> cases() {
        return List.of(
                Options.defaults(MoeStyle.MIXTRAL, 7),
                Options.defaults(MoeStyle.QWEN2_MOE, 7),
                Options.defaults(MoeStyle.DEEPSEEK_MOE, 7),
                new Options(MoeStyle.MIXTRAL, 4, 1, true, RouterInit.RANDOM, 11),
                new Options(MoeStyle.QWEN2_MOE, 8, 2, true, RouterInit.RANDOM, 11),
                new Options(MoeStyle.DEEPSEEK_MOE, 16, 4, true, RouterInit.RANDOM, 11));
    }

    static String name(Options o) {
        return o.style().family() + "-" + o.experts() + "x" + o.topK() + "-" + (o.normTopKProb() ? "norm" : "raw") + "-"
                + o.router().name().toLowerCase();
    }

    /** What the routing looked like, so a pass cannot come from a router that sends everything one way. */
    static final class Probe implements RoutingListener {
        double maxOutsideMass;    // softmax mass not among the top k
        double maxWeightSumError; // |Σ_k c_{t,k} − 1|
        int events;

        @Override
        public void onRouting(RoutingEvent ev) {
            events++;
            for (int t = 0; t < ev.size(); t++) {
                double inside = 0, all = 0, sum = 0;
                for (int j = 0; j < ev.topK(); j++) {
                    inside += ev.probability(t, ev.expert(t, j));
                    sum += ev.weight(t, j);
                }
                for (int e = 0; e < ev.numExperts(); e++) all += ev.probability(t, e);
                maxOutsideMass = Math.max(maxOutsideMass, all - inside);
                maxWeightSumError = Math.max(maxWeightSumError, Math.abs(sum - 1));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void upcycledModelGivesTheDenseLogits(Options o) throws IOException {
        Path dir = tmp.resolve(name(o));
        MoeConfig written = Upcycler.upcycle(denseDir, dir, o);
        try (LanguageModel m = Models.open(dir, null)) {
            assertEquals(o.style().family(), m.family());
            MoeModel moe = (MoeModel) m;
            assertEquals(written, moe.config());
            RoutingStats stats = new RoutingStats(moe.config());
            Probe probe = new Probe();
            MoeModel.State state = moe.newState().routingListener(new Tee(stats, probe));
            float[][] got = moe.forwardAll(state, tokens);
            double worst = worstRelativeDifference(got);
            System.out.printf("%-32s max rel |Δlogit| %.2e  max |Σw−1| %.1e  max outside mass %.1e  σ(counts) %.1f%n",
                    name(o), worst, probe.maxWeightSumError, probe.maxOutsideMass, stats.countStd());
            assertTrue(worst <= TOLERANCE, name(o) + ": max relative logit difference " + worst);

            // The premise of exactness: the weights of each token sum to 1.
            assertTrue(probe.maxWeightSumError < 1e-6, "Σ weights off by " + probe.maxWeightSumError);
            assertEquals((long) moe.config().numMoeLayers() * (TOKENS / 128 + (TOKENS % 128 == 0 ? 0 : 1)),
                    probe.events, "one routing event per sparse layer per prefill block");
            // Non-degenerate routing: every sparse layer spreads tokens over at least half its experts, and
            // the weights inside the top-k differ from token to token.
            for (int l = 0; l < moe.config().base().numHiddenLayers(); l++) {
                if (!moe.config().isMoeLayer(l)) continue;
                int used = 0;
                long total = 0;
                for (int e = 0; e < o.experts(); e++) {
                    if (stats.count(l, e) > 0) used++;
                    total += stats.count(l, e);
                }
                assertEquals((long) TOKENS * o.topK(), total);
                assertTrue(used >= o.experts() / 2, "layer " + l + " used only " + used + " experts");
            }
        }
    }

    double worstRelativeDifference(float[][] got) {
        return worstRelative(denseLogits, got);
    }

    /** max over positions of max_i |got − want| / max_i |want|. */
    static double worstRelative(float[][] want, float[][] got) {
        double worst = 0;
        for (int t = 0; t < want.length; t++) {
            double scale = 0, diff = 0;
            for (int i = 0; i < want[t].length; i++) {
                scale = Math.max(scale, Math.abs(want[t][i]));
                diff = Math.max(diff, Math.abs(got[t][i] - want[t][i]));
            }
            worst = Math.max(worst, diff / scale);
        }
        return worst;
    }

    /**
     * The construction is exact in any float format: a BF16 dense model (random weights at N(0, 0.02²), as synth
     * writes them) upcycles to a BF16 MoE (F32 router) with the dense logits.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(MoeStyle.class)
    void bf16UpcycleGivesTheDenseLogits(MoeStyle style) throws IOException {
        Path dir = tmp.resolve("bf16-dense");
        if (!Files.isDirectory(dir)) {
            LlamaConfig c = new LlamaConfig(128, 352, 3, 4, 2, 1e-5, 10000.0, 512, 128, false, 1, 2);
            SyntheticCheckpoint.write(dir, c, DType.BF16, 5, Stories260KTest.TOKENIZER, null);
        }
        Path moeDir = tmp.resolve("bf16-" + style.family());
        Upcycler.upcycle(dir, moeDir, Options.defaults(style, 7));
        try (LanguageModel d = Models.open(dir, null); LanguageModel m = Models.open(moeDir, null);
             HfCheckpoint ck = HfCheckpoint.open(moeDir)) {
            assertEquals(DType.BF16, ck.info(style.expert(2, 0, "up")).dtype());
            assertEquals(DType.F32, ck.info(style.router(2)).dtype());
            int[] t = Arrays.copyOf(tokens, 96);
            double worst = worstRelative(d.forwardAll(d.newState(), t), m.forwardAll(m.newState(), t));
            System.out.printf("bf16 %-13s max rel |Δlogit| %.2e%n", style.family(), worst);
            assertTrue(worst <= TOLERANCE, style + ": " + worst);
        }
    }

    /** A config that does not match its tensors is refused with the reason, before anything is computed. */
    @Test
    void inconsistentCheckpointsAreRefusedWithTheReason() throws IOException {
        Path dir = tmp.resolve("broken");
        Upcycler.upcycle(denseDir, dir, Options.defaults(MoeStyle.MIXTRAL, 7));
        Path config = dir.resolve(HfCheckpoint.CONFIG);
        byte[] good = Files.readAllBytes(config);
        String[][] cases = {
                {"num_local_experts", "9", "the checkpoint holds only"},
                {"intermediate_size", "160", "has shape [172, 64], config says [160, 64]"},
                {"num_experts_per_tok", "0", "num_experts_per_tok 0"}};
        for (String[] c : cases) {
            ObjectNode json = (ObjectNode) Json.mapper().readTree(good);
            json.put(c[0], Integer.parseInt(c[1]));
            Files.write(config, Json.mapper().writeValueAsBytes(json));
            IOException e = assertThrows(IOException.class, () -> Models.open(dir, null));
            assertTrue(e.getMessage().contains(c[2]), c[0] + ": " + e.getMessage());
        }
    }

    /** The check bites: one expert of one layer off by 0.1% is seen. */
    @Test
    void aPerturbedExpertIsDetected() throws IOException {
        Options o = Options.defaults(MoeStyle.MIXTRAL, 7);
        Path dir = tmp.resolve("perturbed");
        Upcycler.upcycle(denseDir, dir, o);
        try (HfCheckpoint ck = HfCheckpoint.open(dir)) {
            MoeConfig c = MoeConfig.fromJson(MoeStyle.MIXTRAL, ck.config());
            String victim = MoeStyle.MIXTRAL.expert(2, 3, "down");
            MoeWeights w = MoeWeights.load(c, n -> n.equals(victim) ? scaled(ck.tensor(n), 1.001f) : ck.tensor(n));
            MoeModel m = new MoeModel(w, Llama2cTokenizer.load(dir.resolve(Llama2cImporter.TOKENIZER_BIN)), null);
            double worst = worstRelativeDifference(m.forwardAll(m.newState(), tokens));
            assertTrue(worst > 10 * TOLERANCE, "perturbation not seen: " + worst);
        }
    }

    static Tensor scaled(Tensor t, float f) {
        float[] v = t.toFloatArray();
        for (int i = 0; i < v.length; i++) v[i] *= f;
        return Tensor.ofFloats(v, t.shape());
    }

    /** Sends each event to two listeners. */
    record Tee(RoutingListener a, RoutingListener b) implements RoutingListener {
        @Override
        public void onRouting(RoutingEvent event) {
            a.onRouting(event);
            b.onRouting(event);
        }
    }
}
