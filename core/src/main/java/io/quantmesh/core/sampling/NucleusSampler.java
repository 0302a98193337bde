package io.quantmesh.core.sampling;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Temperature sampling with optional top-p (nucleus) truncation: keep the most probable tokens whose mass first
 * exceeds p, renormalise, draw. Like llama2.c, tokens below (1 − p)/(n − 1) are dropped before sorting (they can
 * never be in the nucleus), so sorting stays cheap for large vocabularies. Probabilities in double; seeded RNG.
 */
public final class NucleusSampler implements Sampler {
    private final double temperature;
    private final double topP;
    private final SplittableRandom random;

    public NucleusSampler(double temperature, double topP, long seed) {
        this.temperature = temperature;
        this.topP = topP;
        this.random = new SplittableRandom(seed);
    }

    @Override
    public int sample(float[] logits) {
        int n = logits.length;
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) max = Math.max(max, l);
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Math.exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        for (int i = 0; i < n; i++) p[i] /= sum;
        double r = random.nextDouble();
        if (topP >= 1) return draw(p, r);

        double cutoff = n > 1 ? (1 - topP) / (n - 1) : 0;
        Integer[] idx = new Integer[n];
        int m = 0;
        for (int i = 0; i < n; i++) if (p[i] >= cutoff) idx[m++] = i;
        Integer[] cand = Arrays.copyOf(idx, m);
        Arrays.sort(cand, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
        double mass = 0;
        int last = m - 1;
        for (int i = 0; i < m; i++) {
            mass += p[cand[i]];
            if (mass > topP) {
                last = i;
                break;
            }
        }
        double target = r * mass, acc = 0;
        for (int i = 0; i <= last; i++) {
            acc += p[cand[i]];
            if (target < acc) return cand[i];
        }
        return cand[last];
    }

    private static int draw(double[] p, double r) {
        double acc = 0;
        for (int i = 0; i < p.length; i++) {
            acc += p[i];
            if (r < acc) return i;
        }
        return p.length - 1; // rounding left r just above the total
    }
}
