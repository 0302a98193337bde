package io.quantmesh.core.eval;

import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.ops.Activations;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Perplexity by the project protocol (DESIGN.md §5): the whole text is one string, tokenized as BOS + the model's
 * own encoding; cut into non-overlapping windows of {@code ctx} tokens (the last partial window is dropped); each
 * window runs from a fresh state; position t of a window (1 ≤ t < ctx) is predicted from positions 0..t−1 of that
 * window; ppl = exp(mean NLL). NLLs are stable log-softmaxes, accumulated in double.
 *
 * <p>Evaluation files are read with universal newlines ({@link #readText}): CRLF and lone CR become LF, as Python's
 * text mode reads them, which is how the project's reference figures were produced (tinystories-sample.txt has
 * CRLF line ends; kept, each would cost an extra byte token).
 */
public final class Perplexity {
    private Perplexity() {}

    public record Result(String source, int ctx, int tokens, int windows, long predictions, double meanNll) {
        public double ppl() {
            return Math.exp(meanNll);
        }

        @Override
        public String toString() {
            return String.format("file %s  ctx %d  tokens %d  windows %d  predictions %d  mean NLL %.6f  ppl %.4f",
                    source, ctx, tokens, windows, predictions, meanNll, ppl());
        }
    }

    /** UTF-8 text with universal newlines: "\r\n" and "\r" read as "\n". */
    public static String readText(Path file) throws IOException {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).replace("\r\n", "\n").replace('\r', '\n');
        } catch (CharacterCodingException e) {
            throw new IOException(file + ": not valid UTF-8 text");
        }
    }

    /** BOS (when the vocabulary has one) + encode(text). */
    public static int[] tokenize(LanguageModel model, String text) {
        int[] body = model.tokenizer().encode(text);
        int bos = model.tokenizer().bosId();
        if (bos < 0) return body;
        int[] all = new int[body.length + 1];
        all[0] = bos;
        System.arraycopy(body, 0, all, 1, body.length);
        return all;
    }

    /** @param progress called with the number of windows done after each window (may be null) */
    public static Result evaluate(LanguageModel model, String text, int ctx, String source, IntConsumer progress) {
        if (ctx < 2) throw new IllegalArgumentException("ctx must be >= 2, got " + ctx);
        if (ctx > model.contextLength()) {
            throw new IllegalArgumentException("ctx " + ctx + " exceeds the model's context length " + model.contextLength());
        }
        int[] tokens = tokenize(model, text);
        int windows = tokens.length / ctx;
        if (windows == 0) {
            throw new IllegalArgumentException(source + ": " + tokens.length + " tokens, fewer than one window of " + ctx);
        }
        double nll = 0;
        long count = 0;
        for (int w = 0; w < windows; w++) {
            int[] window = Arrays.copyOfRange(tokens, w * ctx, (w + 1) * ctx);
            float[][] logits = model.forwardAll(model.newState(), window);
            for (int t = 1; t < ctx; t++) {
                float[] row = logits[t - 1];
                nll += Activations.logSumExp(row, 0, row.length) - row[window[t]];
                count++;
            }
            if (progress != null) progress.accept(w + 1);
        }
        return new Result(source, ctx, tokens.length, windows, count, nll / count);
    }
}
