package io.quantmesh.quant;

import io.quantmesh.core.linalg.FloatMatrix;

/**
 * What {@link GptqLoop} asks of a quantizer: turn one column of the (error-updated) weight matrix into its
 * quantized value, column after column, recording whatever codes it needs to reproduce that value.
 *
 * <p>GPTQ's error feedback is row-separable (row r of W only ever receives errors of row r), so the loop cuts
 * the rows into bands and runs each band through all columns on its own thread. A session therefore sees
 * <em>row ranges</em> [r0, r1) of a column, never a whole column at once, and must keep rows independent:
 * <ul>
 *   <li>scalar quantizers ({@link #rowAlignment()} = 1) code each entry with parameters of its (row, group);</li>
 *   <li>vector quantizers use VPTQ's channel-independent layout: a vector is {@code v} consecutive rows of one
 *       column ({@link #rowAlignment()} = v); every band starts at a multiple of v, the last one ends at
 *       {@code rows}, which the quantizer pads up to a multiple of v (padding is dropped on decode).</li>
 * </ul>
 *
 * <p>Groups: {@link #groupSize()} consecutive columns <em>in processing order</em> (act-order permuted) share
 * parameters. When the loop reaches the first column of a group it calls
 * {@link Session#fitGroup} with the current values of all the group's columns, i.e. W after the error feedback
 * of every earlier column has been applied (exactly the unblocked algorithm's state, whatever the block size).
 *
 * @param <C> the codes/parameters the quantizer produces for one matrix
 */
public interface ColumnQuantizer<C> {
    /** Rows coded together: 1 for scalar quantizers, the vector length v for vector quantizers. */
    int rowAlignment();

    /** Columns per parameter group (processing order), or -1 for a single group spanning all columns. */
    int groupSize();

    /** Starts one matrix. The session is called from several threads on disjoint row ranges. */
    Session<C> begin(Context context);

    /**
     * What the loop knows about the matrix before its first column.
     *
     * @param permutation processing position → original column
     * @param importance  H_jj (undamped; 0 for a dead column) of the column at each processing position — the
     *                    weight of an error in that column, e.g. for weighted clip searches — or null when no Hessian
     *                    is known (round-to-nearest without H)
     */
    record Context(int rows, int columns, int[] permutation, float[] importance) {
        /** Natural column order, no Hessian. */
        public static Context plain(int rows, int columns) {
            return new Context(rows, columns, java.util.stream.IntStream.range(0, columns).toArray(), null);
        }
    }

    /** Quantization state of one matrix. */
    interface Session<C> {
        /**
         * Fits the parameters of group {@code group} for rows [r0, r1).
         *
         * @param columns the group's columns in processing order, transposed: {@code columns.get(c, r - r0)} is
         *     row r of the group's c-th column (up to groupSize columns; fewer for the last group)
         */
        void fitGroup(int group, int r0, int r1, FloatMatrix columns);

        /**
         * Quantizes rows [r0, r1) of the column at processing position {@code position}: reads
         * {@code w[wOff + (r - r0)]}, writes the dequantized value to {@code q[qOff + (r - r0)]} and records codes.
         */
        void quantize(int position, int r0, int r1, float[] w, int wOff, float[] q, int qOff);

        /** The codes of the whole matrix (positions in processing order); called once, after every column. */
        C finish();
    }
}
