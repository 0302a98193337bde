package io.quantmesh.core.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Picks the tokenizer of a model directory (or a tokenizer file) by the files it holds. */
public final class Tokenizers {
    private Tokenizers() {}

    /**
     * Loads, in this order: {@code tokenizer.json} (Hugging Face, {@link HfTokenizer}),
     * {@value RwkvWorldTokenizer#VOCAB_FILE} (RWKV world, {@link RwkvWorldTokenizer}), {@code tokenizer.bin}
     * (llama2.c). {@code path} may also name one of those files. {@code vocabSize} is the model's vocabulary size,
     * which llama2.c's tokenizer.bin does not record.
     */
    public static Tokenizer load(Path path, int vocabSize) throws IOException {
        if (Files.isRegularFile(path)) return loadFile(path, vocabSize);
        if (!Files.isDirectory(path)) throw new NoSuchFileException(path.toString(), null, "no such tokenizer file or directory");
        for (String name : new String[] {"tokenizer.json", RwkvWorldTokenizer.VOCAB_FILE, "tokenizer.bin"}) {
            Path f = path.resolve(name);
            if (Files.isRegularFile(f)) return loadFile(f, vocabSize);
        }
        throw new NoSuchFileException(path.toString(), null,
                "no tokenizer.json, " + RwkvWorldTokenizer.VOCAB_FILE + " or tokenizer.bin in this directory");
    }

    private static Tokenizer loadFile(Path file, int vocabSize) throws IOException {
        String name = file.getFileName().toString();
        if (name.endsWith(".json")) return HfTokenizer.load(file);
        if (name.endsWith(".txt")) return RwkvWorldTokenizer.load(file);
        if (name.endsWith(".bin")) return Llama2cTokenizer.load(file, vocabSize);
        throw new TokenizerFormatException(file + ": unknown tokenizer file (expected tokenizer.json, "
                + RwkvWorldTokenizer.VOCAB_FILE + " or tokenizer.bin)");
    }
}
