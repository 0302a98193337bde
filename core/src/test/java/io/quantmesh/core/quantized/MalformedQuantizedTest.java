package io.quantmesh.core.quantized;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantmesh.core.codec.BitPacker;
import io.quantmesh.core.tensor.DType;
import io.quantmesh.core.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Hostile or broken layers: each is refused with a message that names what is wrong. */
class MalformedQuantizedTest {
    static final int ROWS = 44, COLS = 96;

    /** Reads the layer's tensors after {@code tamper}, with its config after {@code configure}; expects a refusal. */
    static void refused(QuantizedTensor q, Consumer<Map<String, Tensor>> tamper, Consumer<ObjectNode> configure,
            String expected) {
        Map<String, Tensor> tensors = new LinkedHashMap<>(q.toTensors("p"));
        tamper.accept(tensors);
        ObjectNode json = q.layerConfig().json();
        configure.accept(json);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> QuantizedTensor.fromTensors("p", tensors::get, LayerConfig.of("p", json)));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    static void tensors(QuantizedTensor q, Consumer<Map<String, Tensor>> tamper, String expected) {
        refused(q, tamper, c -> {}, expected);
    }

    static void config(QuantizedTensor q, Consumer<ObjectNode> configure, String expected) {
        refused(q, t -> {}, configure, expected);
    }

    static Map<String, QuantizedTensor> layers() {
        return Layers.all(ROWS, COLS, 3);
    }

    static Tensor ints(int... v) {
        return LayerTensors.i32(v, v.length);
    }

    @Test
    void missingTensors() {
        for (Map.Entry<String, QuantizedTensor> e : layers().entrySet()) {
            for (String name : e.getValue().toTensors("p").keySet()) {
                tensors(e.getValue(), t -> t.remove(name), "missing tensor '" + name + "'");
            }
        }
    }

    @Test
    void wrongShapesAndDtypes() {
        QuantizedTensor q = layers().get("int4-g64");
        tensors(q, t -> t.put("p.scales", Tensor.zeros(DType.F16, ROWS, 3)), "tensor 'p.scales' has shape [44, 3], expected [44, 2]");
        tensors(q, t -> t.put("p.scales", Tensor.zeros(DType.F32, ROWS, 2)), "tensor 'p.scales' is F32, expected F16");
        tensors(q, t -> t.put("p.qweight", Tensor.zeros(DType.I32, 10)), "tensor 'p.qweight' has shape [10], expected [528]");
        tensors(q, t -> t.put("p.qweight", Tensor.zeros(DType.U8, 528 * 4)), "is U8, expected I32");
        QuantizedTensor v = layers().get("vq-v8-residual-outliers");
        tensors(v, t -> t.put("p.codebook", Tensor.zeros(DType.F16, 100, 4)), "'p.codebook' has shape [100, 4], expected [100, 8]");
        tensors(v, t -> t.put("p.outlier_weight", Tensor.zeros(DType.F16, COLS, 3)), "expected [44, 3]");
        QuantizedTensor p = layers().get("polar-k8-a8-b2");
        tensors(p, t -> t.put("p.directions", Tensor.zeros(DType.F16, 255, 8)), "expected [256, 8]");
        tensors(p, t -> t.put("p.scale", Tensor.zeros(DType.F16, 1)), "'p.scale' is F16, expected F32");
        tensors(p, t -> t.put("p.hadamard_signs_in", Tensor.zeros(DType.I32, 4)), "expected [3]");
        config(q, c -> c.putArray("shape").add(ROWS).add(COLS + 1), "has shape [528], expected [534]");   // 97 columns
    }

    @Test
    void indicesOutsideTheCodebook() {
        VectorTensor v = (VectorTensor) layers().get("vq-v8-residual-outliers");   // K = 100 (7 bits), K2 = 37 (6 bits)
        int[] idx = v.indices().unpack();
        idx[5] = 127;
        tensors(v, t -> t.put("p.qweight", LayerTensors.packed(PackedIndices.pack(idx, 7))),
                "index 127 at position 5 is outside the codebook of 100 entries");
        int[] idx2 = v.residualIndices().unpack();
        idx2[idx2.length - 1] = 40;
        tensors(v, t -> t.put("p.residual_qweight", LayerTensors.packed(PackedIndices.pack(idx2, 6))),
                "outside the codebook of 37 entries");
        config(v, c -> c.put("codebook_size", 128), "'p.codebook' has shape [100, 8], expected [128, 8]");
    }

    @Test
    void bitsTooWide() {
        config(layers().get("int4-g64"), c -> c.put("bits", 9), "'bits' must be an integer in 1..8, got 9");
        config(layers().get("fp4-g32"), c -> c.put("bits", 9), "'bits' must be an integer in 1..8");
        config(layers().get("polar-k8-a8-b2"), c -> c.put("direction_bits", 23), "direction_bits + magnitude_bits = 25 exceeds 24");
        config(layers().get("polar-k8-a8-b2"), c -> c.put("direction_bits", 40), "'direction_bits' must be an integer in 1..24");
        config(layers().get("vq-v4"), c -> c.put("codebook_size", (1 << 24) + 1), "'codebook_size' must be an integer in 1..16777216");
        config(layers().get("vq-v4"), c -> c.put("vector_size", 65), "'vector_size' must be an integer in 1..64");
        assertThrows(IllegalArgumentException.class, () -> BitPacker.words(1, 25));
    }

    @Test
    void streamsMustBeCanonical() {
        QuantizedTensor q = Layers.int4(ROWS, 95, 3);   // 44·95·4 bits = 16720: the last word holds 16 bits
        int[] words = ((IntGroupTensor) q).codes().words().clone();
        words[words.length - 1] |= 1 << 20;
        tensors(q, t -> t.put("p.qweight", LayerTensors.i32(words, words.length)),
                "tensor 'p.qweight': the padding bits after the last of 4180 indices are not zero");
    }

    @Test
    void badValues() {
        QuantizedTensor q = layers().get("int4-g64");
        short[] inf = new short[ROWS * 2];
        inf[7] = Fp16.of(Float.POSITIVE_INFINITY);
        tensors(q, t -> t.put("p.scales", LayerTensors.f16(inf, ROWS, 2)), "layer 'p': scales: entry 7 is not finite");
        QuantizedTensor v = layers().get("vq-v4");
        short[] nan = new short[256 * 4];
        nan[0] = Fp16.of(Float.NaN);
        tensors(v, t -> t.put("p.codebook", LayerTensors.f16(nan, 256, 4)), "codebook: entry 0 is not finite");
        QuantizedTensor g = layers().get("nf3-g64");
        tensors(g, t -> t.put("p.grid", LayerTensors.f32(new float[] {0, 1, 2, 3, 4, 5, 6, Float.NaN}, 8)), "grid value 7 is not finite");
        config(g, c -> c.put("grid", "FP5"), "unknown grid 'FP5'");
        tensors(layers().get("polar-k4-a6-b2"), t -> t.put("p.scale", LayerTensors.f32(new float[] {Float.NaN}, 1)), "scale NaN is not finite");
    }

    @Test
    void permutations() {
        QuantizedTensor q = layers().get("int3-g7");
        int[] dup = ColumnOrder.identity(COLS);
        dup[5] = 6;
        refused(q, t -> t.put("p.perm", LayerTensors.i32(dup, COLS)), c -> c.put("act_order", true), "perm: column 6 appears twice");
        int[] out = ColumnOrder.identity(COLS);
        out[0] = COLS;
        refused(q, t -> t.put("p.perm", LayerTensors.i32(out, COLS)), c -> c.put("act_order", true), "column 96, outside 0..95");
        tensors(q, t -> t.put("p.perm", LayerTensors.i32(ColumnOrder.identity(COLS), COLS)), "unexpected tensor 'p.perm' (act_order is false)");
        config(q, c -> c.put("act_order", true), "missing tensor 'p.perm'");
        config(q, c -> c.put("act_order", "yes"), "'act_order' must be true or false");
        // VQ: outlier columns and the permuted main columns must partition the columns.
        QuantizedTensor v = layers().get("vq-v8-residual-outliers");   // outliers 3, 95, 20
        int[] main = new int[COLS - 3];
        for (int c = 0, j = 0; c < COLS; c++) if (c != 3 && c != 95 && c != 20) main[j++] = c;
        main[0] = 3;   // an outlier again
        refused(v, t -> t.put("p.perm", LayerTensors.i32(main, main.length)), c -> c.put("act_order", true), "repeats an outlier column");
        tensors(v, t -> t.put("p.outlier_columns", ints(3, 3, 20)), "outlier columns: column 3 appears twice");
    }

    @Test
    void hadamardConventionAndSigns() {
        QuantizedTensor p = layers().get("polar-k8-a8-b2");
        config(p, c -> c.put("hadamard_block_in", 96), "Hadamard blocks must be the largest powers of two dividing the dimensions (4, 32)");
        config(p, c -> c.put("hadamard_seed_out", 12345), "hadamard_signs_out are not the signs of seed 12345");
        config(p, c -> c.remove("hadamard_seed_in"), "missing key 'hadamard_seed_in' (write null when unknown)");
        // Unknown seeds are fine: the stored signs decode.
        ObjectNode json = p.layerConfig().json();
        json.putNull("hadamard_seed_out");
        Map<String, Tensor> t = p.toTensors("p");
        QuantizedTensor.fromTensors("p", t::get, LayerConfig.of("p", json));
    }

    @Test
    void configShapeRepresentationAndSharing() {
        QuantizedTensor q = layers().get("int4-g64");
        config(q, c -> c.put("representation", "int5"), "unknown representation 'int5'");
        config(q, c -> c.remove("shape"), "'shape' must be [rows, cols]");
        config(q, c -> c.putArray("shape").add(-1).add(5), "empty or has more than");
        config(q, c -> c.putArray("shape").add(100000).add(100000), "has more than 2147483639 weights");
        config(q, c -> c.put("group_size", 0), "'group_size' must be an integer in 1..96");
        config(q, c -> c.putObject("shared_tensors").put("scales", "other.scales"), "a int layer can share only []");
        QuantizedTensor v = layers().get("vq-v4");
        refused(v, t -> t.remove("p.codebook"), c -> c.putObject("shared_tensors").put("codebook", "q.codebook"),
                "shared tensor 'q.codebook' is not in the checkpoint");
        config(v, c -> c.putObject("shared_tensors").put("codebook", "p.codebook"), "is stored and also shared");
    }
}
