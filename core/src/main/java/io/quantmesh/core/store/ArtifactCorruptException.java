package io.quantmesh.core.store;

import java.io.IOException;

/** An artifact's bytes are not the ones its producer recorded (size or sha256 mismatch). */
public final class ArtifactCorruptException extends IOException {
    public ArtifactCorruptException(String message) {
        super(message);
    }
}
