package io.quantmesh.codebook.grpc;

import com.google.protobuf.ByteString;
import io.quantmesh.core.tensor.Half;
import io.quantmesh.proto.v1.DType;
import io.quantmesh.proto.v1.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Conversion between proto {@link Tensor}s and float arrays, with the argument checks a service needs. */
final class TensorMessages {
    private TensorMessages() {}

    /**
     * The elements of a [n, k] floating tensor (F32, F16 or BF16) as floats; every element must be finite.
     *
     * @throws IllegalArgumentException with a message naming {@code what} on any mismatch
     */
    static float[] vectors(Tensor t, int k, String what) {
        if (t.getShapeCount() != 2) throw new IllegalArgumentException(what + " must have shape [n, " + k + "], got rank " + t.getShapeCount());
        long n = t.getShape(0), cols = t.getShape(1);
        if (cols != k) throw new IllegalArgumentException(what + " must have " + k + " columns, got " + cols);
        if (n < 1) throw new IllegalArgumentException(what + " is empty");
        int size = switch (t.getDtype()) {
            case F32 -> 4;
            case F16, BF16 -> 2;
            default -> throw new IllegalArgumentException(what + " must be F32, F16 or BF16, got " + t.getDtype());
        };
        long count = n * k;
        if (count > Integer.MAX_VALUE - 8 || count * size != t.getData().size()) {
            throw new IllegalArgumentException(what + " of shape [" + n + ", " + k + "] needs " + count * size
                    + " bytes of data, got " + t.getData().size());
        }
        ByteBuffer b = t.getData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[(int) count];
        for (int i = 0; i < out.length; i++) {
            float v = switch (t.getDtype()) {
                case F32 -> b.getFloat();
                case F16 -> Half.f16ToFloat(b.getShort());
                default -> Half.bf16ToFloat(b.getShort());
            };
            if (!Float.isFinite(v)) throw new IllegalArgumentException(what + " element " + i + " (vector " + i / k + ") is not finite: " + v);
            out[i] = v;
        }
        return out;
    }

    static Tensor f32(String name, float[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        Tensor.Builder t = Tensor.newBuilder().setName(name).setDtype(DType.F32).setData(ByteString.copyFrom(b.flip()));
        for (long d : shape) t.addShape(d);
        return t.build();
    }

    static ByteString ints(int[] words) {
        ByteBuffer b = ByteBuffer.allocate(words.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int w : words) b.putInt(w);
        return ByteString.copyFrom(b.flip());
    }

    static int[] ints(ByteString bytes) {
        if (bytes.size() % 4 != 0) throw new IllegalArgumentException("packed indices must be whole int32 words, got " + bytes.size() + " bytes");
        ByteBuffer b = bytes.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        int[] out = new int[bytes.size() / 4];
        for (int i = 0; i < out.length; i++) out[i] = b.getInt();
        return out;
    }
}
