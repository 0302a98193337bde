package io.quantmesh.cli;

import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.importer.Llama2cCheckpoint;
import io.quantmesh.core.importer.Llama2cImporter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** llama2.c checkpoint (legacy v0 or version 1 fp32) → Hugging Face Llama directory. */
@Command(name = "import-llama2c", mixinStandardHelpOptions = true,
        description = "Convert a llama2.c checkpoint and tokenizer.bin into a Hugging Face Llama directory.")
final class ImportLlama2cCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "llama2.c model .bin")
    Path checkpoint;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "llama2.c tokenizer.bin")
    Path tokenizer;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
    Path out;

    @Override
    public Integer call() throws Exception {
        Llama2cCheckpoint ck = Llama2cImporter.importTo(checkpoint, tokenizer, out);
        LlamaConfig c = ck.config();
        long params = ck.tensors().values().stream().mapToLong(t -> t.numel()).sum();
        System.out.printf("imported %s (llama2.c version %d) -> %s%n", checkpoint, ck.version(), out);
        System.out.printf("  hidden %d, intermediate %d, layers %d, heads %d/%d kv, vocab %d, context %d, %s lm_head%n",
                c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(), c.numAttentionHeads(),
                c.numKeyValueHeads(), c.vocabSize(), c.maxPositionEmbeddings(), c.tieWordEmbeddings() ? "tied" : "own");
        System.out.printf("  %,d parameters, F32; files: config.json, model.safetensors, tokenizer.bin%n", params);
        return 0;
    }
}
