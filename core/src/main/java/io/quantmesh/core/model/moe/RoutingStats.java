package io.quantmesh.core.model.moe;

/**
 * Accumulates routing statistics per sparse layer and expert: tokens routed, their summed gate weights, and the
 * summed router probability over all tokens. The std of the per-expert token counts is MoEQuant's balance measure
 * σ (EBSS scores a candidate by it).
 */
public final class RoutingStats implements RoutingListener {
    private final MoeConfig config;
    private final long[][] counts;        // [layer][expert]; rows of dense layers stay null
    private final double[][] weightSums;  // Σ c_{t,e} over the tokens routed to e
    private final double[][] probSums;    // Σ p_{t,e} over every token
    private final long[] tokens;          // tokens seen per layer

    public RoutingStats(MoeConfig config) {
        int layers = config.base().numHiddenLayers();
        this.config = config;
        this.counts = new long[layers][];
        this.weightSums = new double[layers][];
        this.probSums = new double[layers][];
        this.tokens = new long[layers];
        for (int l = 0; l < layers; l++) {
            if (!config.isMoeLayer(l)) continue;
            counts[l] = new long[config.numExperts()];
            weightSums[l] = new double[config.numExperts()];
            probSums[l] = new double[config.numExperts()];
        }
    }

    @Override
    public void onRouting(RoutingEvent ev) {
        int l = ev.layer();
        tokens[l] += ev.size();
        for (int t = 0; t < ev.size(); t++) {
            for (int j = 0; j < ev.topK(); j++) {
                counts[l][ev.expert(t, j)]++;
                weightSums[l][ev.expert(t, j)] += ev.weight(t, j);
            }
            for (int e = 0; e < ev.numExperts(); e++) probSums[l][e] += ev.probability(t, e);
        }
    }

    public MoeConfig config() {
        return config;
    }

    public boolean isMoeLayer(int layer) {
        return counts[layer] != null;
    }

    /** Tokens that passed through the layer's router. */
    public long tokens(int layer) {
        return tokens[layer];
    }

    /** Tokens routed to the expert. */
    public long count(int layer, int expert) {
        return counts[layer][expert];
    }

    /** Fraction of the layer's tokens routed to the expert (the shares of a layer sum to k). */
    public double share(int layer, int expert) {
        return tokens[layer] == 0 ? 0 : (double) counts[layer][expert] / tokens[layer];
    }

    /** Mean gate weight over the tokens routed to the expert (NaN if none). */
    public double meanWeight(int layer, int expert) {
        return counts[layer][expert] == 0 ? Double.NaN : weightSums[layer][expert] / counts[layer][expert];
    }

    /** Mean router probability of the expert over all the layer's tokens (the load-balancing loss's P_e). */
    public double meanProbability(int layer, int expert) {
        return tokens[layer] == 0 ? 0 : probSums[layer][expert] / tokens[layer];
    }

    /** Bessel-corrected std of the layer's per-expert token counts. */
    public double countStd(int layer) {
        return std(new long[][] {counts[layer]});
    }

    /** Bessel-corrected std of the per-expert token counts of all sparse layers together: EBSS's σ. */
    public double countStd() {
        return std(counts);
    }

    private static double std(long[][] rows) {
        long n = 0;
        double sum = 0;
        for (long[] r : rows) if (r != null) for (long v : r) {
            n++;
            sum += v;
        }
        if (n < 2) return 0;
        double mean = sum / n, ss = 0;
        for (long[] r : rows) if (r != null) for (long v : r) ss += (v - mean) * (v - mean);
        return Math.sqrt(ss / (n - 1));
    }
}
