package io.quantmesh.core.importer;

import io.quantmesh.core.Json;
import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.io.Durable;
import io.quantmesh.core.safetensors.SafetensorsWriter;
import io.quantmesh.core.tokenizer.Llama2cTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * llama2.c checkpoint → Hugging Face Llama directory: {@code config.json} (rope_theta 10000, rms_norm_eps 1e-5,
 * what run.c hard-codes), {@code model.safetensors} (F32, HF names, q/k in rotate-half order) and the tokenizer
 * copied unchanged as {@code tokenizer.bin} (see docs/RUNTIME.md for why not tokenizer.json). Each file is
 * published atomically; config.json last, so a directory with a config is complete.
 */
public final class Llama2cImporter {
    public static final String TOKENIZER_BIN = "tokenizer.bin";

    private Llama2cImporter() {}

    public static Llama2cCheckpoint importTo(Path checkpoint, Path tokenizerBin, Path outDir) throws IOException {
        Llama2cCheckpoint ck = Llama2cCheckpoint.read(checkpoint);
        Llama2cTokenizer tok = Llama2cTokenizer.load(tokenizerBin);
        if (tok.vocabSize() != ck.config().vocabSize()) {
            throw new IOException(tokenizerBin + " has " + tok.vocabSize() + " tokens but " + checkpoint
                    + " has vocab_size " + ck.config().vocabSize());
        }
        Files.createDirectories(outDir);
        SafetensorsWriter.write(outDir.resolve(HfCheckpoint.SINGLE), ck.tensors(), Map.of(
                "format", "pt",
                "source", "llama2.c checkpoint version " + ck.version() + ": " + checkpoint.getFileName()));
        Durable.writeAtomically(outDir.resolve(TOKENIZER_BIN), Files.readAllBytes(tokenizerBin));
        Durable.writeAtomically(outDir.resolve(HfCheckpoint.CONFIG),
                Json.mapper().writeValueAsBytes(ck.config().toJson()));
        return ck;
    }
}
