package io.quantmesh.calibration;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * The directory tree a service reads models from and writes artifacts to. References are {@code artifact:REL} URIs
 * or plain relative paths; nothing may resolve outside the root, neither by {@code ..} nor through a link.
 */
public final class ArtifactRoot {
    public static final String SCHEME = "artifact:";

    private final Path root;

    public ArtifactRoot(Path root) throws IOException {
        Files.createDirectories(root);
        this.root = root.toRealPath();
    }

    public Path root() {
        return root;
    }

    /** The path {@code ref} names; {@code what} labels errors ("model", "output"). */
    public Path resolve(String ref, String what) throws IOException {
        String rel = ref.startsWith(SCHEME) ? ref.substring(SCHEME.length()) : ref;
        if (rel.isBlank()) throw new IllegalArgumentException(what + " is required");
        Path p;
        try {
            p = Path.of(rel);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException(what + " '" + ref + "' is not a valid path");
        }
        Path resolved = root.resolve(p).normalize();
        if (p.isAbsolute() || !resolved.startsWith(root) || resolved.equals(root)) {
            throw new IllegalArgumentException(what + " '" + ref + "' is outside the artifact root");
        }
        Path existing = resolved;
        while (!Files.exists(existing)) existing = existing.getParent();
        if (!existing.toRealPath().startsWith(root)) {
            throw new IllegalArgumentException(what + " '" + ref + "' leads outside the artifact root");
        }
        return resolved;
    }

    /** The {@code artifact:} URI of a path under the root. */
    public String uri(Path p) {
        return SCHEME + root.relativize(p.toAbsolutePath().normalize()).toString().replace('\\', '/');
    }
}
