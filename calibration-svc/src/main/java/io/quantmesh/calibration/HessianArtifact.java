package io.quantmesh.calibration;

import io.quantmesh.core.safetensors.SafetensorsWriter;
import io.quantmesh.core.safetensors.TensorSpec;
import io.quantmesh.core.tensor.DType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Hessian artifact: one safetensors file with, per site in collection order, {@code <key>.hessian} (F64
 * [dim, dim], {@code (2/n) Σ x xᵀ}) and {@code <key>.tokens} (I64 [1], n), and {@code __metadata__} saying how it
 * was made (see docs/CALIBRATION.md). Written through {@link SafetensorsWriter}: streamed, and published
 * atomically, so a reader never sees half a file.
 */
public final class HessianArtifact {
    public static final String FORMAT = "quantmesh.hessians.v1";
    private static final ValueLayout.OfDouble F64_LE =
            ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private HessianArtifact() {}

    public static void write(Path file, List<CollectedHessian> hessians, Map<String, String> metadata)
            throws IOException {
        List<TensorSpec> specs = new ArrayList<>();
        for (CollectedHessian h : hessians) {
            specs.add(new TensorSpec(h.site().hessianTensor(), DType.F64, new long[] {h.dim(), h.dim()}));
            specs.add(new TensorSpec(h.site().tokensTensor(), DType.I64, new long[] {1}));
        }
        try (SafetensorsWriter w = SafetensorsWriter.open(file, specs, metadata)) {
            for (CollectedHessian h : hessians) {
                // one site at a time through native memory (the writer streams native or mapped segments)
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment le = arena.allocate(8L * h.h().length, 8);
                    MemorySegment.copy(h.h(), 0, le, F64_LE, 0, h.h().length);
                    w.write(h.site().hessianTensor(), le);
                    MemorySegment n = arena.allocate(8, 8);
                    n.set(I64_LE, 0, h.tokens());
                    w.write(h.site().tokensTensor(), n);
                }
            }
            w.commit();
        }
    }

    /** Hex sha256 of a file's bytes. */
    public static String sha256(Path file) throws IOException {
        return io.quantmesh.core.store.Sha256.of(file);
    }
}
