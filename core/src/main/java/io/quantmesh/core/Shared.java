package io.quantmesh.core;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the project's shared/ folder (real models, evaluation texts, corpora). Order: system property
 * {@code quantmesh.shared}, environment {@code QUANTMESH_SHARED}, then {@code ../shared} from the working dir
 * and its parents.
 */
public final class Shared {
    private Shared() {}

    public static Path root() {
        String p = System.getProperty("quantmesh.shared");
        if (p == null || p.isBlank()) p = System.getenv("QUANTMESH_SHARED");
        if (p != null && !p.isBlank()) return Path.of(p).toAbsolutePath().normalize();
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            Path candidate = d.resolveSibling("shared");
            if (Files.isRegularFile(candidate.resolve("DESIGN.md"))) return candidate.normalize();
        }
        return dir.resolveSibling("shared").normalize();
    }

    public static Path resolve(String relative) {
        return root().resolve(relative);
    }

    public static boolean available() {
        return Files.isDirectory(root().resolve("models"));
    }
}
