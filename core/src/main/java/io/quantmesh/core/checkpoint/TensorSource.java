package io.quantmesh.core.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantmesh.core.tensor.Tensor;
import java.nio.file.Path;
import java.util.Set;

/**
 * What a model runtime loads from: a checkpoint directory's config and its dense tensors by name. An
 * {@link HfCheckpoint} is one; a quantized checkpoint's reader is another (it dequantizes its linears on demand).
 */
public interface TensorSource extends AutoCloseable {
    Path dir();

    JsonNode config();

    /** Tensor names in checkpoint order. */
    Set<String> tensorNames();

    boolean contains(String name);

    /** The tensor of that name; valid until {@link #close()}. */
    Tensor tensor(String name);

    /** Its shape, without loading it where the source can tell. */
    default long[] shape(String name) {
        return tensor(name).shape();
    }

    @Override
    void close();
}
