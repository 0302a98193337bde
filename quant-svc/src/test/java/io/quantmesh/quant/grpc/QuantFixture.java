package io.quantmesh.quant.grpc;

import io.quantmesh.calibration.Cancellation;
import io.quantmesh.calibration.Corpora;
import io.quantmesh.calibration.HessianCollector;
import io.quantmesh.calibration.HessianJob;
import io.quantmesh.codebook.CodebookArtifacts;
import io.quantmesh.codebook.CodebookCache;
import io.quantmesh.codebook.PolarCodebook;
import io.quantmesh.codebook.PolarKey;
import io.quantmesh.core.Shared;
import io.quantmesh.core.codec.PolarCodebookFile;
import io.quantmesh.core.codec.PolarCodec;
import io.quantmesh.core.importer.Llama2cImporter;
import io.quantmesh.core.parallel.Parallel;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * An artifact root as the mesh leaves it for quant-svc: the real stories260K (imported), a small real Hessian
 * artifact from calibration-svc's {@link HessianJob} and the pcdvq-2.0 universal codebook as codebook-svc stores it.
 */
record QuantFixture(Path root, String model, String hessians, String codebook, Map<String, PolarCodec> codecs) {
    static final String MODEL = "artifact:models/stories260K";
    static final String HESSIANS = "artifact:jobs/1/hessians.safetensors";

    static QuantFixture in(Path root) throws IOException {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        Path m = Shared.resolve("models/stories260K");
        Path model = root.resolve("models/stories260K");
        Llama2cImporter.importTo(m.resolve("stories260K.bin"), m.resolve("tok512.bin"), model);
        new HessianJob(Corpora.shared(), HessianCollector.withDefaultBudget()).run(new HessianJob.Spec(model,
                MODEL, List.of(), 8, 64, 7, root.resolve("jobs/1/hessians.safetensors")), (d, t, n) -> {},
                Cancellation.NONE);
        // the DACC build takes seconds: once per test JVM, then written into each root as codebook-svc stores it
        String id = "polar-k8-a14-b2-s0-v1";
        synchronized (QuantFixture.class) {
            if (built == null) built = PolarCodebook.build(PolarKey.parse(id), Parallel.common(),
                    io.quantmesh.codebook.Cancellation.NONE);
        }
        Path file = new CodebookCache(root).pathOf(id);
        CodebookArtifacts.writePolar(file, built, id);
        PolarCodebookFile.Loaded loaded = PolarCodebookFile.read(file);
        return new QuantFixture(root, MODEL, HESSIANS, "artifact:codebooks/" + file.getFileName(),
                Map.of(loaded.id(), loaded.codec()));
    }

    private static PolarCodebook built;

    Path path(String uri) {
        return root.resolve(uri.substring(ArtifactPaths.SCHEME.length()));
    }
}
