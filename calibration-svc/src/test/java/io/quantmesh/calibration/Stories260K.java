package io.quantmesh.calibration;

import io.quantmesh.core.Shared;
import io.quantmesh.core.importer.Llama2cImporter;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Path;

/** The real stories260K model as a Hugging Face directory, imported into a test's temporary directory. */
final class Stories260K {
    private Stories260K() {}

    static Path importTo(Path dir) throws IOException {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        Llama2cImporter.importTo(Shared.resolve("models/stories260K/stories260K.bin"),
                Shared.resolve("models/stories260K/tok512.bin"), dir);
        return dir;
    }
}
