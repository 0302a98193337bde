package io.quantmesh.core.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A dense row-major tensor viewed over a {@link MemorySegment} (heap array, native memory or a mapped file).
 * Element bytes are little-endian, as in safetensors. Views never copy; {@link #toFloatArray()} does.
 */
public final class Tensor {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final DType dtype;
    private final long[] shape;
    private final MemorySegment data;

    public Tensor(DType dtype, long[] shape, MemorySegment data) {
        this.dtype = dtype;
        this.shape = shape.clone();
        long n = numel(this.shape);
        if (Math.multiplyExact(n, (long) dtype.byteSize()) != data.byteSize()) {
            throw new IllegalArgumentException("tensor of " + dtype + Arrays.toString(shape) + " needs "
                    + n * dtype.byteSize() + " bytes, segment has " + data.byteSize());
        }
        this.data = data;
    }

    /** A heap F32 tensor over a copy-free wrapper of {@code values}. */
    public static Tensor ofFloats(float[] values, long... shape) {
        MemorySegment seg = Arena.ofAuto().allocate((long) values.length * 4, 4);
        MemorySegment.copy(values, 0, seg, F32, 0, values.length);
        return new Tensor(DType.F32, shape, seg);
    }

    /** Zero-filled tensor in an automatically managed native arena. */
    public static Tensor zeros(DType dtype, long... shape) {
        long bytes = Math.multiplyExact(numel(shape), (long) dtype.byteSize());
        return new Tensor(dtype, shape, Arena.ofAuto().allocate(Math.max(bytes, 1), 8).asSlice(0, bytes));
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public DType dtype() {
        return dtype;
    }

    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i];
    }

    public long numel() {
        return numel(shape);
    }

    public MemorySegment segment() {
        return data;
    }

    public long byteSize() {
        return data.byteSize();
    }

    /** Row-major strides, in elements. */
    public long[] strides() {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    /** Element {@code i} of the flattened tensor, converted to float. */
    public float getFloat(long i) {
        return switch (dtype) {
            case F32 -> data.getAtIndex(F32, i);
            case F16 -> Half.f16ToFloat(data.getAtIndex(I16, i));
            case BF16 -> Half.bf16ToFloat(data.getAtIndex(I16, i));
            case F64 -> (float) data.getAtIndex(F64, i);
            case I32 -> data.getAtIndex(I32, i);
            case I64 -> data.getAtIndex(I64, i);
            case I16 -> data.getAtIndex(I16, i);
            case I8 -> data.get(ValueLayout.JAVA_BYTE, i);
            case U8, BOOL -> data.get(ValueLayout.JAVA_BYTE, i) & 0xff;
        };
    }

    public void setFloat(long i, float v) {
        switch (dtype) {
            case F32 -> data.setAtIndex(F32, i, v);
            case F16 -> data.setAtIndex(I16, i, Half.floatToF16(v));
            case BF16 -> data.setAtIndex(I16, i, Half.floatToBf16(v));
            case F64 -> data.setAtIndex(F64, i, v);
            default -> throw new UnsupportedOperationException("setFloat on " + dtype);
        }
    }

    public int getInt(long i) {
        return switch (dtype) {
            case I32 -> data.getAtIndex(I32, i);
            case I64 -> Math.toIntExact(data.getAtIndex(I64, i));
            case I16 -> data.getAtIndex(I16, i);
            case I8 -> data.get(ValueLayout.JAVA_BYTE, i);
            case U8, BOOL -> data.get(ValueLayout.JAVA_BYTE, i) & 0xff;
            default -> throw new UnsupportedOperationException("getInt on " + dtype);
        };
    }

    /** Copies the elements into a new float[] (any floating dtype; must fit in one Java array). */
    public float[] toFloatArray() {
        long n = numel();
        if (n > Integer.MAX_VALUE - 8) throw new IllegalStateException("tensor too large for a float[]: " + n);
        float[] out = new float[(int) n];
        if (dtype == DType.F32) {
            MemorySegment.copy(data, F32, 0, out, 0, out.length);
        } else {
            for (int i = 0; i < out.length; i++) out[i] = getFloat(i);
        }
        return out;
    }

    /** Copies rows [from, from+count) of a 2-D (or flattened leading dims) tensor into {@code dst}. */
    public void copyRowsTo(long from, int count, float[] dst, int dstOffset) {
        long cols = shape[shape.length - 1];
        long base = from * cols;
        long n = count * cols;
        if (dtype == DType.F32) {
            MemorySegment.copy(data, F32, base * 4, dst, dstOffset, (int) n);
        } else {
            for (int i = 0; i < n; i++) dst[dstOffset + i] = getFloat(base + i);
        }
    }

    /** A new tensor with the same elements converted to {@code target} (F32, F16, BF16). */
    public Tensor to(DType target) {
        if (target == dtype) return this;
        Tensor out = zeros(target, shape);
        long n = numel();
        for (long i = 0; i < n; i++) out.setFloat(i, getFloat(i));
        return out;
    }

    /** Same bytes, another shape with the same element count. */
    public Tensor reshape(long... newShape) {
        return new Tensor(dtype, newShape, data);
    }

    /** The i-th slice along the first dimension, as a view. */
    public Tensor slice0(long i) {
        long[] sub = Arrays.copyOfRange(shape, 1, shape.length);
        long bytes = numel(sub) * dtype.byteSize();
        return new Tensor(dtype, sub, data.asSlice(i * bytes, bytes));
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype + Arrays.toString(shape) + "]";
    }
}
