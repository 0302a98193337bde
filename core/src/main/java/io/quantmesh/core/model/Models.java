package io.quantmesh.core.model;

import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.importer.Llama2cCheckpoint;
import io.quantmesh.core.model.llama.LlamaModel;
import io.quantmesh.core.model.moe.MoeConfig;
import io.quantmesh.core.model.moe.MoeModel;
import io.quantmesh.core.model.moe.MoeStyle;
import io.quantmesh.core.model.rwkv.RwkvCppFile;
import io.quantmesh.core.model.rwkv.RwkvModels;
import io.quantmesh.core.tokenizer.Tokenizer;
import io.quantmesh.core.tokenizer.Tokenizers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Opens any model the runtime knows from a path: a Hugging Face directory (dispatched on config.json's
 * {@code model_type}, else {@code architectures}: llama, mixtral, qwen2_moe, deepseek, rwkv5/6/7), an rwkv.cpp
 * file (by its magic) or a raw llama2.c checkpoint file. New families add a case here.
 */
public final class Models {
    private Models() {}

    /**
     * @param tokenizer a tokenizer file (or directory) to use instead of the model directory's own tokenizer.json /
     *                  tokenizer.bin ({@link Tokenizers}); required for raw llama2.c files
     */
    public static LanguageModel open(Path path, Path tokenizer) throws IOException {
        if (Files.isDirectory(path)) return openDirectory(path, tokenizer);
        if (!Files.isRegularFile(path)) throw new IOException(path + ": no such model file or directory");
        if (RwkvCppFile.looksLike(path)) return RwkvModels.open(path, tokenizer);
        if (tokenizer == null) throw new IOException(path + " is a llama2.c checkpoint: pass its tokenizer.bin");
        Llama2cCheckpoint ck = Llama2cCheckpoint.read(path);
        return new LlamaModel(ck.weights(), Tokenizers.load(tokenizer, ck.config().vocabSize()), null);
    }

    private static LanguageModel openDirectory(Path dir, Path tokenizer) throws IOException {
        HfCheckpoint ck = HfCheckpoint.open(dir);
        try {
            Optional<MoeStyle> moe = MoeStyle.of(ck.config());
            if (moe.isPresent()) {
                MoeConfig config = MoeConfig.fromJson(moe.get(), ck.config());
                return MoeModel.load(ck, config, tokenizer(dir, tokenizer, config.base()));
            }
            String type = ck.config().path("model_type").asText("");
            boolean llama = type.equals("llama")
                    || type.isEmpty() && ck.config().path("architectures").path(0).asText().equals("LlamaForCausalLM");
            if (llama) return LlamaModel.load(ck, tokenizer(dir, tokenizer, LlamaConfig.fromJson(ck.config())));
            return switch (type) {
                case "rwkv5", "rwkv6", "rwkv7", "rwkv7_fla" -> {
                    LanguageModel m = RwkvModels.open(ck, tokenizer); // weights copied: the checkpoint can close
                    ck.close();
                    yield m;
                }
                default -> throw new IOException(dir + ": model_type '" + type + "' is not supported (known: llama, "
                        + "mixtral, qwen2_moe, deepseek, rwkv5, rwkv6, rwkv7)");
            };
        } catch (IOException | RuntimeException e) {
            ck.close();
            if (e instanceof IllegalArgumentException) throw new IOException(dir + ": " + e.getMessage(), e);
            throw e;
        }
    }

    /** The override, else the directory's own tokenizer (config parsed first, so a bad config is the error). */
    private static Tokenizer tokenizer(Path dir, Path override, LlamaConfig config) throws IOException {
        return Tokenizers.load(override != null ? override : dir, config.vocabSize());
    }
}
