package io.quantmesh.cli;

import io.quantmesh.core.eval.Perplexity;
import io.quantmesh.core.model.LanguageModel;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The debugging view: the logits after the last token of BOS + text, one per line in vocabulary order, each the
 * shortest decimal that reads back as the same float. Works for every family (one code path, {@link LanguageModel}).
 */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Print the next-token logits after BOS + text, one per line (token 0 first).")
final class LogitsCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--text", required = true, description = "the text (BOS is prepended, as for ppl)")
    String text;

    @Override
    public Integer call() throws Exception {
        try (LanguageModel m = modelOptions.open()) {
            int[] tokens = Perplexity.tokenize(m, text);
            if (tokens.length == 0) throw new IllegalArgumentException("the text encodes to no tokens and there is no BOS");
            if (tokens.length > m.contextLength()) {
                throw new IllegalArgumentException(tokens.length + " tokens exceed the context length " + m.contextLength());
            }
            float[][] logits = m.forwardAll(m.newState(), tokens);
            float[] last = logits[tokens.length - 1];
            StringBuilder sb = new StringBuilder(last.length * 12);
            for (float v : last) sb.append(v).append('\n');
            PrintStream out = System.out;
            out.print(sb);
            out.flush();
            System.err.printf("%d tokens; logits after the last (vocab %d)%n", tokens.length, last.length);
        }
        return 0;
    }
}
