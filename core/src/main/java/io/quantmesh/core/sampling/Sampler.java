package io.quantmesh.core.sampling;

/** Picks the next token from a row of logits. Implementations with randomness are seeded and reproducible. */
public interface Sampler {

    int sample(float[] logits);

    /** temperature 0 → greedy; otherwise softmax(logits / temperature), truncated to the top-p nucleus if topP < 1. */
    static Sampler of(double temperature, double topP, long seed) {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        return temperature == 0 ? new GreedySampler() : new NucleusSampler(temperature, topP, seed);
    }
}
