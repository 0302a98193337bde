package io.quantmesh.core.codec;

import io.quantmesh.core.safetensors.SafetensorsFile;
import io.quantmesh.core.safetensors.TensorInfo;
import io.quantmesh.core.tensor.DType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Reads a polar codebook artifact written by codebook-svc (docs/CODEBOOKS.md: {@code quantmesh.format = codebook/1},
 * kind {@code polar}, {@code directions} F32 [2^a, k], {@code magnitudes} F32 [2^b]). Lives in core because the
 * consumer is another stage (quant-svc), which may read the artifact but not call codebook-svc's classes.
 */
public final class PolarCodebookFile {
    public static final String FORMAT = "codebook/1";

    /** The codebook's id as recorded in the file and its codec. */
    public record Loaded(String id, PolarCodec codec) {}

    private PolarCodebookFile() {}

    public static Loaded read(Path file) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, String> m = f.metadata();
            if (!FORMAT.equals(m.get("quantmesh.format")) || !"polar".equals(m.get("quantmesh.codebook.kind"))) {
                throw new IllegalArgumentException(file.getFileName() + " is not a " + FORMAT + " polar codebook");
            }
            String id = m.get("quantmesh.codebook.id");
            if (id == null || id.isBlank()) throw new IllegalArgumentException(file.getFileName() + " has no codebook id");
            TensorInfo dirs = matrix(f, "directions", 2);
            TensorInfo mags = matrix(f, "magnitudes", 1);
            int k = Math.toIntExact(dirs.shape()[1]);
            return new Loaded(id, new PolarCodec(k, f.tensor("directions").toFloatArray(),
                    f.tensor("magnitudes").toFloatArray()));
        }
    }

    private static TensorInfo matrix(SafetensorsFile f, String name, int rank) {
        if (!f.contains(name)) throw new IllegalArgumentException(f.path().getFileName() + " has no '" + name + "' tensor");
        TensorInfo i = f.info(name);
        if (i.dtype() != DType.F32 || i.shape().length != rank) {
            throw new IllegalArgumentException(f.path().getFileName() + ": '" + name + "' must be F32 of rank " + rank);
        }
        return i;
    }
}
