package io.quantmesh.core.model.rwkv;

import io.quantmesh.core.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Models built from the real tiny ones whose behaviour is known by construction. */
final class ConstructedRwkv {
    private ConstructedRwkv() {}

    /**
     * An RWKV-6 model from a real v5.2 one: projections, norms and bonuses copied, the static token-shift amounts set
     * to {@code 1 - time_mix}, the decay base to v5.2's raw decay, and the four low-rank matrices filled with uniform
     * noise of amplitude {@code loraScale} (seeded). With {@code loraScale == 0} the data-dependent parts vanish
     * exactly and the model computes what the v5.2 model computes (given the same group-norm epsilon).
     */
    static RwkvWeights v6From(RwkvWeights v52, double loraScale, int mixRank, int decayRank, double groupNormEps,
                              long seed) {
        if (v52.version() != RwkvVersion.V5_2) throw new IllegalArgumentException("needs a v5.2 model");
        Random rnd = new Random(seed);
        RwkvConfig c = v52.config();
        int d = c.hiddenSize();
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (String n : new String[] {"emb.weight", "blocks.0.ln0.weight", "blocks.0.ln0.bias", "ln_out.weight",
                "ln_out.bias", "head.weight"}) {
            t.put(n, v52.tensor(n));
        }
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "blocks." + l + ".", a = p + "att.", f = p + "ffn.";
            for (String n : new String[] {"ln1.weight", "ln1.bias", "ln2.weight", "ln2.bias", "att.ln_x.weight",
                    "att.ln_x.bias", "att.receptance.weight", "att.key.weight", "att.value.weight", "att.gate.weight",
                    "att.output.weight", "ffn.key.weight", "ffn.value.weight", "ffn.receptance.weight"}) {
                t.put(p + n, v52.tensor(p + n));
            }
            t.put(a + "time_maa_x", random(rnd, 1.0, d));
            t.put(a + "time_maa_w", random(rnd, 1.0, d));
            for (String x : new String[] {"k", "v", "r", "g"}) t.put(a + "time_maa_" + x, oneMinus(v52, a + "time_mix_" + x));
            t.put(a + "time_maa_w1", random(rnd, loraScale, 5L * mixRank, d));
            t.put(a + "time_maa_w2", random(rnd, loraScale, 5, d, mixRank));
            t.put(a + "time_decay", v52.tensor(a + "time_decay").reshape(d));
            t.put(a + "time_decay_w1", random(rnd, loraScale, decayRank, d));
            t.put(a + "time_decay_w2", random(rnd, loraScale, d, decayRank));
            t.put(a + "time_faaaa", v52.tensor(a + "time_faaaa"));
            t.put(f + "time_maa_k", oneMinus(v52, f + "time_mix_k"));
            t.put(f + "time_maa_r", oneMinus(v52, f + "time_mix_r"));
        }
        return RwkvWeights.infer(RwkvVersion.V6, t, c.layerNormEps(), groupNormEps);
    }

    private static Tensor oneMinus(RwkvWeights w, String name) {
        float[] v = w.floats(name);
        for (int i = 0; i < v.length; i++) v[i] = 1 - v[i];
        return Tensor.ofFloats(v, v.length);
    }

    static Tensor random(Random rnd, double scale, long... shape) {
        float[] v = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (scale * (2 * rnd.nextDouble() - 1));
        return Tensor.ofFloats(v, shape);
    }

    /** The same model with every parameter of the given kind scaled (to make small paths matter in tests). */
    static RwkvWeights scaled(RwkvWeights w, String nameRegex, float factor) {
        RwkvWeights out = w;
        for (String n : w.tensors().keySet()) {
            if (!n.matches(nameRegex)) continue;
            float[] v = w.floats(n);
            for (int i = 0; i < v.length; i++) v[i] *= factor;
            out = out.with(n, Tensor.ofFloats(v, w.tensor(n).shape()));
        }
        return out;
    }
}
