package io.quantmesh.core.quantized;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Bits per weight of a quantized checkpoint, both ways (DESIGN §4): index bits only, and everything stored
 * (indices, codebooks, scales, zero points, grids, outliers, signs, permutations) ÷ parameter count. Per layer,
 * "stored" counts the layer's own tensors in full; the checkpoint total also says what the files hold, where a
 * shared codebook is stored once.
 *
 * @param storedBytes bytes of the quantized modules' tensors in the files (each shared tensor once)
 */
public record QuantizationSummary(String method, int formatVersion, List<Layer> layers, long storedBytes) {
    public record Layer(String module, String description, int rows, int cols, long indexBits, long storedBits) {
        public long parameters() {
            return (long) rows * cols;
        }

        public double indexBitsPerWeight() {
            return (double) indexBits / parameters();
        }

        public double storedBitsPerWeight() {
            return (double) storedBits / parameters();
        }
    }

    /** Reads every quantized layer once (one at a time), which also validates all of them. */
    static QuantizationSummary of(QuantizedCheckpointReader reader) {
        List<Layer> layers = new ArrayList<>();
        for (Map.Entry<String, LayerConfig> e : reader.modules().entrySet()) {
            QuantizedTensor q = reader.layer(e.getKey());
            layers.add(new Layer(e.getKey(), describe(e.getValue()), q.rows(), q.cols(), q.indexBits(), q.storedBits()));
        }
        long bytes = 0;
        for (String name : reader.quantizedTensorNames()) bytes += reader.checkpoint().info(name).byteSize();
        QuantizationConfig qc = reader.quantization();
        return new QuantizationSummary(qc.method(), qc.formatVersion(), List.copyOf(layers), bytes);
    }

    /** A short label: "int4 g64", "two_scale NF4 g128", "vector v8 K4096+256 outliers 2", "polar k8 a14 b2". */
    static String describe(LayerConfig c) {
        var j = c.json();
        String order = j.path("act_order").asBoolean(false) ? " act-order" : "";
        return switch (c.representation()) {
            case "int" -> "int" + j.path("bits").asInt() + " g" + j.path("group_size").asInt() + order;
            case "two_scale" -> "two_scale " + j.path("grid").asText() + " g" + j.path("group_size").asInt() + order;
            case "vector" -> "vector v" + j.path("vector_size").asInt() + " K" + j.path("codebook_size").asInt()
                    + (j.path("residual_codebook_size").asInt() > 0 ? "+" + j.path("residual_codebook_size").asInt() : "")
                    + (j.path("outlier_columns").asInt() > 0 ? " outliers " + j.path("outlier_columns").asInt() : "") + order;
            case "polar" -> "polar k" + j.path("vector_size").asInt() + " a" + j.path("direction_bits").asInt()
                    + " b" + j.path("magnitude_bits").asInt() + order;
            default -> c.representation();
        };
    }

    public long parameters() {
        long n = 0;
        for (Layer l : layers) n += l.parameters();
        return n;
    }

    public long indexBits() {
        long n = 0;
        for (Layer l : layers) n += l.indexBits;
        return n;
    }

    public long storedBits() {
        long n = 0;
        for (Layer l : layers) n += l.storedBits;
        return n;
    }

    public double indexBitsPerWeight() {
        return (double) indexBits() / parameters();
    }

    /** Every layer's own tensors, shared codebooks counted in each layer that uses them. */
    public double storedBitsPerWeight() {
        return (double) storedBits() / parameters();
    }

    /** What the files hold for the quantized layers (shared tensors once) ÷ their parameters. */
    public double fileBitsPerWeight() {
        return 8.0 * storedBytes / parameters();
    }

    public void print(PrintStream out, boolean perLayer) {
        out.printf("quantization method %s, format %d, %d quantized linears, %,d parameters%n", method, formatVersion,
                layers.size(), parameters());
        if (perLayer) {
            int width = layers.stream().mapToInt(l -> l.module.length()).max().orElse(6);
            for (Layer l : layers) {
                out.printf("  %-" + width + "s  %-28s  [%d, %d]  index %.4f  stored %.4f bits/weight%n", l.module,
                        l.description, l.rows, l.cols, l.indexBitsPerWeight(), l.storedBitsPerWeight());
            }
        }
        out.printf("bits/weight: index %.4f | stored %.4f (each layer's own tensors) | in the files %.4f "
                + "(shared tensors once, %,d bytes)%n", indexBitsPerWeight(), storedBitsPerWeight(), fileBitsPerWeight(),
                storedBytes);
    }
}
