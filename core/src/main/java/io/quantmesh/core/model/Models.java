package io.quantmesh.core.model;

import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.checkpoint.TensorSource;
import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.importer.Llama2cCheckpoint;
import io.quantmesh.core.model.llama.LlamaModel;
import io.quantmesh.core.model.llama.LlamaWeights;
import io.quantmesh.core.model.moe.MoeConfig;
import io.quantmesh.core.model.moe.MoeModel;
import io.quantmesh.core.model.moe.MoeStyle;
import io.quantmesh.core.model.moe.MoeWeights;
import io.quantmesh.core.model.rwkv.RwkvCppFile;
import io.quantmesh.core.model.rwkv.RwkvModels;
import io.quantmesh.core.quantized.QuantizedCheckpointReader;
import io.quantmesh.core.safetensors.TensorSpec;
import io.quantmesh.core.tensor.DType;
import io.quantmesh.core.tokenizer.Tokenizer;
import io.quantmesh.core.tokenizer.Tokenizers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Opens any model the runtime knows from a path: a Hugging Face directory (dispatched on config.json's
 * {@code model_type}, else {@code architectures}: llama, mixtral, qwen2_moe, deepseek, rwkv5/6/7), an rwkv.cpp
 * file (by its magic) or a raw llama2.c checkpoint file. New families add a case here. A quantmesh-quantized
 * directory (docs/FORMAT.md) loads through {@link QuantizedCheckpointReader}: its linears are dequantized to F32
 * and the family's ordinary runtime runs on them.
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
        TensorSource src = ck;
        try {
            if (QuantizedCheckpointReader.isQuantized(ck.config())) src = QuantizedCheckpointReader.open(ck);
            return load(dir, src, tokenizer);
        } catch (IOException | RuntimeException e) {
            src.close();   // a reader closes the checkpoint it took over
            if (e instanceof IllegalArgumentException) throw new IOException(dir + ": " + e.getMessage(), e);
            throw e;
        }
    }

    private static LanguageModel load(Path dir, TensorSource src, Path tokenizer) throws IOException {
        Optional<MoeStyle> moe = MoeStyle.of(src.config());
        if (moe.isPresent()) {
            MoeConfig config = MoeConfig.fromJson(moe.get(), src.config());
            checkQuantizedShapes(src, () -> {
                MoeWeights.checkFits(config, src.tensorNames().size());   // before building specs of a hostile config
                return MoeWeights.specs(config, DType.F32);
            });
            return MoeModel.load(src, config, tokenizer(dir, tokenizer, config.base()));
        }
        String type = src.config().path("model_type").asText("");
        boolean llama = type.equals("llama")
                || type.isEmpty() && src.config().path("architectures").path(0).asText().equals("LlamaForCausalLM");
        if (llama) {
            LlamaConfig config = LlamaConfig.fromJson(src.config());
            checkQuantizedShapes(src, () -> LlamaWeights.specs(config, DType.F32));
            return LlamaModel.load(src, tokenizer(dir, tokenizer, config));
        }
        return switch (type) {
            case "rwkv5", "rwkv6", "rwkv7", "rwkv7_fla" -> {
                LanguageModel m = RwkvModels.open(src, tokenizer); // weights copied: the checkpoint can close
                src.close();
                yield m;
            }
            default -> throw new IOException(dir + ": model_type '" + type + "' is not supported (known: llama, "
                    + "mixtral, qwen2_moe, deepseek, rwkv5, rwkv6, rwkv7)");
        };
    }

    /** A quantized module must have the shape the model expects before it is dequantized (hostile configs). */
    private static void checkQuantizedShapes(TensorSource src, java.util.function.Supplier<List<TensorSpec>> specs) {
        if (src instanceof QuantizedCheckpointReader q) q.checkShapes(specs.get());
    }

    /** The override, else the directory's own tokenizer (config parsed first, so a bad config is the error). */
    private static Tokenizer tokenizer(Path dir, Path override, LlamaConfig config) throws IOException {
        return Tokenizers.load(override != null ? override : dir, config.vocabSize());
    }
}
