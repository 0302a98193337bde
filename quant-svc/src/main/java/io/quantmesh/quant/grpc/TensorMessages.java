package io.quantmesh.quant.grpc;

import com.google.protobuf.ByteString;
import io.quantmesh.core.tensor.DType;
import io.quantmesh.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Set;

/** Proto {@code Tensor} ↔ core {@link Tensor} (both little-endian row-major bytes), with a service's checks. */
final class TensorMessages {
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TensorMessages() {}

    /**
     * A copy of an inline matrix: rank 2, both dims ≥ 1, one of {@code dtypes}, data length = elements × size, and
     * (floating dtypes) every element finite. Errors are IllegalArgumentExceptions naming {@code what}.
     */
    static Tensor matrix(io.quantmesh.proto.v1.Tensor t, String what, Set<DType> dtypes) {
        if (t.getShapeCount() != 2) {
            throw new IllegalArgumentException(what + " must be a matrix (rank 2), got rank " + t.getShapeCount()
                    + " " + t.getShapeList());
        }
        long rows = t.getShape(0), cols = t.getShape(1);
        if (rows < 1 || cols < 1) throw new IllegalArgumentException(what + " has an empty or negative shape " + t.getShapeList());
        DType dtype = dtype(t.getDtype());
        if (dtype == null || !dtypes.contains(dtype)) {
            throw new IllegalArgumentException(what + " must be " + dtypes + ", got " + t.getDtype());
        }
        long bytes = rows > Integer.MAX_VALUE / cols ? -1 : rows * cols * dtype.byteSize();
        if (bytes != t.getData().size()) {
            throw new IllegalArgumentException(what + " of shape [" + rows + ", " + cols + "] " + dtype + " needs "
                    + (bytes < 0 ? "more than 2^31 elements" : bytes + " bytes") + " of data, got " + t.getData().size());
        }
        MemorySegment data = MemorySegment.ofArray(t.getData().toByteArray());
        Tensor out = new Tensor(dtype, new long[] {rows, cols}, data);
        if (dtype.isFloating()) {
            for (long i = 0; i < out.numel(); i++) {
                double v = dtype == DType.F64 ? data.getAtIndex(F64, i) : out.getFloat(i);
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException(what + "[" + i / cols + "][" + i % cols + "] is not finite: " + v);
                }
            }
        }
        return out;
    }

    static io.quantmesh.proto.v1.Tensor message(String name, Tensor t) {
        io.quantmesh.proto.v1.DType d;
        try {
            d = io.quantmesh.proto.v1.DType.valueOf(t.dtype().name());
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(name + ": dtype " + t.dtype() + " has no proto DType");
        }
        var b = io.quantmesh.proto.v1.Tensor.newBuilder().setName(name).setDtype(d)
                .setData(ByteString.copyFrom(t.segment().asByteBuffer()));
        for (long s : t.shape()) b.addShape(s);
        return b.build();
    }

    private static DType dtype(io.quantmesh.proto.v1.DType d) {
        return Arrays.stream(DType.values()).filter(x -> x.name().equals(d.name())).findFirst().orElse(null);
    }
}
