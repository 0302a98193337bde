package io.quantmesh.cli;

import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.model.Models;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** --model / --tokenizer, shared by the commands that run a model. */
final class ModelOptions {
    @Option(names = "--model", required = true, paramLabel = "PATH",
            description = "Hugging Face model directory, or a raw llama2.c checkpoint (then --tokenizer is needed)")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "tokenizer.bin to use (default: the one in the model directory)")
    Path tokenizer;

    LanguageModel open() throws IOException {
        long t0 = System.nanoTime();
        LanguageModel m = Models.open(model, tokenizer);
        System.err.printf("loaded %s (%s, vocab %d, context %d) in %.2f s%n", model, m.family(), m.vocabSize(),
                m.contextLength(), (System.nanoTime() - t0) / 1e9);
        return m;
    }
}
