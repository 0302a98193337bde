package io.quantmesh.core.quantized;

import io.quantmesh.core.codec.BitPacker;
import io.quantmesh.core.tensor.Tensor;
import java.util.LinkedHashMap;

/**
 * VPTQ-style vector quantization in the channel-independent layout: a vector is {@code v} consecutive rows of one
 * column ({@code T = ceil(rows / v)} vectors per column; when v does not divide rows the last vector's padding rows
 * are dropped on decode). Vector (t, j) of stored main column j holds rows {@code [t·v, t·v + v)} and decodes to
 * {@code codebook[i]} (+ {@code residualCodebook[i₂]} in float32 when there is a residual stage); it is stored
 * at stream position {@code t·main + j}. Outlier columns are kept in fp16 with their column ids.
 *
 * @param codebook         fp16 bits [K, v]
 * @param indices          T·main indices of {@code widthFor(K)} bits, each below K
 * @param residualCodebook fp16 bits [K₂, v], or null for one stage
 * @param residualIndices  T·main indices below K₂, or null
 * @param outlierColumns   original ids of the fp16 columns (possibly none)
 * @param outlierWeights   fp16 bits [rows, outliers]
 * @param perm             stored main column → original column, or null for the non-outlier columns ascending
 */
public record VectorTensor(int rows, int cols, int vectorSize, short[] codebook, PackedIndices indices,
        short[] residualCodebook, PackedIndices residualIndices, int[] outlierColumns, short[] outlierWeights,
        int[] perm) implements QuantizedTensor {
    public static final int MAX_VECTOR_SIZE = 64;
    public static final int MAX_CODEBOOK = 1 << BitPacker.MAX_WIDTH;

    public VectorTensor {
        if (vectorSize < 1 || vectorSize > MAX_VECTOR_SIZE) {
            throw new IllegalArgumentException("vector size must be 1.." + MAX_VECTOR_SIZE + ", got " + vectorSize);
        }
        if (rows < 1 || cols < 1) throw new IllegalArgumentException("empty shape " + rows + "x" + cols);
        if (outlierColumns.length >= cols) {
            throw new IllegalArgumentException(outlierColumns.length + " outlier columns leave no column of " + cols + " to the codebook");
        }
        long vectors = (long) vectors(rows, vectorSize) * (cols - outlierColumns.length);
        checkStage("codebook", codebook, indices, vectorSize, vectors);
        if ((residualCodebook == null) != (residualIndices == null)) {
            throw new IllegalArgumentException("a residual stage needs both its codebook and its indices");
        }
        if (residualCodebook != null) checkStage("residual codebook", residualCodebook, residualIndices, vectorSize, vectors);
        if (outlierWeights.length != (long) rows * outlierColumns.length) {
            throw new IllegalArgumentException("outlier weights: need " + (long) rows * outlierColumns.length + ", got "
                    + outlierWeights.length);
        }
        Fp16.checkFinite(outlierWeights, "outlier weights");
        ColumnOrder.main(cols, outlierColumns, perm, "outlier columns", "perm");
    }

    private static void checkStage(String what, short[] codebook, PackedIndices indices, int v, long vectors) {
        if (codebook.length == 0 || codebook.length % v != 0 || codebook.length / v > MAX_CODEBOOK) {
            throw new IllegalArgumentException(what + ": " + codebook.length + " values are not 1.." + MAX_CODEBOOK
                    + " vectors of " + v);
        }
        int k = codebook.length / v;
        if (indices.width() != BitPacker.widthFor(k) || indices.count() != vectors) {
            throw new IllegalArgumentException(what + ": need " + vectors + " indices of " + BitPacker.widthFor(k)
                    + " bits, got " + indices.count() + " of " + indices.width());
        }
        Fp16.checkFinite(codebook, what);
        indices.unpackBelow(k, what + " indices");
    }

    /** Vectors per column: {@code ceil(rows / v)}. */
    static int vectors(int rows, int v) {
        return (rows + v - 1) / v;
    }

    public int codebookSize() {
        return codebook.length / vectorSize;
    }

    public int residualCodebookSize() {
        return residualCodebook == null ? 0 : residualCodebook.length / vectorSize;
    }

    private int mainColumns() {
        return cols - outlierColumns.length;
    }

    @Override
    public float[] dequantize() {
        int v = vectorSize, main = mainColumns(), per = vectors(rows, v);
        int[] order = ColumnOrder.main(cols, outlierColumns, perm, "outlier columns", "perm");
        int[] idx = indices.unpack(), idx2 = residualIndices == null ? null : residualIndices.unpack();
        float[] cb = Fp16.values(codebook), cb2 = residualCodebook == null ? null : Fp16.values(residualCodebook);
        float[] w = new float[rows * cols];
        for (int t = 0; t < per; t++) {
            int r0 = t * v, n = Math.min(v, rows - r0);
            for (int j = 0; j < main; j++) {
                int col = order[j], at = t * main + j, base = idx[at] * v;
                for (int i = 0; i < n; i++) {
                    float x = cb[base + i];
                    if (cb2 != null) x = x + cb2[idx2[at] * v + i];
                    w[(r0 + i) * cols + col] = x;
                }
            }
        }
        int outliers = outlierColumns.length;
        for (int r = 0; r < rows; r++) {
            for (int m = 0; m < outliers; m++) w[r * cols + outlierColumns[m]] = Fp16.value(outlierWeights[r * outliers + m]);
        }
        return w;
    }

    @Override
    public LinkedHashMap<String, Tensor> toTensors(String prefix) {
        LayerTensors.Builder b = new LayerTensors.Builder(prefix)
                .put("qweight", LayerTensors.packed(indices))
                .put("codebook", LayerTensors.f16(codebook, codebookSize(), vectorSize));
        if (residualCodebook != null) {
            b.put("residual_qweight", LayerTensors.packed(residualIndices))
                    .put("residual_codebook", LayerTensors.f16(residualCodebook, residualCodebookSize(), vectorSize));
        }
        if (outlierColumns.length > 0) {
            b.put("outlier_columns", LayerTensors.i32(outlierColumns, outlierColumns.length))
                    .put("outlier_weight", LayerTensors.f16(outlierWeights, rows, outlierColumns.length));
        }
        if (perm != null) b.put("perm", LayerTensors.i32(perm, perm.length));
        return b.build();
    }

    @Override
    public LayerConfig layerConfig() {
        return LayerConfig.create(Representation.VECTOR.configName(), rows, cols)
                .with("vector_size", vectorSize).with("codebook_size", codebookSize())
                .with("residual_codebook_size", residualCodebookSize()).with("outlier_columns", outlierColumns.length)
                .with("act_order", perm != null);
    }

    @Override
    public long indexBits() {
        return indices.bits() + (residualIndices == null ? 0 : residualIndices.bits());
    }

    static VectorTensor read(LayerTensors t, LayerConfig c) {
        int rows = c.rows(), cols = c.cols();
        int v = c.integer("vector_size", 1, MAX_VECTOR_SIZE);
        int k = c.integer("codebook_size", 1, MAX_CODEBOOK);
        int k2 = c.integer("residual_codebook_size", 0, MAX_CODEBOOK);
        int outliers = c.integer("outlier_columns", 0, cols - 1);
        boolean actOrder = c.bool("act_order");
        long vectors = (long) vectors(rows, v) * (cols - outliers);
        if (k2 == 0) {
            t.forbid("residual_qweight", "residual_codebook_size is 0");
            t.forbid("residual_codebook", "residual_codebook_size is 0");
        }
        if (outliers == 0) {
            t.forbid("outlier_columns", "outlier_columns is 0");
            t.forbid("outlier_weight", "outlier_columns is 0");
        }
        if (!actOrder) t.forbid("perm", "act_order is false");
        return new VectorTensor(rows, cols, v,
                t.f16("codebook", k, v),
                t.packed("qweight", BitPacker.widthFor(k), vectors),
                k2 == 0 ? null : t.f16("residual_codebook", k2, v),
                k2 == 0 ? null : t.packed("residual_qweight", BitPacker.widthFor(k2), vectors),
                outliers == 0 ? new int[0] : t.i32("outlier_columns", outliers),
                outliers == 0 ? new short[0] : t.f16("outlier_weight", rows, outliers),
                actOrder ? t.i32("perm", cols - outliers) : null);
    }
}
