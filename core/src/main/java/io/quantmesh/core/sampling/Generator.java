package io.quantmesh.core.sampling;

import io.quantmesh.core.model.InferenceState;
import io.quantmesh.core.model.LanguageModel;

import java.util.Arrays;

/**
 * The llama2.c generation loop over any {@link LanguageModel}: the prompt (BOS first) is prefilled in one batch,
 * then tokens are sampled until the sequence holds {@code steps} positions or the model emits BOS or EOS.
 * {@code steps} counts the whole sequence including BOS and the prompt, as llama2.c's {@code -n} does.
 */
public final class Generator {
    private Generator() {}

    /** Receives each token of the sequence after the first, with its predecessor (for decodeBytes). */
    @FunctionalInterface
    public interface TokenListener {
        void onToken(int previous, int token);
    }

    /** Returns the sequence (prompt included). */
    public static int[] generate(LanguageModel model, int[] prompt, int steps, Sampler sampler, TokenListener out) {
        if (prompt.length == 0) throw new IllegalArgumentException("prompt must hold at least BOS");
        int limit = Math.min(steps, model.contextLength());
        int[] seq = Arrays.copyOf(prompt, Math.max(prompt.length, limit));
        for (int i = 1; i < prompt.length; i++) out.onToken(prompt[i - 1], prompt[i]);
        if (prompt.length >= limit) return Arrays.copyOf(prompt, prompt.length);
        InferenceState state = model.newState();
        if (prompt.length > 1) model.forwardAll(state, Arrays.copyOf(prompt, prompt.length - 1));
        float[] logits = model.next(state, prompt[prompt.length - 1]);
        int n = prompt.length;
        int bos = model.tokenizer().bosId(), eos = model.tokenizer().eosId();
        while (n < limit) {
            int next = sampler.sample(logits);
            if (next == bos || next == eos) break;
            out.onToken(seq[n - 1], next);
            seq[n++] = next;
            if (n < limit) logits = model.next(state, next);
        }
        return Arrays.copyOf(seq, n);
    }
}
