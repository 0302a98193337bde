package io.quantmesh.core.model;

import io.quantmesh.core.tokenizer.Tokenizer;

/**
 * A causal language model that produces next-token logits: the one code path that generate, ppl, logits and
 * calibration use for every family (Llama-family dense, Mixture-of-Experts, RWKV).
 */
public interface LanguageModel extends AutoCloseable {

    /** Short family name: "llama", "mixtral", "qwen2_moe", "deepseek_moe", "rwkv5", "rwkv6", "rwkv7". */
    String family();

    int vocabSize();

    /** Longest sequence the model accepts; Integer.MAX_VALUE for recurrent models. */
    int contextLength();

    /** The model's own tokenizer. */
    Tokenizer tokenizer();

    /** A fresh state: empty KV cache or zero recurrent state. */
    InferenceState newState();

    /**
     * Feeds {@code token} at the state's next position and returns the logits for the position after it
     * (length {@link #vocabSize()}). The array may be reused by the next call: copy it to keep it.
     */
    float[] next(InferenceState state, int token);

    /**
     * Feeds {@code tokens} in order and returns the logits after each one ([tokens.length][vocab]). Families
     * override this with a batched prefill; the result must equal repeated {@link #next} calls.
     */
    default float[][] forwardAll(InferenceState state, int[] tokens) {
        float[][] out = new float[tokens.length][];
        for (int i = 0; i < tokens.length; i++) out[i] = next(state, tokens[i]).clone();
        return out;
    }

    @Override
    default void close() {}
}
