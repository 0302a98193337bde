package io.quantmesh.core.quantized;

import io.quantmesh.core.tensor.Tensor;
import java.util.LinkedHashMap;

/**
 * INT-b asymmetric, one (scale, zero point) per row and group of {@code groupSize} stored columns:
 * {@code W[r][order[j]] = (code − zero) · scale} in float32 (int difference, fp16 scale widened).
 *
 * @param codes  rows·cols codes of {@code bits} bits, stream position {@code r·cols + j}
 * @param scales fp16 bits [rows, groups]
 * @param zeros  rows·groups zero points of {@code bits} bits, stream position {@code r·groups + g}
 * @param perm   stored column → original column (act-order), or null for the identity
 */
public record IntGroupTensor(int rows, int cols, int bits, int groupSize, PackedIndices codes, short[] scales,
        PackedIndices zeros, int[] perm) implements QuantizedTensor {
    public static final int MAX_BITS = 8;

    public IntGroupTensor {
        if (bits < 1 || bits > MAX_BITS) throw new IllegalArgumentException("INT bits must be 1.." + MAX_BITS + ", got " + bits);
        ScalarGroups g = new ScalarGroups(rows, cols, groupSize);
        if (codes.width() != bits || codes.count() != g.weights()) {
            throw new IllegalArgumentException("codes: need " + g.weights() + " of " + bits + " bits, got "
                    + codes.count() + " of " + codes.width());
        }
        if (scales.length != g.parameterSets()) {
            throw new IllegalArgumentException("scales: need " + g.parameterSets() + ", got " + scales.length);
        }
        if (zeros.width() != bits || zeros.count() != g.parameterSets()) {
            throw new IllegalArgumentException("zero points: need " + g.parameterSets() + " of " + bits + " bits, got "
                    + zeros.count() + " of " + zeros.width());
        }
        Fp16.checkFinite(scales, "scales");
        ColumnOrder.of(cols, perm, "perm");
    }

    private ScalarGroups groups() {
        return new ScalarGroups(rows, cols, groupSize);
    }

    @Override
    public float[] dequantize() {
        int[] z = zeros.unpack();
        float[] s = Fp16.values(scales);
        return groups().dequantize(codes.unpack(), ColumnOrder.of(cols, perm, "perm"), (code, p) -> (code - z[p]) * s[p]);
    }

    @Override
    public LinkedHashMap<String, Tensor> toTensors(String prefix) {
        LayerTensors.Builder b = new LayerTensors.Builder(prefix)
                .put("qweight", LayerTensors.packed(codes))
                .put("scales", LayerTensors.f16(scales, rows, groups().groups()))
                .put("qzeros", LayerTensors.packed(zeros));
        if (perm != null) b.put("perm", LayerTensors.i32(perm, cols));
        return b.build();
    }

    @Override
    public LayerConfig layerConfig() {
        return LayerConfig.create(Representation.INT.configName(), rows, cols)
                .with("bits", bits).with("group_size", groupSize).with("act_order", perm != null);
    }

    @Override
    public long indexBits() {
        return codes.bits();
    }

    static IntGroupTensor read(LayerTensors t, LayerConfig c) {
        int rows = c.rows(), cols = c.cols();
        int bits = c.integer("bits", 1, MAX_BITS);
        ScalarGroups g = new ScalarGroups(rows, cols, c.integer("group_size", 1, cols));
        boolean actOrder = c.bool("act_order");
        if (!actOrder) t.forbid("perm", "act_order is false");
        return new IntGroupTensor(rows, cols, bits, g.groupSize(),
                t.packed("qweight", bits, g.weights()),
                t.f16("scales", rows, g.groups()),
                t.packed("qzeros", bits, g.parameterSets()),
                actOrder ? t.i32("perm", cols) : null);
    }
}
