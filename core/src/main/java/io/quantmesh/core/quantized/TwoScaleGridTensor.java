package io.quantmesh.core.quantized;

import io.quantmesh.core.codec.GridTable;
import io.quantmesh.core.tensor.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;

/**
 * AFPQ's asymmetric FP / NF grid: codes index a grid of 2^bits values (stored, float32, so every decoder uses
 * the same table), each row and group of {@code groupSize} stored columns has a scale for the positive grid values
 * and one for the negative ones: {@code g = grid[code]; W[r][order[j]] = g ≥ 0 ? g·s₊ : g·s₋} in float32.
 *
 * @param gridName       FP4, FP3, NF4 or NF3 (descriptive; the stored {@code grid} is what decodes)
 * @param codes          rows·cols codes, stream position {@code r·cols + j}
 * @param positiveScales fp16 bits [rows, groups]
 * @param negativeScales fp16 bits [rows, groups]
 * @param perm           stored column → original column, or null
 */
public record TwoScaleGridTensor(int rows, int cols, String gridName, float[] grid, int groupSize, PackedIndices codes,
        short[] positiveScales, short[] negativeScales, int[] perm) implements QuantizedTensor {
    public TwoScaleGridTensor {
        int bits = Integer.numberOfTrailingZeros(grid.length);
        if (grid.length < 2 || grid.length > 256 || Integer.bitCount(grid.length) != 1) {
            throw new IllegalArgumentException("grid must hold 2^bits values (bits 1..8), got " + grid.length);
        }
        checkGridName(gridName);
        for (int i = 0; i < grid.length; i++) {
            if (!Float.isFinite(grid[i])) throw new IllegalArgumentException("grid value " + i + " is not finite");
        }
        ScalarGroups g = new ScalarGroups(rows, cols, groupSize);
        if (codes.width() != bits || codes.count() != g.weights()) {
            throw new IllegalArgumentException("codes: need " + g.weights() + " of " + bits + " bits, got "
                    + codes.count() + " of " + codes.width());
        }
        if (positiveScales.length != g.parameterSets() || negativeScales.length != g.parameterSets()) {
            throw new IllegalArgumentException("scales: need " + g.parameterSets() + " per sign, got "
                    + positiveScales.length + " and " + negativeScales.length);
        }
        Fp16.checkFinite(positiveScales, "positive scales");
        Fp16.checkFinite(negativeScales, "negative scales");
        ColumnOrder.of(cols, perm, "perm");
    }

    private static void checkGridName(String name) {
        try {
            GridTable.valueOf(name);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("unknown grid '" + name + "' (" + Arrays.toString(GridTable.values()) + ")");
        }
    }

    public int bits() {
        return Integer.numberOfTrailingZeros(grid.length);
    }

    private ScalarGroups groups() {
        return new ScalarGroups(rows, cols, groupSize);
    }

    @Override
    public float[] dequantize() {
        float[] sp = Fp16.values(positiveScales), sn = Fp16.values(negativeScales);
        return groups().dequantize(codes.unpack(), ColumnOrder.of(cols, perm, "perm"), (code, p) -> {
            float g = grid[code];
            return g >= 0 ? g * sp[p] : g * sn[p];
        });
    }

    @Override
    public LinkedHashMap<String, Tensor> toTensors(String prefix) {
        int groups = groups().groups();
        LayerTensors.Builder b = new LayerTensors.Builder(prefix)
                .put("qweight", LayerTensors.packed(codes))
                .put("scales_pos", LayerTensors.f16(positiveScales, rows, groups))
                .put("scales_neg", LayerTensors.f16(negativeScales, rows, groups))
                .put("grid", LayerTensors.f32(grid, grid.length));
        if (perm != null) b.put("perm", LayerTensors.i32(perm, cols));
        return b.build();
    }

    @Override
    public LayerConfig layerConfig() {
        return LayerConfig.create(Representation.TWO_SCALE.configName(), rows, cols)
                .with("grid", gridName).with("bits", bits()).with("group_size", groupSize).with("act_order", perm != null);
    }

    @Override
    public long indexBits() {
        return codes.bits();
    }

    static TwoScaleGridTensor read(LayerTensors t, LayerConfig c) {
        int rows = c.rows(), cols = c.cols();
        String gridName = c.text("grid");
        int bits = c.integer("bits", 1, 8);
        ScalarGroups g = new ScalarGroups(rows, cols, c.integer("group_size", 1, cols));
        boolean actOrder = c.bool("act_order");
        if (!actOrder) t.forbid("perm", "act_order is false");
        return new TwoScaleGridTensor(rows, cols, gridName, t.f32("grid", 1L << bits), g.groupSize(),
                t.packed("qweight", bits, g.weights()),
                t.f16("scales_pos", rows, g.groups()),
                t.f16("scales_neg", rows, g.groups()),
                actOrder ? t.i32("perm", cols) : null);
    }
}
