package io.quantmesh.quant;

import io.quantmesh.core.linalg.FloatMatrix;

/**
 * Adapts a {@link VectorCoder} to the loop with VPTQ's channel-independent layout (DESIGN §3): each column step
 * encodes ceil(rows / v) vectors of v consecutive rows. Vectors are disjoint row ranges, so the error feedback
 * stays exact. When rows is not a multiple of v, the last vector is padded with zeros before encoding and its
 * padding is dropped on decode (the codebook sees a vector whose tail is 0; nothing else depends on it).
 * Optionally a set of outlier columns (VPTQ) is coded with a second coder of the same v.
 */
public final class VectorColumnQuantizer implements ColumnQuantizer<VectorCodes> {
    private final VectorCoder coder, outlierCoder;
    private final boolean[] outlierColumns;

    public VectorColumnQuantizer(VectorCoder coder) {
        this(coder, null, null);
    }

    /**
     * @param outlierColumns by original column: true where {@code outlierCoder} codes the column
     */
    public VectorColumnQuantizer(VectorCoder coder, VectorCoder outlierCoder, boolean[] outlierColumns) {
        if (coder.dimension() < 1) throw new IllegalArgumentException("vector dimension " + coder.dimension());
        if ((outlierCoder == null) != (outlierColumns == null)) {
            throw new IllegalArgumentException("an outlier coder needs its columns and vice versa");
        }
        if (outlierCoder != null && outlierCoder.dimension() != coder.dimension()) {
            throw new IllegalArgumentException("outlier coder has v=" + outlierCoder.dimension() + ", main v=" + coder.dimension());
        }
        this.coder = coder;
        this.outlierCoder = outlierCoder;
        this.outlierColumns = outlierColumns;
    }

    @Override
    public int rowAlignment() {
        return coder.dimension();
    }

    /** No per-group parameters: the codebooks are fixed before the loop starts. */
    @Override
    public int groupSize() {
        return -1;
    }

    @Override
    public Session<VectorCodes> begin(Context context) {
        int rows = context.rows(), columns = context.columns();
        int v = coder.dimension();
        boolean[] outlierPositions = null;
        if (outlierColumns != null) {
            if (outlierColumns.length != columns) {
                throw new IllegalArgumentException("outlier flags for " + outlierColumns.length + " columns, matrix has " + columns);
            }
            outlierPositions = new boolean[columns];
            for (int p = 0; p < columns; p++) outlierPositions[p] = outlierColumns[context.permutation()[p]];
        }
        int[] codes = new int[Math.multiplyExact(columns, (rows + v - 1) / v)];
        VectorCodes result = new VectorCodes(rows, columns, v, codes, outlierPositions);
        return new Session<>() {
            @Override
            public void fitGroup(int group, int r0, int r1, FloatMatrix columns) {}

            @Override
            public void quantize(int position, int r0, int r1, float[] w, int wOff, float[] q, int qOff) {
                if (r0 % v != 0) throw new IllegalStateException("band start " + r0 + " not aligned to v=" + v);
                VectorCoder c = result.isOutlier(position) ? outlierCoder : coder;
                float[] buf = new float[v];
                int per = result.vectorsPerColumn();
                for (int r = r0; r < r1; r += v) {
                    int len = Math.min(v, r1 - r);
                    System.arraycopy(w, wOff + r - r0, buf, 0, len);
                    java.util.Arrays.fill(buf, len, v, 0f);
                    int code = c.encode(buf, 0);
                    codes[position * per + r / v] = code;
                    c.decode(code, buf, 0);
                    System.arraycopy(buf, 0, q, qOff + r - r0, len);
                }
            }

            @Override
            public VectorCodes finish() {
                return result;
            }
        };
    }
}
