package io.quantmesh.cli;

import io.quantmesh.core.eval.Perplexity;
import io.quantmesh.core.model.LanguageModel;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Perplexity by the project protocol (DESIGN.md §5). */
@Command(name = "ppl", mixinStandardHelpOptions = true,
        description = "Perplexity of a text file: BOS + encoding, non-overlapping windows of --ctx tokens.")
final class PplCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--file", required = true, paramLabel = "FILE", description = "UTF-8 evaluation text")
    Path file;

    @Option(names = "--ctx", required = true, description = "window length in tokens (stories260K: 256)")
    int ctx;

    @Override
    public Integer call() throws Exception {
        String text = Perplexity.readText(file);
        try (LanguageModel m = modelOptions.open()) {
            long t0 = System.nanoTime();
            int windows = Perplexity.tokenize(m, text).length / ctx;
            Perplexity.Result r = Perplexity.evaluate(m, text, ctx, file.toString(), done -> {
                if (done == windows || done % Math.max(1, windows / 20) == 0) {
                    System.err.printf("\rwindow %d/%d (%.0f s)", done, windows, (System.nanoTime() - t0) / 1e9);
                    if (done == windows) System.err.println();
                }
            });
            System.out.println(r);
        }
        return 0;
    }
}
