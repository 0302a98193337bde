package io.quantmesh.core.sampling;

/** Argmax; the lowest id wins ties (as llama2.c's sample_argmax). */
public final class GreedySampler implements Sampler {
    @Override
    public int sample(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
}
