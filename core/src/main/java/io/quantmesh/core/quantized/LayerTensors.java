package io.quantmesh.core.quantized;

import io.quantmesh.core.codec.BitPacker;
import io.quantmesh.core.tensor.DType;
import io.quantmesh.core.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.function.Function;

/**
 * The named tensors of one quantized layer, {@code P.role}: reading them back with every dtype and shape checked
 * before a byte is copied (the shapes come from the layer's config, so nothing is allocated that the config did
 * not promise), and building them for writing. Tensors are little-endian as in safetensors.
 */
final class LayerTensors {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String prefix;
    private final Function<String, Tensor> lookup;

    /** @param lookup the tensor of a full name, or null when absent */
    LayerTensors(String prefix, Function<String, Tensor> lookup) {
        this.prefix = prefix;
        this.lookup = lookup;
    }

    String name(String role) {
        return prefix + "." + role;
    }

    boolean present(String role) {
        return lookup.apply(name(role)) != null;
    }

    /** The tensor {@code P.role}, which must exist with exactly this dtype and shape. */
    Tensor require(String role, DType dtype, long... shape) {
        Tensor t = lookup.apply(name(role));
        if (t == null) throw new IllegalArgumentException("missing tensor '" + name(role) + "'");
        if (t.dtype() != dtype) {
            throw new IllegalArgumentException("tensor '" + name(role) + "' is " + t.dtype() + ", expected " + dtype);
        }
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException("tensor '" + name(role) + "' has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(shape));
        }
        return t;
    }

    /** Rejects a tensor the layer's config says is not there (e.g. a permutation without act_order). */
    void forbid(String role, String why) {
        if (present(role)) throw new IllegalArgumentException("unexpected tensor '" + name(role) + "' (" + why + ")");
    }

    int[] i32(String role, long... shape) {
        Tensor t = require(role, DType.I32, shape);
        int[] out = new int[Math.toIntExact(t.numel())];
        MemorySegment.copy(t.segment(), I32, 0, out, 0, out.length);
        return out;
    }

    short[] f16(String role, long... shape) {
        Tensor t = require(role, DType.F16, shape);
        short[] out = new short[Math.toIntExact(t.numel())];
        MemorySegment.copy(t.segment(), I16, 0, out, 0, out.length);
        return out;
    }

    float[] f32(String role, long... shape) {
        Tensor t = require(role, DType.F32, shape);
        float[] out = new float[Math.toIntExact(t.numel())];
        MemorySegment.copy(t.segment(), F32, 0, out, 0, out.length);
        return out;
    }

    /** An index stream: I32 [words(count, width)]. */
    PackedIndices packed(String role, int width, long count) {
        int[] words = i32(role, BitPacker.words(count, width));
        try {
            return new PackedIndices(width, count, words);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tensor '" + name(role) + "': " + e.getMessage(), e);
        }
    }

    // ---- building tensors for writing ----

    static Tensor i32(int[] values, long... shape) {
        Tensor t = Tensor.zeros(DType.I32, shape);
        MemorySegment.copy(values, 0, t.segment(), I32, 0, values.length);
        return t;
    }

    static Tensor f16(short[] values, long... shape) {
        Tensor t = Tensor.zeros(DType.F16, shape);
        MemorySegment.copy(values, 0, t.segment(), I16, 0, values.length);
        return t;
    }

    static Tensor f32(float[] values, long... shape) {
        Tensor t = Tensor.zeros(DType.F32, shape);
        MemorySegment.copy(values, 0, t.segment(), F32, 0, values.length);
        return t;
    }

    static Tensor packed(PackedIndices p) {
        return i32(p.words(), p.words().length);
    }

    /** An ordered tensor map under {@code prefix}. */
    static final class Builder {
        private final String prefix;
        private final LinkedHashMap<String, Tensor> map = new LinkedHashMap<>();

        Builder(String prefix) {
            this.prefix = prefix;
        }

        Builder put(String role, Tensor t) {
            map.put(prefix + "." + role, t);
            return this;
        }

        LinkedHashMap<String, Tensor> build() {
            return map;
        }
    }
}
