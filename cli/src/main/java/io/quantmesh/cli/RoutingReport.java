package io.quantmesh.cli;

import io.quantmesh.core.eval.Perplexity;
import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.model.Models;
import io.quantmesh.core.model.moe.MoeConfig;
import io.quantmesh.core.model.moe.MoeModel;
import io.quantmesh.core.model.moe.RoutingStats;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * {@code inspect --routing}: runs BOS + text through an MoE model (in windows of the context length, each from a
 * fresh state) and prints, per sparse layer and expert, the tokens routed, their share, the mean gate weight and
 * the mean router probability, then the std of the token counts (MoEQuant's σ).
 */
final class RoutingReport {
    private RoutingReport() {}

    static void print(Path model, Path tokenizer, String text, Path file, PrintStream out) throws IOException {
        if (model == null) throw new IllegalArgumentException("--routing needs --model DIR");
        if ((text == null) == (file == null)) throw new IllegalArgumentException("--routing needs one of --text or --file");
        String s = text != null ? text : Perplexity.readText(file);
        try (LanguageModel m = Models.open(model, tokenizer)) {
            if (!(m instanceof MoeModel moe)) {
                throw new IllegalArgumentException(model + " is a " + m.family() + " model: it has no experts to route");
            }
            MoeConfig c = moe.config();
            int[] tokens = Perplexity.tokenize(m, s);
            RoutingStats stats = new RoutingStats(c);
            int ctx = m.contextLength(), windows = 0;
            for (int from = 0; from < tokens.length; from += ctx, windows++) {
                int[] window = Arrays.copyOfRange(tokens, from, Math.min(tokens.length, from + ctx));
                moe.forwardAll(moe.newState().routingListener(stats), window);
            }
            out.printf("routing of %s: %s, %d experts, top-%d (%s)%s%n", model, m.family(), c.numExperts(), c.topK(),
                    c.renormalises() ? "renormalised" : "raw softmax weights",
                    c.hasSharedExpert() ? ", shared expert of width " + c.sharedIntermediateSize() : "");
            out.printf("text: %s, %d tokens (BOS included) in %d window%s of <= %d%n",
                    file != null ? file.toString() : "--text", tokens.length, windows, windows == 1 ? "" : "s", ctx);
            out.println("layer  expert    tokens   share  mean weight  mean prob");
            for (int l = 0; l < c.base().numHiddenLayers(); l++) {
                if (!stats.isMoeLayer(l)) {
                    out.printf("%5d  dense%n", l);
                    continue;
                }
                long min = Long.MAX_VALUE, max = 0;
                for (int e = 0; e < c.numExperts(); e++) {
                    long n = stats.count(l, e);
                    min = Math.min(min, n);
                    max = Math.max(max, n);
                    out.printf("%5d  %6d  %8d  %6.4f  %11.4f  %9.4f%n", l, e, n, stats.share(l, e),
                            stats.meanWeight(l, e), stats.meanProbability(l, e));
                }
                out.printf("%5d  σ(tokens per expert) %.2f  min %d  max %d  (uniform: %.1f)%n", l, stats.countStd(l), min,
                        max, (double) stats.tokens(l) * c.topK() / c.numExperts());
            }
            out.printf("all %d sparse layers: σ(tokens per expert) %.2f (Bessel-corrected, over %d layer×expert counts)%n",
                    c.numMoeLayers(), stats.countStd(), c.numMoeLayers() * c.numExperts());
        }
    }
}
