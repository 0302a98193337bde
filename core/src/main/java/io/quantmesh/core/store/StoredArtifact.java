package io.quantmesh.core.store;

/** One file of the artifact store as events carry it: its URI, lowercase hex sha256 and size. */
public record StoredArtifact(String uri, String sha256, long sizeBytes) {
    public StoredArtifact {
        if (uri == null || uri.isBlank()) throw new IllegalArgumentException("artifact URI is required");
        if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("artifact " + uri + ": sha256 must be 64 lowercase hex digits, got '"
                    + sha256 + "'");
        }
        if (sizeBytes < 0) throw new IllegalArgumentException("artifact " + uri + ": negative size " + sizeBytes);
    }
}
