package io.quantmesh.cli;

import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.sampling.Generator;
import io.quantmesh.core.sampling.Sampler;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Text generation as llama2.c's run does it: BOS + prompt, then sampled tokens, streamed to stdout. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text from BOS + prompt; the bytes go to stdout as they are produced.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--prompt", defaultValue = "", description = "prompt text (default: none, start from BOS)")
    String prompt;

    @Option(names = "--steps", defaultValue = "256",
            description = "sequence length including BOS and the prompt, as llama2.c's -n (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default: ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-p", defaultValue = "0.9", description = "nucleus mass when temperature > 0 (default: ${DEFAULT-VALUE})")
    double topP;

    @Option(names = "--seed", defaultValue = "42", description = "sampling seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() throws Exception {
        if (steps < 1) throw new IllegalArgumentException("--steps must be >= 1");
        Sampler sampler = Sampler.of(temperature, topP, seed);
        try (LanguageModel m = modelOptions.open()) {
            int[] body = m.tokenizer().encode(prompt);
            int bos = m.tokenizer().bosId();
            // Vocabularies without BOS (RWKV's byte level) start from the prompt itself, as rwkv.cpp does.
            if (bos < 0 && body.length == 0) throw new IllegalArgumentException(m.family() + " has no BOS: give a --prompt");
            int[] promptIds = bos < 0 ? body : new int[body.length + 1];
            if (bos >= 0) {
                promptIds[0] = bos;
                System.arraycopy(body, 0, promptIds, 1, body.length);
            }
            PrintStream out = System.out;
            if (bos < 0) out.write(m.tokenizer().decodeBytes(-1, body[0]));
            long t0 = System.nanoTime();
            int[] seq = Generator.generate(m, promptIds, steps, sampler, (prev, tok) -> {
                byte[] piece = m.tokenizer().decodeBytes(prev, tok);
                out.write(piece, 0, piece.length);
                out.flush();
            });
            double s = (System.nanoTime() - t0) / 1e9;
            out.println();
            System.err.printf("%d tokens (%d prompt) in %.2f s: %.1f tokens/s%n", seq.length, promptIds.length, s,
                    seq.length / s);
        }
        return 0;
    }
}
