package io.quantmesh.core.model.rwkv;

import io.quantmesh.core.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads an rwkv.cpp model file into canonical {@link RwkvWeights}. The version is detected from the tensors as
 * rwkv.cpp does (ln_x: v5; gate: 5.2; time_maa_x: v6; r_k: v7; none: v4, unsupported).
 *
 * <p>rwkv.cpp's converter stores some parameters transformed; this undoes it so the weights carry RWKV-LM values:
 * v5 {@code time_decay} is stored as {@code exp(-exp(raw))} (inverted with {@code log(-log(w))} in double precision),
 * v5.1 {@code time_first} as {@code exp(raw)}, v7's six token-shift vectors as one {@code x_rwkvag} tensor (split).
 * Matrices are already out x in there (rwkv.cpp transposes RWKV-LM's low-rank factors on conversion).
 */
public final class RwkvCppImport {
    /** A decay of exactly 1 (or 0) has no finite log-log; this raw value maps back to 1 (0) in float. */
    static final double RAW_DECAY_LIMIT = 30;

    private RwkvCppImport() {}

    public static RwkvWeights load(Path file) throws IOException {
        try (RwkvCppFile f = RwkvCppFile.open(file)) {
            RwkvVersion version = detect(f);
            int c = f.header().embedSize();
            Map<String, Tensor> canonical = new LinkedHashMap<>();
            for (RwkvCppFile.Entry e : f.entries()) {
                String name = e.name();
                Tensor t = f.tensor(name);
                try {
                    if (name.endsWith(".att.x_rwkvag")) {
                        splitTokenShift(canonical, name, t, c);
                    } else if (!unusedInV7(version, name)) {
                        canonical.put(name, canonicalize(version, name, t, c));
                    }
                } catch (IllegalArgumentException ex) {
                    throw new IOException(file + ": " + ex.getMessage(), ex);
                }
            }
            RwkvWeights w;
            try {
                w = RwkvWeights.infer(version, canonical, 1e-5, null);
            } catch (IllegalArgumentException ex) {
                throw new IOException(file + ": " + ex.getMessage(), ex);
            }
            RwkvConfig cfg = w.config();
            RwkvCppFile.Header h = f.header();
            if (h.embedSize() != cfg.hiddenSize() || h.vocabSize() != cfg.vocabSize() || h.layerCount() != cfg.numLayers()) {
                throw new IOException(file + ": header says vocab " + h.vocabSize() + ", width " + h.embedSize() + ", "
                        + h.layerCount() + " layers; tensors say " + cfg.vocabSize() + ", " + cfg.hiddenSize() + ", "
                        + cfg.numLayers());
            }
            return w;
        }
    }

    static RwkvVersion detect(RwkvCppFile f) throws IOException {
        if (f.contains("blocks.0.att.r_k")) return RwkvVersion.V7;
        if (f.contains("blocks.0.att.time_maa_x")) return RwkvVersion.V6;
        if (f.contains("blocks.0.att.ln_x.weight")) {
            return f.contains("blocks.0.att.gate.weight") ? RwkvVersion.V5_2 : RwkvVersion.V5_1;
        }
        throw new IOException(f.path() + ": RWKV v4 (no att.ln_x) is not supported; quantmesh runs v5.1, v5.2, v6, v7");
    }

    /** RWKV-LM checkpoints may carry layer 0's value-residual parameters, which the formula never uses. */
    private static boolean unusedInV7(RwkvVersion v, String name) {
        return v == RwkvVersion.V7 && name.matches("blocks\\.0\\.att\\.v[012]");
    }

    private static void splitTokenShift(Map<String, Tensor> out, String name, Tensor t, int c) {
        if (t.numel() != 6L * c) throw new IllegalArgumentException(name + " has " + t.numel() + " values, expected 6 x " + c);
        float[] all = t.toFloatArray();
        String prefix = name.substring(0, name.length() - "x_rwkvag".length());
        String[] parts = {"x_r", "x_w", "x_k", "x_v", "x_a", "x_g"};
        for (int i = 0; i < 6; i++) {
            float[] part = new float[c];
            System.arraycopy(all, i * c, part, 0, c);
            out.put(prefix + parts[i], Tensor.ofFloats(part, c));
        }
    }

    /** Canonical shape and values of one rwkv.cpp tensor. */
    private static Tensor canonicalize(RwkvVersion v, String name, Tensor t, int c) {
        boolean v5 = v == RwkvVersion.V5_1 || v == RwkvVersion.V5_2;
        if (v5 && name.endsWith(".att.time_decay")) {
            float[] raw = t.toFloatArray();
            for (int i = 0; i < raw.length; i++) raw[i] = rawDecay(name, raw[i]);
            t = Tensor.ofFloats(raw, t.shape());
        } else if (v == RwkvVersion.V5_1 && name.endsWith(".att.time_first")) {
            float[] raw = t.toFloatArray();
            for (int i = 0; i < raw.length; i++) {
                if (!(raw[i] > 0)) throw new IllegalArgumentException(name + ": exp(time_first) must be positive, got " + raw[i]);
                raw[i] = (float) Math.log(raw[i]);
            }
            t = Tensor.ofFloats(raw, t.shape());
        }
        return RwkvWeights.canonicalShape(v, name, t, c);
    }

    /** Inverse of rwkv.cpp's {@code w = exp(-exp(raw))}. */
    static float rawDecay(String name, float w) {
        if (!(w >= 0 && w <= 1)) throw new IllegalArgumentException(name + ": stored decay " + w + " is outside [0, 1]");
        double minusLog = -Math.log(w);
        if (minusLog == 0) return (float) -RAW_DECAY_LIMIT;
        if (Double.isInfinite(minusLog)) return (float) RAW_DECAY_LIMIT;
        return (float) Math.log(minusLog);
    }
}
