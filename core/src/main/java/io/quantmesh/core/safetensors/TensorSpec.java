package io.quantmesh.core.safetensors;

import io.quantmesh.core.tensor.DType;
import io.quantmesh.core.tensor.Tensor;

/** What a writer is told up front about one tensor, so the header can be written before the data streams. */
public record TensorSpec(String name, DType dtype, long[] shape) {
    public TensorSpec {
        shape = shape.clone();
    }

    public static TensorSpec of(String name, Tensor t) {
        return new TensorSpec(name, t.dtype(), t.shape());
    }

    public long byteSize() {
        return Math.multiplyExact(Tensor.numel(shape), (long) dtype.byteSize());
    }
}
