package io.quantmesh.core.quantized;

import io.quantmesh.core.io.Durable;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Publishes a directory atomically: its files are written into a hidden temporary sibling, made durable (each
 * file by its writer, then the directory itself), and the directory is renamed into place in one step, so a
 * reader sees either nothing or the complete checkpoint. Closing without {@link #publish} removes the temporary.
 */
final class AtomicDirectory implements AutoCloseable {
    private final Path target;
    private final Path temp;
    private boolean published;

    private AtomicDirectory(Path target, Path temp) {
        this.target = target;
        this.temp = temp;
    }

    static AtomicDirectory create(Path target) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        Files.createDirectories(parent);
        return new AtomicDirectory(abs, Files.createTempDirectory(parent, "." + abs.getFileName() + ".tmp-"));
    }

    /** Where to write the files. */
    Path dir() {
        return temp;
    }

    /**
     * Renames the finished directory to the target. An existing target is an error unless {@code replace}: then it
     * is first renamed aside and deleted after (a crash in between leaves it under {@code .NAME.old-*}).
     */
    void publish(boolean replace) throws IOException {
        Durable.fsyncDirectory(temp);
        Path parent = target.getParent();
        Path old = null;
        if (Files.exists(target)) {
            if (!replace) throw new FileAlreadyExistsException(target.toString(), null, "target exists (not replacing it)");
            old = Files.createTempDirectory(parent, "." + target.getFileName() + ".old-");
            Files.move(target, old.resolve("previous"), StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        published = true;
        Durable.fsyncDirectory(parent);
        if (old != null) deleteTree(old);
    }

    @Override
    public void close() throws IOException {
        if (!published) deleteTree(temp);
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
