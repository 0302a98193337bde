package io.quantmesh.core.model.moe;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Top-k selection, ties and renormalisation against hand-computed cases. */
class RouterTest {

    record Routed(int[] ids, float[] weights, float[] probs) {}

    static Routed route(Router r, float... logits) {
        float[] scores = logits.clone();
        int[] ids = new int[r.topK()];
        float[] w = new float[r.topK()];
        r.route(scores, 0, ids, w, 0);
        return new Routed(ids, w, scores);
    }

    @Test
    void topTwoOfFourWithoutRenormalisation() {
        // softmax([1, 2, 3, 0]) = e^l / (1 + e + e² + e³); the two largest are experts 2 and 1.
        double z = 1 + Math.E + Math.exp(2) + Math.exp(3);
        Routed r = route(new Router(4, 2, false), 1, 2, 3, 0);
        assertArrayEquals(new int[] {2, 1}, r.ids);
        assertEquals(Math.exp(3) / z, r.weights[0], 1e-7);   // 0.643914
        assertEquals(Math.exp(2) / z, r.weights[1], 1e-7);   // 0.236883
        assertEquals(0.643914, r.weights[0], 1e-6);
        assertEquals(0.236883, r.weights[1], 1e-6);
        // The full softmax is left in the scores (what a listener reads as affinities).
        assertEquals(Math.E / z, r.probs[0], 1e-7);
        assertEquals(1 / z, r.probs[3], 1e-7);
    }

    @Test
    void renormalisedTopTwoIsTheSigmoidOfTheLogitGap() {
        // p2 / (p2 + p1) = 1 / (1 + e^{-(3-2)}) = sigmoid(1), whatever the other logits.
        Routed r = route(new Router(4, 2, true), 1, 2, 3, 0);
        assertArrayEquals(new int[] {2, 1}, r.ids);
        double s1 = 1 / (1 + Math.exp(-1));
        assertEquals(s1, r.weights[0], 1e-7);        // 0.731059
        assertEquals(1 - s1, r.weights[1], 1e-7);    // 0.268941
        assertEquals(1.0, r.weights[0] + r.weights[1], 1e-7);
        Routed shifted = route(new Router(4, 2, true), -50, 2, 3, 1.5f);
        assertEquals(s1, shifted.weights[0], 1e-7);
    }

    @Test
    void topOneRenormalisedIsExactlyOne() {
        Routed r = route(new Router(3, 1, true), 0.3f, -1, 0.2f);
        assertArrayEquals(new int[] {0}, r.ids);
        assertEquals(1.0f, r.weights[0]);
        Routed raw = route(new Router(3, 1, false), 0.3f, -1, 0.2f);
        double z = Math.exp(0.3) + Math.exp(-1) + Math.exp(0.2);
        assertEquals(Math.exp(0.3) / z, raw.weights[0], 1e-7);
    }

    @Test
    void allTiedPicksTheLowestIndices() {
        Routed r = route(new Router(6, 3, false), 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f);
        assertArrayEquals(new int[] {0, 1, 2}, r.ids);
        for (float w : r.weights) assertEquals(1 / 6.0, w, 1e-7);
        Routed n = route(new Router(6, 3, true), 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f);
        assertArrayEquals(new int[] {0, 1, 2}, n.ids);
        for (float w : n.weights) assertEquals(1 / 3.0, w, 1e-7);
    }

    @Test
    void tiesAreBrokenByLowerIndexInsideAndAtTheBoundary() {
        // three experts tie for first: the lower two win a top-2
        assertArrayEquals(new int[] {1, 2}, route(new Router(5, 2, false), 1, 3, 3, 2, 3).ids);
        // top-4: the tied 3s in index order, then the 2
        assertArrayEquals(new int[] {1, 2, 4, 3}, route(new Router(5, 4, false), 1, 3, 3, 2, 3).ids);
        // a tie at the k-th place: expert 0 beats the later 2 and 3
        assertArrayEquals(new int[] {1, 0}, route(new Router(4, 2, false), 2, 5, 2, 2).ids);
        // the larger value at a higher index still wins over lower-index smaller ones
        assertArrayEquals(new int[] {3, 0}, route(new Router(4, 2, false), 2, 1, 2, 7).ids);
    }

    @Test
    void topKOfAllExpertsIsTheSortedSoftmax() {
        Routed r = route(new Router(5, 5, false), 0.1f, -0.4f, 2f, 0.1f, 1f);
        assertArrayEquals(new int[] {2, 4, 0, 3, 1}, r.ids);
        double sum = 0;
        for (float w : r.weights) sum += w;
        assertEquals(1.0, sum, 1e-6);
        assertEquals(r.weights[2], r.weights[3]); // the tie 0.1 / 0.1 gives identical weights
    }

    /** Twin: the insertion selection against a plain stable sort by (probability desc, index asc). */
    @Test
    void matchesAStableSortOnRandomInputsWithManyTies() {
        SplittableRandom rng = new SplittableRandom(5);
        for (int trial = 0; trial < 2000; trial++) {
            int e = 1 + rng.nextInt(40), k = 1 + rng.nextInt(e);
            float[] logits = new float[e];
            for (int i = 0; i < e; i++) logits[i] = rng.nextInt(6) * 0.5f; // few distinct values: many ties
            boolean renorm = rng.nextBoolean();
            Routed r = route(new Router(e, k, renorm), logits);
            float[] p = r.probs;
            int[] want = IntStream.range(0, e).boxed()
                    .sorted(Comparator.<Integer>comparingDouble(i -> -p[i]).thenComparingInt(i -> i))
                    .mapToInt(Integer::intValue).limit(k).toArray();
            assertArrayEquals(want, r.ids, () -> Arrays.toString(logits) + " k=" + k);
            float sum = 0;
            for (int j = 0; j < k; j++) sum += p[want[j]];
            for (int j = 0; j < k; j++) assertEquals(renorm ? p[want[j]] / sum : p[want[j]], r.weights[j]);
        }
    }

    @Test
    void routesTheRequestedSliceOfLargerArrays() {
        Router r = new Router(3, 2, true);
        float[] scores = {9, 9, 9, 0, 1, 2, 9, 9, 9};
        int[] ids = {-1, -1, -1, -1};
        float[] w = new float[4];
        r.route(scores, 3, ids, w, 2);
        assertArrayEquals(new int[] {-1, -1, 2, 1}, ids);
        assertEquals(9f, scores[2]);
        assertEquals(9f, scores[6]);
    }

    @Test
    void styleRenormalisationRules() {
        assertEquals(true, config(MoeStyle.MIXTRAL, 2, false).renormalises());
        assertEquals(false, config(MoeStyle.QWEN2_MOE, 2, false).renormalises());
        assertEquals(true, config(MoeStyle.QWEN2_MOE, 1, true).renormalises());
        assertEquals(true, config(MoeStyle.DEEPSEEK_MOE, 2, true).renormalises());
        // DeepSeek's gate divides only when top_k > 1
        assertEquals(false, config(MoeStyle.DEEPSEEK_MOE, 1, true).renormalises());
    }

    static MoeConfig config(MoeStyle s, int k, boolean norm) {
        var base = new io.quantmesh.core.config.LlamaConfig(8, 16, 2, 2, 2, 1e-5, 1e4, 10, 16, false, 1, 2);
        return new MoeConfig(s, base, 4, k, 16, norm, 0, 1, java.util.List.of(), 0, 1, false);
    }

    @Test
    void rejectsImpossibleK() {
        assertThrows(IllegalArgumentException.class, () -> new Router(4, 0, false));
        assertThrows(IllegalArgumentException.class, () -> new Router(4, 5, false));
    }
}
