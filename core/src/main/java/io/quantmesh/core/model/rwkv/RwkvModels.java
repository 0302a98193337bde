package io.quantmesh.core.model.rwkv;

import io.quantmesh.core.tokenizer.ByteTokenizer;
import io.quantmesh.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens RWKV models from rwkv.cpp files and Hugging Face checkpoint directories. */
public final class RwkvModels {
    private RwkvModels() {}

    /** True when {@code path} is an rwkv.cpp file or an HF directory of an RWKV v5/v6/v7 model. */
    public static boolean isRwkv(Path path) {
        if (Files.isRegularFile(path)) return RwkvCppFile.looksLike(path);
        return RwkvHfFormat.isRwkvDir(path);
    }

    /**
     * Opens a model with the tokenizer it needs: byte-level models (vocabulary 256, the tiny test models) get the
     * {@link ByteTokenizer}; larger vocabularies need {@link #open(Path, Tokenizer)}.
     */
    public static RwkvModel open(Path path) throws IOException {
        RwkvWeights w = load(path);
        if (w.config().vocabSize() != ByteTokenizer.VOCAB) {
            throw new IOException(path + ": vocabulary of " + w.config().vocabSize()
                    + " tokens is not byte-level; open it with its tokenizer (RWKV world)");
        }
        return new RwkvModel(w, ByteTokenizer.instance());
    }

    public static RwkvModel open(Path path, Tokenizer tokenizer) throws IOException {
        return new RwkvModel(load(path), tokenizer);
    }

    /** The weights of an rwkv.cpp file or an HF RWKV directory. */
    public static RwkvWeights load(Path path) throws IOException {
        if (Files.isDirectory(path)) return RwkvHfFormat.load(path);
        if (!Files.isRegularFile(path)) throw new IOException(path + ": no such file or directory");
        if (!RwkvCppFile.looksLike(path)) throw new IOException(path + ": neither an rwkv.cpp file nor an HF directory");
        return RwkvCppImport.load(path);
    }
}
