package io.quantmesh.core.model.moe;

import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The MoE runtime on random-weight models of each style: reference forward, batching, the routing listener. */
class MoeModelTest {

    static List<MoeConfig> configs() {
        return RandomMoe.all();
    }

    static int[] tokens(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        t[0] = 1;
        for (int i = 1; i < n; i++) t[i] = 3 + r.nextInt(RandomMoe.VOCAB - 3);
        return t;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void logitsMatchANaiveDoublePrecisionReference(MoeConfig c) {
        Map<String, Tensor> w = RandomMoe.tensors(c, 3);
        MoeModel model = RandomMoe.model(c, w);
        MoeReferenceForward ref = new MoeReferenceForward(c, w);
        int[] tokens = tokens(48, 9);
        MoeModel.State s = model.newState();
        double worst = 0;
        for (int pos = 0; pos < tokens.length; pos++) {
            float[] want = ref.forward(tokens[pos], pos), got = model.next(s, tokens[pos]);
            double scale = 0, diff = 0;
            for (int i = 0; i < want.length; i++) {
                scale = Math.max(scale, Math.abs(want[i]));
                diff = Math.max(diff, Math.abs(want[i] - got[i]));
            }
            worst = Math.max(worst, diff / scale);
        }
        System.out.printf("%-13s max relative logit difference to the double reference: %.2e%n", c.style(), worst);
        // float32 runtime against a double reference: only rounding differs.
        assertTrue(worst < 1e-5, c.style() + ": max relative logit difference " + worst);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void prefillIsBitIdenticalToDecodeAndAListenerChangesNothing(MoeConfig c) {
        MoeModel model = RandomMoe.model(c, RandomMoe.tensors(c, 4));
        int[] tokens = tokens(64, 5);
        // 64 positions: context is 64, so one block; then a second model run in 3 blocks via prefill + decode.
        RoutingStats stats = new RoutingStats(c);
        float[][] batched = model.forwardAll(model.newState().routingListener(stats), tokens);
        MoeModel.State one = model.newState();
        for (int t = 0; t < tokens.length; t++) {
            float[] step = model.next(one, tokens[t]);
            for (int i = 0; i < step.length; i++) {
                if (Float.floatToRawIntBits(step[i]) != Float.floatToRawIntBits(batched[t][i])) {
                    throw new AssertionError(c.style() + " position " + t + " logit " + i + ": " + step[i] + " vs "
                            + batched[t][i]);
                }
            }
        }
        MoeModel.State mixed = model.newState();
        model.forwardAll(mixed, Arrays.copyOf(tokens, 20));
        float[][] rest = model.forwardAll(mixed, Arrays.copyOfRange(tokens, 20, 40));
        assertArrayEquals(batched[39], rest[19]);
        assertArrayEquals(batched[40], model.next(mixed, tokens[40]));
        assertEquals(41, mixed.position());
        assertEquals(64, stats.tokens(firstSparse(c)));
    }

    static int firstSparse(MoeConfig c) {
        for (int l = 0; ; l++) if (c.isMoeLayer(l)) return l;
    }

    /** Records every event and expert activation, checking each against a naive recomputation from the weights. */
    static final class Checker implements RoutingListener {
        final MoeConfig c;
        final Map<String, Tensor> w;
        final List<int[]> events = new ArrayList<>(); // {layer, firstPosition, size}
        final Map<String, Integer> hiddenRows = new java.util.HashMap<>();
        RoutingEvent last;

        Checker(MoeConfig c, Map<String, Tensor> w) {
            this.c = c;
            this.w = w;
        }

        @Override
        public boolean wantsExpertHidden() {
            return true;
        }

        double dot(String matrix, int row, float[] x, int off) {
            Tensor m = w.get(matrix);
            int in = (int) m.dim(1);
            double s = 0;
            for (int i = 0; i < in; i++) s += m.getFloat((long) row * in + i) * x[off + i];
            return s;
        }

        @Override
        public void onRouting(RoutingEvent ev) {
            events.add(new int[] {ev.layer(), ev.firstPosition(), ev.size()});
            last = ev;
            assertTrue(c.isMoeLayer(ev.layer()));
            assertEquals(c.base().hiddenSize(), ev.hidden());
            MoeStyle st = c.style();
            for (int t = 0; t < ev.size(); t++) {
                double[] p = new double[ev.numExperts()];
                double z = 0;
                for (int e = 0; e < p.length; e++) z += p[e] = Math.exp(dot(st.router(ev.layer()), e, ev.input(), t * ev.hidden()));
                double sum = 0;
                for (int e = 0; e < p.length; e++) assertEquals(p[e] / z, ev.probability(t, e), 1e-5);
                for (int j = 0; j < ev.topK(); j++) {
                    sum += ev.weight(t, j);
                    if (j > 0) assertTrue(ev.weight(t, j) <= ev.weight(t, j - 1));
                    double pe = ev.probability(t, ev.expert(t, j));
                    if (!c.renormalises()) assertEquals(pe, ev.weight(t, j));
                }
                if (c.renormalises()) assertEquals(1.0, sum, 1e-6);
                assertEquals(c.hasSharedExpert(), ev.hasSharedExpert());
                if (st == MoeStyle.QWEN2_MOE) {
                    double g = dot(st.sharedGate(ev.layer()), 0, ev.input(), t * ev.hidden());
                    assertEquals(1 / (1 + Math.exp(-g)), ev.sharedGate(t), 1e-6);
                } else if (ev.hasSharedExpert()) {
                    assertEquals(1f, ev.sharedGate(t));
                }
            }
        }

        @Override
        public void onExpertHidden(ExpertActivations a) {
            RoutingEvent ev = last;
            assertEquals(ev.layer(), a.layer());
            MoeStyle st = c.style();
            hiddenRows.merge(a.layer() + "/" + ev.firstPosition(), a.tokens().length, Integer::sum);
            for (int r = 0; r < a.tokens().length; r++) {
                int t = a.tokens()[r];
                if (r > 0) assertTrue(t > a.tokens()[r - 1]);
                if (a.expert() == ExpertActivations.SHARED) {
                    assertEquals(ev.sharedGate(t), a.weights()[r]);
                } else {
                    int slot = -1;
                    for (int j = 0; j < ev.topK(); j++) if (ev.expert(t, j) == a.expert()) slot = j;
                    assertTrue(slot >= 0, "token " + t + " was not routed to expert " + a.expert());
                    assertEquals(ev.weight(t, slot), a.weights()[r]);
                }
                String gate = a.expert() == ExpertActivations.SHARED ? st.shared(a.layer(), "gate") : st.expert(a.layer(), a.expert(), "gate");
                String up = a.expert() == ExpertActivations.SHARED ? st.shared(a.layer(), "up") : st.expert(a.layer(), a.expert(), "up");
                for (int i = 0; i < a.width(); i++) {
                    double g = dot(gate, i, ev.input(), t * ev.hidden()), u = dot(up, i, ev.input(), t * ev.hidden());
                    assertEquals(g / (1 + Math.exp(-g)) * u, a.hidden()[r * a.width() + i], 1e-5);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void routingEventsAndExpertActivationsDescribeWhatTheModelDid(MoeConfig c) {
        Map<String, Tensor> w = RandomMoe.tensors(c, 6);
        MoeModel model = RandomMoe.model(c, w);
        Checker check = new Checker(c, w);
        int[] tokens = tokens(30, 7);
        MoeModel.State s = model.newState().routingListener(check);
        float[][] withListener = model.forwardAll(s, Arrays.copyOf(tokens, 25));
        for (int t = 25; t < 30; t++) model.next(s, tokens[t]);
        // one event per sparse layer for the prefill block, then per decode step, in layer order
        int sparse = c.numMoeLayers();
        assertEquals(sparse * 6, check.events.size());
        for (int i = 0; i < check.events.size(); i++) {
            int[] e = check.events.get(i);
            int block = i / sparse;
            assertEquals(block == 0 ? 0 : 24 + block, e[1]);
            assertEquals(block == 0 ? 25 : 1, e[2]);
        }
        // every routed (token, slot) pair and, with a shared expert, every token once more, got hidden activations
        int perToken = c.topK() + (c.hasSharedExpert() ? 1 : 0);
        check.hiddenRows.forEach((k, rows) -> assertEquals(0, rows % perToken, k));
        assertEquals(perToken * 30 * sparse, check.hiddenRows.values().stream().mapToInt(Integer::intValue).sum());
        float[][] without = model.forwardAll(model.newState(), Arrays.copyOf(tokens, 25));
        for (int t = 0; t < 25; t++) assertArrayEquals(without[t], withListener[t]);
    }

    @Test
    void routingStatsFromHandMadeEvents() {
        LlamaConfig base = RandomMoe.BASE;
        MoeConfig c = new MoeConfig(MoeStyle.MIXTRAL, base, 4, 2, 48, true, 0, 1, List.of(), 0, 1, false);
        RoutingStats s = new RoutingStats(c);
        // 3 tokens of layer 0: experts (0,1) (0,2) (3,0) with weights (.6,.4) (.7,.3) (.5,.5)
        int[] ids = {0, 1, 0, 2, 3, 0};
        float[] wts = {.6f, .4f, .7f, .3f, .5f, .5f};
        float[] probs = new float[12];
        Arrays.fill(probs, 0.25f);
        s.onRouting(new RoutingEvent(0, 0, 3, 4, 2, base.hiddenSize(), ids, wts, probs, null, new float[3 * 32]));
        assertEquals(3, s.tokens(0));
        assertEquals(3, s.count(0, 0));
        assertEquals(1, s.count(0, 1));
        assertEquals(1, s.count(0, 2));
        assertEquals(1, s.count(0, 3));
        assertEquals(1.0, s.share(0, 0), 1e-12);
        assertEquals((.6 + .7 + .5) / 3, s.meanWeight(0, 0), 1e-6);
        assertEquals(0.25, s.meanProbability(0, 2), 1e-7);
        // counts 3,1,1,1: mean 1.5, Σ(dev²) = 2.25+.25·3 = 3, /(4−1) = 1 → σ = 1
        assertEquals(1.0, s.countStd(0), 1e-12);
        // pooled over all 3 sparse layers × 4 experts: 3,1,1,1 and eight zeros; mean .5, Σ(dev²) = 9, /11
        assertEquals(Math.sqrt(9.0 / 11), s.countStd(), 1e-12);
        assertTrue(Double.isNaN(s.meanWeight(1, 0)));
    }

    @Test
    void statesAreNotInterchangeable() {
        MoeModel a = RandomMoe.model(RandomMoe.mixtral(), RandomMoe.tensors(RandomMoe.mixtral(), 1));
        MoeModel b = RandomMoe.model(RandomMoe.mixtral(), RandomMoe.tensors(RandomMoe.mixtral(), 2));
        assertThrows(IllegalArgumentException.class, () -> a.next(b.newState(), 1));
        assertThrows(IllegalArgumentException.class, () -> a.next(a.newState(), RandomMoe.VOCAB));
        assertNotEquals(a.next(a.newState(), 5)[0], b.next(b.newState(), 5)[0]);
        assertFalse(a.family().isEmpty());
    }
}
