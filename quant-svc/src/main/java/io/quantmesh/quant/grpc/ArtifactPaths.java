package io.quantmesh.quant.grpc;

import io.quantmesh.core.store.ArtifactStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * QuantService's view of the artifact store: core's {@link ArtifactStore} confinement rules (docs/MESH.md), with the
 * request field named in every error ("model", "output", …) so a client knows which URI was refused.
 */
final class ArtifactPaths {
    private final ArtifactStore store;

    ArtifactPaths(Path root) throws IOException {
        this.store = new ArtifactStore(root);
    }

    Path root() {
        return store.root();
    }

    /** The path {@code uri} names; {@code what} labels the error. Never creates anything. */
    Path resolve(String uri, String what) {
        return store.resolve(uri, what);
    }

    /** Like {@link #resolve}, for inputs: NOT_FOUND's {@link NoSuchFileException} when nothing is there. */
    Path existing(String uri, String what) throws IOException {
        Path p = resolve(uri, what);
        if (!Files.exists(p)) throw new NoSuchFileException(what + " '" + uri + "' does not exist");
        return p;
    }

    String uri(Path p) {
        return store.uri(p);
    }
}
