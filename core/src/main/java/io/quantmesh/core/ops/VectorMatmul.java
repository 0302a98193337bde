package io.quantmesh.core.ops;

import io.quantmesh.core.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Weight × activations with the Vector API: {@code out[t][r] = W[r] · x[t]} for a block of tokens (decode is the
 * one-token case). Each weight row is loaded once per block of 4 tokens, which is what makes prefill cheaper than
 * 4 decodes. BF16 weights are widened in registers; F16 rows are widened into a scratch row first.
 *
 * <p>Every (row, token) dot product follows the same operation order whatever the block size, thread count or
 * JIT tier — two accumulators over alternating vector steps, a fixed pairwise lane sum, then the scalar tail — so a
 * batched prefill is bit-identical to repeated decodes. (Vector API {@code reduceLanes(ADD)} does not promise an
 * order, hence {@link #sumLanes}.)
 */
public final class VectorMatmul {
    private VectorMatmul() {}

    static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    static final int L = FS.length();
    private static final VectorSpecies<Short> SS = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int BLOCK = 4;
    /** Below this many multiply-adds per chunk, threads cost more than they save. */
    private static final long MIN_FMAS_PER_CHUNK = 1 << 15;

    /** {@code out[r] = W[r] · x} on the shared pool. */
    public static void matvec(Matrix w, float[] x, float[] out) {
        matmul(w, x, 1, out, KernelPool.shared());
    }

    /** {@code out[t*rows + r] = W[r] · x[t*cols ..]} for t < tokens, on the shared pool. */
    public static void matmul(Matrix w, float[] x, int tokens, float[] out) {
        matmul(w, x, tokens, out, KernelPool.shared());
    }

    public static void matmul(Matrix w, float[] x, int tokens, float[] out, KernelPool pool) {
        checkShapes(w, x, tokens, out);
        long fmasPerRow = (long) w.cols() * tokens;
        int minRows = (int) Math.max(1, MIN_FMAS_PER_CHUNK / fmasPerRow);
        pool.forRange(w.rows(), minRows, (from, to) -> rows(w, x, tokens, out, from, to));
    }

    static void checkShapes(Matrix w, float[] x, int tokens, float[] out) {
        if (tokens < 1) throw new IllegalArgumentException("tokens must be >= 1");
        if (x.length < (long) tokens * w.cols()) {
            throw new IllegalArgumentException("x has " + x.length + " floats, need " + (long) tokens * w.cols());
        }
        if (out.length < (long) tokens * w.rows()) {
            throw new IllegalArgumentException("out has " + out.length + " floats, need " + (long) tokens * w.rows());
        }
    }

    private static void rows(Matrix w, float[] x, int tokens, float[] out, int from, int to) {
        int rows = w.rows(), cols = w.cols();
        boolean bf16 = w.dtype() == DType.BF16;
        try (Arena arena = w.dtype() == DType.F16 ? Arena.ofConfined() : null) {
            MemorySegment scratch = arena == null ? null : arena.allocate((long) cols * 4, 64);
            for (int r = from; r < to; r++) {
                MemorySegment seg = w.data();
                long off = (long) r * cols * w.dtype().byteSize();
                if (scratch != null) {
                    widenF16Row(seg, off, scratch, cols);
                    seg = scratch;
                    off = 0;
                }
                int t = 0;
                for (; t + BLOCK <= tokens; t += BLOCK) dot4(seg, off, bf16, x, cols, t, out, rows, r);
                for (; t < tokens; t++) out[t * rows + r] = dot1(seg, off, bf16, x, t * cols, cols);
            }
        }
    }

    private static void widenF16Row(MemorySegment src, long off, MemorySegment dst, int cols) {
        for (int c = 0; c < cols; c++) {
            dst.setAtIndex(Matrix.F32_LE, c, Float.float16ToFloat(src.get(Matrix.I16_LE, off + 2L * c)));
        }
    }

    /** L weights starting at element {@code k} of the row at {@code off}. */
    private static FloatVector load(MemorySegment seg, long off, boolean bf16, int k) {
        if (!bf16) return FloatVector.fromMemorySegment(FS, seg, off + 4L * k, LE);
        // bf16 is the top half of an f32: sign-extend to int, shift into place, reinterpret.
        ShortVector s = ShortVector.fromMemorySegment(SS, seg, off + 2L * k, LE);
        return s.convertShape(VectorOperators.S2I, IS, 0).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static float weight(MemorySegment seg, long off, boolean bf16, int k) {
        if (!bf16) return seg.get(Matrix.F32_LE, off + 4L * k);
        return Float.intBitsToFloat((seg.get(Matrix.I16_LE, off + 2L * k) & 0xffff) << 16);
    }

    private static float dot1(MemorySegment seg, long off, boolean bf16, float[] x, int xo, int cols) {
        int upper = FS.loopBound(cols);
        FloatVector a0 = FloatVector.zero(FS), a1 = FloatVector.zero(FS);
        int k = 0;
        for (; k + 2 * L <= upper; k += 2 * L) {
            a0 = load(seg, off, bf16, k).fma(FloatVector.fromArray(FS, x, xo + k), a0);
            a1 = load(seg, off, bf16, k + L).fma(FloatVector.fromArray(FS, x, xo + k + L), a1);
        }
        if (k < upper) a0 = load(seg, off, bf16, k).fma(FloatVector.fromArray(FS, x, xo + k), a0);
        float s = sumLanes(a0.add(a1));
        for (int c = upper; c < cols; c++) s += weight(seg, off, bf16, c) * x[xo + c];
        return s;
    }

    /** Four tokens t..t+3 against one row: same per-token order as {@link #dot1}. */
    private static void dot4(MemorySegment seg, long off, boolean bf16, float[] x, int cols, int t,
                             float[] out, int rows, int r) {
        int upper = FS.loopBound(cols);
        int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        FloatVector a0 = FloatVector.zero(FS), b0 = FloatVector.zero(FS), c0 = FloatVector.zero(FS),
                d0 = FloatVector.zero(FS);
        FloatVector a1 = a0, b1 = a0, c1 = a0, d1 = a0;
        int k = 0;
        for (; k + 2 * L <= upper; k += 2 * L) {
            FloatVector w0 = load(seg, off, bf16, k), w1 = load(seg, off, bf16, k + L);
            a0 = w0.fma(FloatVector.fromArray(FS, x, x0 + k), a0);
            b0 = w0.fma(FloatVector.fromArray(FS, x, x1 + k), b0);
            c0 = w0.fma(FloatVector.fromArray(FS, x, x2 + k), c0);
            d0 = w0.fma(FloatVector.fromArray(FS, x, x3 + k), d0);
            a1 = w1.fma(FloatVector.fromArray(FS, x, x0 + k + L), a1);
            b1 = w1.fma(FloatVector.fromArray(FS, x, x1 + k + L), b1);
            c1 = w1.fma(FloatVector.fromArray(FS, x, x2 + k + L), c1);
            d1 = w1.fma(FloatVector.fromArray(FS, x, x3 + k + L), d1);
        }
        if (k < upper) {
            FloatVector w0 = load(seg, off, bf16, k);
            a0 = w0.fma(FloatVector.fromArray(FS, x, x0 + k), a0);
            b0 = w0.fma(FloatVector.fromArray(FS, x, x1 + k), b0);
            c0 = w0.fma(FloatVector.fromArray(FS, x, x2 + k), c0);
            d0 = w0.fma(FloatVector.fromArray(FS, x, x3 + k), d0);
        }
        float sa = sumLanes(a0.add(a1)), sb = sumLanes(b0.add(b1));
        float sc = sumLanes(c0.add(c1)), sd = sumLanes(d0.add(d1));
        for (int c = upper; c < cols; c++) {
            float wc = weight(seg, off, bf16, c);
            sa += wc * x[x0 + c];
            sb += wc * x[x1 + c];
            sc += wc * x[x2 + c];
            sd += wc * x[x3 + c];
        }
        out[t * rows + r] = sa;
        out[(t + 1) * rows + r] = sb;
        out[(t + 2) * rows + r] = sc;
        out[(t + 3) * rows + r] = sd;
    }

    /** For each halving step w = L/2, L/4, .., 1: lane i takes lane i + w (a rotation by w). */
    @SuppressWarnings("unchecked")
    private static final VectorShuffle<Float>[] HALVING = new VectorShuffle[Integer.numberOfTrailingZeros(L)];

    static {
        for (int k = 0, w = L >> 1; w > 0; k++, w >>= 1) {
            int shift = w;
            HALVING[k] = VectorShuffle.fromOp(FS, i -> (i + shift) % L);
        }
    }

    /**
     * Pairwise sum of the lanes in a fixed tree (lane i += lane i + w for w = L/2 .. 1), made of exact lane-wise
     * adds, so every JIT tier gives the same bits.
     */
    static float sumLanes(FloatVector v) {
        for (VectorShuffle<Float> s : HALVING) v = v.add(v.rearrange(s));
        return v.lane(0);
    }
}
