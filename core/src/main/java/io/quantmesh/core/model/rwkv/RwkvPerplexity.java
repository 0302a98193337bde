package io.quantmesh.core.model.rwkv;

import io.quantmesh.core.eval.Perplexity;
import io.quantmesh.core.ops.Activations;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Perplexity by the DESIGN.md section 5 protocol, for recurrent models: the token string is cut into
 * non-overlapping windows of {@code ctx} tokens (the last partial window dropped), each window runs from the zero
 * state, and the NLL of positions 1..ctx-1 of every window is averaged. Windows are independent, so they are
 * stepped together in batches ({@link RwkvModel#step}) and the batches spread over threads; each batch's sum is
 * kept separately and added in window order, so the figure does not depend on the thread count.
 */
public final class RwkvPerplexity {

    public record Result(long tokens, int windows, int ctx, long predictions, double meanNll, double seconds) {
        public double ppl() {
            return Math.exp(meanNll);
        }
    }

    private RwkvPerplexity() {}

    /** Evaluates at most {@code maxWindows} windows ({@code <= 0}: all) with {@code threads} threads. */
    public static Result evaluate(RwkvModel model, int[] tokens, int ctx, int maxWindows, int threads, int batch)
            throws InterruptedException {
        if (ctx < 2) throw new IllegalArgumentException("ctx must be at least 2, got " + ctx);
        if (threads <= 0 || batch <= 0) throw new IllegalArgumentException("threads and batch must be positive");
        int windows = tokens.length / ctx;
        if (maxWindows > 0) windows = Math.min(windows, maxWindows);
        if (windows == 0) throw new IllegalArgumentException(tokens.length + " tokens make no window of " + ctx);
        long start = System.nanoTime();
        List<Future<Double>> parts = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            for (int first = 0; first < windows; first += batch) {
                int from = first, count = Math.min(batch, windows - first);
                parts.add(pool.submit(() -> batchNll(model, tokens, ctx, from, count)));
            }
            double sum = 0;
            for (Future<Double> f : parts) sum += f.get();
            long predictions = (long) windows * (ctx - 1);
            return new Result(tokens.length, windows, ctx, predictions, sum / predictions,
                    (System.nanoTime() - start) / 1e9);
        } catch (ExecutionException e) {
            throw new IllegalStateException("perplexity evaluation failed: " + e.getCause(), e.getCause());
        }
    }

    /** Sum of the NLL of positions 1..ctx-1 of windows [first, first+count), stepped together. */
    static double batchNll(RwkvModel model, int[] tokens, int ctx, int first, int count) {
        RwkvBatch batch = model.newBatch(count);
        RwkvState[] states = new RwkvState[count];
        for (int i = 0; i < count; i++) states[i] = model.newState();
        int vocab = model.vocabSize();
        int[] step = new int[count];
        double nll = 0;
        for (int t = 0; t < ctx - 1; t++) {
            for (int i = 0; i < count; i++) step[i] = tokens[(first + i) * ctx + t];
            float[] logits = model.step(batch, states, step, count);
            for (int i = 0; i < count; i++) {
                nll += Activations.logSumExp(logits, i * vocab, vocab) - logits[i * vocab + tokens[(first + i) * ctx + t + 1]];
            }
        }
        return nll;
    }

    /**
     * {@code RwkvPerplexity <text file> <ctx> <model>...}: the text is read and tokenized as {@link Perplexity} does
     * (universal newlines, BOS + the model tokenizer's encoding; byte-level models have no BOS, so their tokens are
     * the UTF-8 bytes). System properties: {@code windows} (default all), {@code threads} (default: available
     * processors), {@code batch} (windows stepped together, default 32).
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: RwkvPerplexity <text file> <ctx> <model.bin | HF dir>...");
            System.exit(2);
        }
        Path text = Path.of(args[0]);
        int ctx = Integer.parseInt(args[1]);
        int windows = Integer.getInteger("windows", 0);
        int threads = Integer.getInteger("threads", Runtime.getRuntime().availableProcessors());
        int batch = Integer.getInteger("batch", 32);
        String content = Perplexity.readText(text);
        for (int i = 2; i < args.length; i++) {
            Path file = Path.of(args[i]);
            try (RwkvModel model = RwkvModels.open(file)) {
                Result r = evaluate(model, Perplexity.tokenize(model, content), ctx, windows, threads, batch);
                System.out.printf(Locale.ROOT, "%s (RWKV %s): %s, ctx %d, %d tokens, %d windows, %d predictions: "
                                + "ppl %.4f (NLL %.5f nats/byte, %.4f bits/byte), %.1f s on %d threads%n",
                        file.getFileName(), model.version().label(), text.getFileName(), ctx, r.tokens(), r.windows(),
                        r.predictions(), r.ppl(), r.meanNll(), r.meanNll() / Math.log(2), r.seconds(), threads);
            } catch (IOException e) {
                System.err.println(file + ": " + e.getMessage());
                System.exit(2);
            }
        }
    }
}
