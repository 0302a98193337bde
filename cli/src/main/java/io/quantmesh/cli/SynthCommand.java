package io.quantmesh.cli;

import io.quantmesh.core.Shared;
import io.quantmesh.core.model.llama.LlamaWeights;
import io.quantmesh.core.synth.SyntheticCheckpoint;
import io.quantmesh.core.tensor.DType;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Random-weight Llama checkpoint of a real shape, for speed work. */
@Command(name = "synth", mixinStandardHelpOptions = true,
        description = "Write a seeded random-weight Llama checkpoint of a named real shape (speed tests only).")
final class SynthCommand implements Callable<Integer> {
    @Option(names = "--shape", required = true,
            description = "tinyllama-1.1b, llama-tiny-256, llama-small-512 or layered-<layers>x<width> "
                    + "(e.g. layered-12x256: many cheap layers for the mesh's fault and scale tests)")
    String shape;

    @Option(names = "--dtype", defaultValue = "BF16", description = "F32, F16 or BF16 (default: ${DEFAULT-VALUE})")
    DType dtype;

    @Option(names = "--out", required = true, paramLabel = "DIR")
    Path out;

    @Option(names = "--seed", defaultValue = "1", description = "default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "tokenizer.bin to ship (default: shared/models/llama2-tokenizer/tokenizer.bin; "
                    + "layered-* shapes: shared/models/stories260K/tok512.bin)")
    Path tokenizer;

    @Override
    public Integer call() throws Exception {
        write(shape, dtype, seed, out, tokenizer);
        return 0;
    }

    /** Also used by bench to make its own tinyllama-1.1b. */
    static void write(String shape, DType dtype, long seed, Path out, Path tokenizer) throws Exception {
        SyntheticCheckpoint.Preset p = SyntheticCheckpoint.preset(shape);
        Path tok = tokenizer != null ? tokenizer : Shared.resolve(defaultTokenizer(p));
        long total = LlamaWeights.specs(p.config(), dtype).stream().mapToLong(s -> s.byteSize()).sum();
        long t0 = System.nanoTime();
        System.err.printf("synth %s (%s) %s -> %s, %.2f GiB%n", p.name(), p.description(), dtype, out, total / 1073741824.0);
        SyntheticCheckpoint.write(out, p.config(), dtype, seed, tok, done ->
                System.err.printf("\r  %5.1f%%", 100.0 * done / total));
        System.err.printf("%n  done in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    /** The shared tokenizer whose vocabulary matches the shape. */
    static String defaultTokenizer(SyntheticCheckpoint.Preset p) {
        return p.config().vocabSize() == SyntheticCheckpoint.LAYERED_VOCAB ? "models/stories260K/tok512.bin"
                : "models/llama2-tokenizer/tokenizer.bin";
    }
}
