package io.quantmesh.core.model.moe;

import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.safetensors.TensorSpec;
import io.quantmesh.core.tensor.DType;
import io.quantmesh.core.tensor.Tensor;
import io.quantmesh.core.tokenizer.Tokenizer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Small MoE models with seeded random weights (non-zero q/k/v biases, shared gates, dense layers), for tests that
 * need every path of the runtime to do real work, unlike the upcycled copies.
 */
final class RandomMoe {
    private RandomMoe() {}

    static final int VOCAB = 64;
    static final LlamaConfig BASE = new LlamaConfig(32, 48, 3, 4, 2, 1e-5, 10000.0, VOCAB, 64, false, 1, 2);

    static MoeConfig mixtral() {
        return new MoeConfig(MoeStyle.MIXTRAL, BASE, 4, 2, 48, true, 0, 1, List.of(), 0, 1, false);
    }

    /** Raw top-2 of 6, a shared expert of width 40, layer 1 dense, biases on q/k/v. */
    static MoeConfig qwen() {
        return new MoeConfig(MoeStyle.QWEN2_MOE, BASE, 6, 2, 24, false, 40, 1, List.of(1), 0, 1, true);
    }

    /** Renormalised top-3 of 8 fine-grained experts, two shared experts' width, layer 0 dense. */
    static MoeConfig deepseek() {
        return new MoeConfig(MoeStyle.DEEPSEEK_MOE, BASE, 8, 3, 16, true, 32, 1, List.of(), 1, 1, false);
    }

    static List<MoeConfig> all() {
        return List.of(mixtral(), qwen(), deepseek());
    }

    /** Every tensor of the config, N(0, 1/in) matrices (routers ×2), norms 1 ± 0.1, biases N(0, 0.1²). */
    static Map<String, Tensor> tensors(MoeConfig c, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (TensorSpec s : MoeWeights.specs(c, DType.F32)) {
            long[] shape = s.shape();
            float[] v = new float[Math.toIntExact(Tensor.numel(shape))];
            String n = s.name();
            boolean norm = n.endsWith("norm.weight"), bias = n.endsWith(".bias"), embed = n.contains("embed_tokens");
            boolean router = n.endsWith(".gate.weight") || n.endsWith("shared_expert_gate.weight");
            double scale = norm || bias ? 0.1 : embed ? 1 : (router ? 2 : 1) / Math.sqrt(shape[shape.length - 1]);
            for (int i = 0; i < v.length; i++) v[i] = (float) ((norm ? 1 : 0) + scale * rng.nextGaussian());
            t.put(n, Tensor.ofFloats(v, shape));
        }
        return t;
    }

    static MoeModel model(MoeConfig c, Map<String, Tensor> tensors) {
        return new MoeModel(MoeWeights.load(c, tensors::get), new Bytes(), null);
    }

    /** A stand-in tokenizer: token i is byte i; only vocabSize, BOS and EOS matter to these tests. */
    static final class Bytes implements Tokenizer {
        @Override
        public int vocabSize() {
            return VOCAB;
        }

        @Override
        public int bosId() {
            return 1;
        }

        @Override
        public int eosId() {
            return 2;
        }

        @Override
        public int[] encode(String text) {
            return text.chars().map(ch -> ch % VOCAB).toArray();
        }

        @Override
        public byte[] decodeBytes(int previous, int token) {
            return new byte[] {(byte) token};
        }

        @Override
        public String piece(int token) {
            return String.valueOf(token);
        }
    }
}
