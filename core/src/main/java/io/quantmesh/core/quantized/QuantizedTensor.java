package io.quantmesh.core.quantized;

import io.quantmesh.core.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.function.Function;

/**
 * One quantized linear weight W [rows = out × cols = in] in one of the format's representations
 * (docs/FORMAT.md): INT-b asymmetric groups, AFPQ two-scale grids, VPTQ vectors, PCDVQ polar vectors.
 * A record holds exactly what the checkpoint stores; {@link #dequantize()} is the reference decoder.
 */
public sealed interface QuantizedTensor permits IntGroupTensor, TwoScaleGridTensor, VectorTensor, PolarTensor {
    int rows();

    int cols();

    /** The dense float32 W [rows × cols], row-major, exactly as docs/FORMAT.md defines the decoding. */
    float[] dequantize();

    /** The stored tensors under {@code prefix.}, in the format's fixed order. */
    LinkedHashMap<String, Tensor> toTensors(String prefix);

    /** The complete per-layer config ({@code representation}, {@code shape} and every parameter). */
    LayerConfig layerConfig();

    /** Bits of the index streams: index count × index width, summed over the streams. */
    long indexBits();

    /** The representation's format name, e.g. "int". */
    default String representation() {
        return layerConfig().representation();
    }

    default long parameterCount() {
        return (long) rows() * cols();
    }

    /** Every stored bit: 8 × the bytes of all tensors this layer writes (indices, codebooks, scales, outliers, signs). */
    default long storedBits() {
        long bytes = 0;
        for (Tensor t : toTensors("x").values()) bytes += t.byteSize();
        return 8 * bytes;
    }

    default double indexBitsPerWeight() {
        return (double) indexBits() / parameterCount();
    }

    default double storedBitsPerWeight() {
        return (double) storedBits() / parameterCount();
    }

    /**
     * Reads the layer stored under {@code prefix.} with the given config; every dtype, shape and index range is
     * checked, and a wrong one is an {@link IllegalArgumentException} naming the tensor.
     *
     * @param lookup the tensor of a full name, or null when absent
     */
    static QuantizedTensor fromTensors(String prefix, Function<String, Tensor> lookup, LayerConfig config) {
        return Representation.of(config).read(prefix, lookup, config);
    }
}
