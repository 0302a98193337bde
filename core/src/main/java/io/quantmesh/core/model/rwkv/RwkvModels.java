package io.quantmesh.core.model.rwkv;

import io.quantmesh.core.checkpoint.TensorSource;
import io.quantmesh.core.tokenizer.ByteTokenizer;
import io.quantmesh.core.tokenizer.Tokenizer;
import io.quantmesh.core.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens RWKV models from rwkv.cpp files and Hugging Face checkpoint directories, with their tokenizer: byte-level
 * models (vocabulary 256, the tiny test models) get {@link ByteTokenizer}; others the tokenizer found by
 * {@link Tokenizers} (the RWKV world vocabulary file, or tokenizer.json) in the model directory or at the given path.
 */
public final class RwkvModels {
    private RwkvModels() {}

    /** True when {@code path} is an rwkv.cpp file or an HF directory of an RWKV v5/v6/v7 model. */
    public static boolean isRwkv(Path path) {
        if (Files.isRegularFile(path)) return RwkvCppFile.looksLike(path);
        return RwkvHfFormat.isRwkvDir(path);
    }

    public static RwkvModel open(Path path) throws IOException {
        return open(path, null);
    }

    /** @param tokenizer a tokenizer file or directory, or null for the model's own (see the class comment) */
    public static RwkvModel open(Path path, Path tokenizer) throws IOException {
        RwkvWeights w = load(path);
        return new RwkvModel(w, tokenizer(w, Files.isDirectory(path) ? path : null, tokenizer));
    }

    /** A model from an open HF checkpoint (weights are copied; the checkpoint may be closed afterwards). */
    public static RwkvModel open(TensorSource checkpoint, Path tokenizer) throws IOException {
        RwkvWeights w = RwkvHfFormat.load(checkpoint);
        return new RwkvModel(w, tokenizer(w, checkpoint.dir(), tokenizer));
    }

    private static Tokenizer tokenizer(RwkvWeights w, Path modelDir, Path tokenizer) throws IOException {
        int vocab = w.config().vocabSize();
        if (tokenizer != null) return Tokenizers.load(tokenizer, vocab);
        if (vocab == ByteTokenizer.VOCAB) return ByteTokenizer.instance();
        if (modelDir == null) {
            throw new IOException("an rwkv.cpp model with a vocabulary of " + vocab + " needs a tokenizer (RWKV world)");
        }
        return Tokenizers.load(modelDir, vocab);
    }

    /** The weights of an rwkv.cpp file or an HF RWKV directory. */
    public static RwkvWeights load(Path path) throws IOException {
        if (Files.isDirectory(path)) return RwkvHfFormat.load(path);
        if (!Files.isRegularFile(path)) throw new IOException(path + ": no such file or directory");
        if (!RwkvCppFile.looksLike(path)) throw new IOException(path + ": neither an rwkv.cpp file nor an HF directory");
        return RwkvCppImport.load(path);
    }
}
