package io.quantmesh.quant.grpc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * URIs of QuantService requests confined to the server's artifact root, with the rules of the mesh's
 * {@code core.store.ArtifactStore} (docs/PIPELINE.md, "QuantService"): {@code artifact:a/b} or {@code a/b}; blank,
 * absolute, {@code ..} segments, backslashes, NUL, the root itself and links that lead out are refused. A stand-in
 * until that store lands in core; quant-svc may not use calibration-svc's {@code ArtifactRoot}.
 */
final class ArtifactPaths {
    static final String SCHEME = "artifact:";

    private final Path root;

    ArtifactPaths(Path root) throws IOException {
        Files.createDirectories(root);
        this.root = root.toRealPath();
    }

    Path root() {
        return root;
    }

    /** The path {@code uri} names; {@code what} labels the error ("model", "output"). Never creates anything. */
    Path resolve(String uri, String what) throws IOException {
        String rel = uri.startsWith(SCHEME) ? uri.substring(SCHEME.length()) : uri;
        if (rel.isBlank()) throw new IllegalArgumentException(what + " is required");
        if (rel.indexOf('\\') >= 0 || rel.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(what + " '" + uri + "' may not contain a backslash or NUL");
        }
        if (rel.startsWith("/")) throw new IllegalArgumentException(what + " '" + uri + "' is outside the artifact root");
        Path p = root;
        for (String segment : rel.split("/")) {
            if (segment.equals("..")) {
                throw new IllegalArgumentException(what + " '" + uri + "' is outside the artifact root ('..')");
            }
            if (!segment.isEmpty() && !segment.equals(".")) p = p.resolve(segment);
        }
        if (p.equals(root)) throw new IllegalArgumentException(what + " '" + uri + "' names the artifact root itself");
        // a link anywhere on the existing part of the path must stay inside the root
        Path existing = p;
        while (!Files.exists(existing)) existing = existing.getParent();
        if (!existing.toRealPath().startsWith(root)) {
            throw new IllegalArgumentException(what + " '" + uri + "' leads outside the artifact root");
        }
        return p;
    }

    /** Like {@link #resolve}, for inputs: NOT_FOUND's {@link NoSuchFileException} when nothing is there. */
    Path existing(String uri, String what) throws IOException {
        Path p = resolve(uri, what);
        if (!Files.exists(p)) throw new NoSuchFileException(what + " '" + uri + "' does not exist");
        return p;
    }

    String uri(Path p) {
        return SCHEME + root.relativize(p.toAbsolutePath().normalize()).toString().replace('\\', '/');
    }
}
