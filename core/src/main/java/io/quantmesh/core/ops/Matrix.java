package io.quantmesh.core.ops;

import io.quantmesh.core.tensor.DType;
import io.quantmesh.core.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A weight matrix of {@code rows × cols} (rows = output channels), row-major, little-endian F32, F16 or BF16, over
 * a native or file-mapped {@link MemorySegment}. Kernels read it in place: a bf16 checkpoint is never widened in
 * memory. (Heap segments backed by float[] are not accepted by the Vector API, hence native memory.)
 */
public record Matrix(DType dtype, int rows, int cols, MemorySegment data) {
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public Matrix {
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
            throw new IllegalArgumentException("weight matrix dtype must be F32, F16 or BF16, got " + dtype);
        }
        if (rows <= 0 || cols <= 0) throw new IllegalArgumentException("bad matrix shape " + rows + "x" + cols);
        long bytes = Math.multiplyExact(Math.multiplyExact((long) rows, cols), (long) dtype.byteSize());
        if (data.byteSize() != bytes) {
            throw new IllegalArgumentException("matrix " + rows + "x" + cols + " " + dtype + " needs " + bytes
                    + " bytes, segment has " + data.byteSize());
        }
    }

    /** A view of a 2-D tensor (no copy). */
    public static Matrix of(Tensor t) {
        if (t.rank() != 2) throw new IllegalArgumentException("expected a 2-D tensor, got " + t);
        return new Matrix(t.dtype(), Math.toIntExact(t.dim(0)), Math.toIntExact(t.dim(1)), t.segment());
    }

    /** Copies {@code values} (row-major) into native memory as F32. */
    public static Matrix ofFloats(float[] values, int rows, int cols) {
        MemorySegment seg = Arena.ofAuto().allocate((long) values.length * 4, 64);
        MemorySegment.copy(values, 0, seg, F32_LE, 0, values.length);
        return new Matrix(DType.F32, rows, cols, seg);
    }

    /** Copies {@code values} into native memory converted to {@code dtype} (rounded to nearest even). */
    public static Matrix ofFloats(float[] values, int rows, int cols, DType dtype) {
        Tensor t = Tensor.ofFloats(values, rows, cols).to(dtype);
        return new Matrix(dtype, rows, cols, t.segment());
    }

    public float get(int r, int c) {
        long i = (long) r * cols + c;
        return switch (dtype) {
            case F32 -> data.getAtIndex(F32_LE, i);
            case BF16 -> Float.intBitsToFloat((data.getAtIndex(I16_LE, i) & 0xffff) << 16);
            case F16 -> Float.float16ToFloat(data.getAtIndex(I16_LE, i));
            default -> throw new AssertionError(dtype);
        };
    }

    /** Row {@code r} widened to float into {@code dst[off ..]}. */
    public void copyRow(int r, float[] dst, int off) {
        if (dtype == DType.F32) {
            MemorySegment.copy(data, F32_LE, (long) r * cols * 4, dst, off, cols);
        } else {
            for (int c = 0; c < cols; c++) dst[off + c] = get(r, c);
        }
    }

    public long byteSize() {
        return data.byteSize();
    }
}
