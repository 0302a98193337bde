package io.quantmesh.cli;

import io.quantmesh.core.tokenizer.Tokenizer;
import io.quantmesh.core.tokenizer.Tokenizers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code quantmesh tokenize}: encodes text files with a model's tokenizer and prints token counts and encode time
 * (best of --repeat runs), or the ids themselves.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Encode text files with a tokenizer (tokenizer.json, RWKV world vocab, tokenizer.bin); print counts and timings.")
public final class TokenizeCommand implements Callable<Integer> {
    @Option(names = {"-t", "--tokenizer"}, required = true, description = "model directory or tokenizer file")
    Path tokenizer;

    @Option(names = "--vocab-size", defaultValue = "32000", description = "model vocabulary size (tokenizer.bin only; default ${DEFAULT-VALUE})")
    int vocabSize;

    @Option(names = "--repeat", defaultValue = "3", description = "encode each file this many times, report the fastest (default ${DEFAULT-VALUE})")
    int repeat;

    @Option(names = "--ids", description = "print the token ids (one line per file) instead of timings")
    boolean ids;

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "UTF-8 text files")
    List<Path> files;

    @Override
    public Integer call() throws Exception {
        if (repeat < 1 || repeat > 1000) throw new IllegalArgumentException("--repeat must be in [1, 1000]");
        long t0 = System.nanoTime();
        Tokenizer tok = Tokenizers.load(tokenizer, vocabSize);
        double loadMs = (System.nanoTime() - t0) / 1e6;
        if (!ids) {
            System.out.printf("tokenizer %s (%s, vocab %d, bos %d, eos %d) loaded in %.0f ms%n", tokenizer,
                    tok.getClass().getSimpleName(), tok.vocabSize(), tok.bosId(), tok.eosId(), loadMs);
        }
        for (Path f : files) {
            String text = Files.readString(f, StandardCharsets.UTF_8);
            int[] out = null;
            long best = Long.MAX_VALUE;
            for (int r = 0; r < (ids ? 1 : repeat); r++) {
                long s = System.nanoTime();
                out = tok.encode(text);
                best = Math.min(best, System.nanoTime() - s);
            }
            if (ids) {
                System.out.println(Arrays.toString(out).replaceAll("[\\[\\],]", ""));
            } else {
                System.out.printf("%s: %d bytes -> %d tokens, encode %.0f ms (best of %d), %.2f MB/s%n", f,
                        text.getBytes(StandardCharsets.UTF_8).length, out.length, best / 1e6, repeat,
                        text.getBytes(StandardCharsets.UTF_8).length / (best / 1e9) / 1e6);
            }
        }
        return 0;
    }
}
