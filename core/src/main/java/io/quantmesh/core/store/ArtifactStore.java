package io.quantmesh.core.store;

import io.quantmesh.core.io.Durable;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The artifact store of the mesh (DESIGN.md §2): a directory tree (a ReadWriteMany volume on Kubernetes) that every
 * stage reads and writes by {@code artifact:a/b/c} URIs. A URI can never leave the root — not by {@code ..}, not by
 * an absolute path, not through a symbolic link anywhere on the way. Files are published temp + fsync + atomic
 * rename + directory fsync, so a reader (or a stage restarted after a kill -9) sees either nothing or the whole file;
 * every artifact is described by its sha256 and verified against it when read.
 *
 * <p>The checks run on every call; a writer with access to the volume that swaps a checked directory for a link
 * between the check and the use is outside the threat model (the volume is the stages' own).
 */
public final class ArtifactStore {
    public static final String SCHEME = "artifact:";
    /** Upper bound of {@link #importDirectory(Path, String)}: far above any checkpoint we quantize on one node. */
    public static final long MAX_IMPORT_BYTES = 1L << 40;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");

    private final Path root;

    /** Creates the root directory if needed; every check compares against its real path. */
    public ArtifactStore(Path root) throws IOException {
        Files.createDirectories(root);
        this.root = root.toRealPath();
    }

    public Path root() {
        return root;
    }

    /**
     * The path of {@code "artifact:a/b"} (or plain {@code "a/b"}) under the root. Creates nothing.
     *
     * @throws IllegalArgumentException naming the URI: blank, absolute, a {@code ..} segment, a backslash or NUL,
     *                                  the root itself, or a symbolic link on the path leading outside the root
     */
    public Path resolve(String uri) {
        if (uri == null) throw new IllegalArgumentException("artifact URI is required");
        String rel = uri.startsWith(SCHEME) ? uri.substring(SCHEME.length()) : uri;
        if (rel.isBlank()) throw new IllegalArgumentException("artifact URI '" + uri + "' names no file");
        if (rel.indexOf('\0') >= 0 || rel.indexOf('\\') >= 0) {
            throw new IllegalArgumentException("artifact URI '" + printable(uri) + "' contains a NUL or backslash");
        }
        if (rel.startsWith("/") || rel.matches("^[A-Za-z]:.*")) {
            throw new IllegalArgumentException("artifact URI '" + uri + "' is absolute: outside the artifact root");
        }
        Path cur = root;
        boolean exists = true;
        for (String seg : rel.split("/")) {
            if (seg.isEmpty() || seg.equals(".")) continue;
            if (seg.equals("..")) {
                throw new IllegalArgumentException("artifact URI '" + uri + "' has a '..' segment: outside the "
                        + "artifact root");
            }
            cur = cur.resolve(seg);
            // Once a component is missing, nothing below it exists (and so holds no link).
            if (exists && (exists = Files.exists(cur, LinkOption.NOFOLLOW_LINKS)) && Files.isSymbolicLink(cur)) {
                Path target;
                try {
                    target = cur.toRealPath();
                } catch (IOException e) {
                    throw new IllegalArgumentException("artifact URI '" + uri + "' goes through a dangling link "
                            + root.relativize(cur));
                }
                if (!target.startsWith(root)) {
                    throw new IllegalArgumentException("artifact URI '" + uri + "' leads outside the artifact root "
                            + "through the link " + root.relativize(cur));
                }
            }
        }
        if (cur.equals(root)) throw new IllegalArgumentException("artifact URI '" + uri + "' names the artifact root itself");
        return cur;
    }

    /**
     * {@link #resolve(String)} for a named field of a request or job ("model", "output"): a blank URI is
     * "{@code <field> is required}", every other refusal is prefixed with the field, so the caller knows which URI
     * was refused. IllegalArgumentException, as {@link #resolve(String)}.
     */
    public Path resolve(String uri, String field) {
        String rel = uri == null ? "" : uri.startsWith(SCHEME) ? uri.substring(SCHEME.length()) : uri;
        if (rel.isBlank()) throw new IllegalArgumentException(field + " is required");
        try {
            return resolve(uri);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(field + ": " + e.getMessage(), e);
        }
    }

    /** The {@code artifact:} URI of a path under the root. */
    public String uri(Path p) {
        Path a = p.toAbsolutePath().normalize();
        if (!a.startsWith(root)) {
            try {
                a = a.toRealPath();
            } catch (IOException e) {
                // not resolvable: falls through to the check below
            }
        }
        if (!a.startsWith(root) || a.equals(root)) {
            throw new IllegalArgumentException(p + " is not under the artifact root " + root);
        }
        return SCHEME + root.relativize(a).toString().replace('\\', '/');
    }

    /** Writes an artifact's content to the given temporary file (which exists, empty, in the target directory). */
    @FunctionalInterface
    public interface Content {
        void writeTo(Path temp) throws IOException;
    }

    /**
     * Publishes an artifact: {@code content} writes a temp file in the target's directory, which is fsynced and
     * atomically renamed over the target, then the directory is fsynced. Re-putting identical bytes (a redelivered
     * task) just replaces the file with an equal one.
     */
    public StoredArtifact put(String uri, Content content) throws IOException {
        Path target = resolve(uri);
        if (Files.isDirectory(target)) throw new IllegalArgumentException("artifact URI '" + uri + "' is a directory");
        Path dir = target.getParent();
        Files.createDirectories(dir);
        resolve(uri); // the directories just created are plain ones, but a racing link would show up here
        Path temp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
        try {
            content.writeTo(temp);
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
        Durable.fsyncDirectory(dir);
        return describe(uri);
    }

    public StoredArtifact put(String uri, byte[] bytes) throws IOException {
        return put(uri, temp -> Files.write(temp, bytes));
    }

    /** sha256 and size of an existing regular file. */
    public StoredArtifact describe(String uri) throws IOException {
        Path p = existingFile(uri);
        return new StoredArtifact(canonical(uri), Sha256.of(p), Files.size(p));
    }

    /**
     * The path of {@code expected} after checking its size, then its sha256.
     *
     * @throws NoSuchFileException       if it does not exist
     * @throws ArtifactCorruptException  if the bytes differ from the recorded ones
     */
    public Path verified(StoredArtifact expected) throws IOException {
        Path p = existingFile(expected.uri());
        long size = Files.size(p);
        if (size != expected.sizeBytes()) {
            throw new ArtifactCorruptException("artifact " + expected.uri() + " is " + size + " bytes, expected "
                    + expected.sizeBytes());
        }
        String sha = Sha256.of(p);
        if (!sha.equals(expected.sha256())) {
            throw new ArtifactCorruptException("artifact " + expected.uri() + " has sha256 " + sha + ", expected "
                    + expected.sha256());
        }
        return p;
    }

    /**
     * Copies a model directory (regular files in plain subdirectories; no links, at most {@link #MAX_IMPORT_BYTES})
     * into {@code models/<name>-<sha8>}, sha8 = the first 8 hex digits of a hash over every file's relative path,
     * size and sha256. An existing copy with the same name is reused (the name is the content). The copy is built
     * in a hidden temp directory and renamed into place, so a kill -9 never leaves a half-imported model.
     *
     * @return the directory's URI, e.g. {@code artifact:models/stories260K-1a2b3c4d}
     */
    public String importDirectory(Path dir, String name) throws IOException {
        return importDirectory(dir, name, MAX_IMPORT_BYTES);
    }

    public String importDirectory(Path dir, String name, long maxBytes) throws IOException {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("model name '" + name + "' must be 1-100 of [A-Za-z0-9._-], starting "
                    + "with a letter or digit");
        }
        if (!Files.isDirectory(dir)) throw new NoSuchFileException(dir.toString(), null, "not a model directory");
        Path src = dir.toRealPath();
        if (src.startsWith(root)) throw new IllegalArgumentException(dir + " is inside the artifact root already");
        Map<String, String> manifest = manifest(src, maxBytes);
        String sha8 = Sha256.of(manifestBytes(src, manifest)).substring(0, 8);
        String uri = SCHEME + "models/" + name + "-" + sha8;
        Path target = resolve(uri);
        if (Files.isDirectory(target)) {
            checkSameFiles(src, target, manifest, uri);
            return uri;
        }
        Files.createDirectories(target.getParent());
        Path temp = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".");
        try {
            for (Map.Entry<String, String> f : manifest.entrySet()) {
                Path to = temp.resolve(f.getKey());
                Files.createDirectories(to.getParent());
                String sha = copyDurably(src.resolve(f.getKey()), to);
                if (!sha.equals(f.getValue())) {
                    throw new ArtifactCorruptException(dir + "/" + f.getKey() + " changed while it was imported");
                }
            }
            fsyncTree(temp);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException raced) {
                checkSameFiles(src, target, manifest, uri); // another importer won the race with the same content
                return uri;
            }
            Durable.fsyncDirectory(target.getParent());
        } finally {
            if (Files.exists(temp, LinkOption.NOFOLLOW_LINKS)) deleteTree(temp);
        }
        return uri;
    }

    /**
     * The content identity of a directory: sha256 over every file's relative path, size and sha256 (what
     * {@link #importDirectory} names copies by). The same model has the same digest wherever it lies, so artifacts
     * that record it (Hessians) are byte-identical whether a model was read from a host path or from the store.
     */
    public static String contentDigest(Path dir) throws IOException {
        Path src = dir.toRealPath();
        return Sha256.of(manifestBytes(src, manifest(src, MAX_IMPORT_BYTES)));
    }

    /** Relative path ('/') → sha256 of every regular file, sorted; rejects links, special files and oversize. */
    private static Map<String, String> manifest(Path src, long maxBytes) throws IOException {
        List<Path> files = new ArrayList<>();
        long[] total = {0};
        try (Stream<Path> s = Files.walk(src)) {
            for (Path p : s.sorted().toList()) {
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (a.isSymbolicLink()) {
                    throw new IllegalArgumentException("model directory holds a symbolic link: " + p
                            + " (import copies regular files only)");
                }
                if (a.isDirectory()) continue;
                if (!a.isRegularFile()) throw new IllegalArgumentException("model directory holds a special file: " + p);
                total[0] += a.size();
                if (total[0] > maxBytes) {
                    throw new IllegalArgumentException("model directory " + src + " exceeds the import limit of "
                            + maxBytes + " bytes");
                }
                files.add(p);
            }
        }
        if (files.isEmpty()) throw new IllegalArgumentException("model directory " + src + " holds no files");
        Map<String, String> out = new LinkedHashMap<>();
        for (Path p : files) out.put(src.relativize(p).toString().replace('\\', '/'), Sha256.of(p));
        return out;
    }

    private static byte[] manifestBytes(Path src, Map<String, String> manifest) throws IOException {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> f : manifest.entrySet()) {
            b.append(f.getKey()).append('\0').append(Files.size(src.resolve(f.getKey()))).append('\0')
                    .append(f.getValue()).append('\n');
        }
        return b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** An existing import must hold exactly the manifest's files with the same sizes (its name carries the hash). */
    private static void checkSameFiles(Path src, Path target, Map<String, String> manifest, String uri)
            throws IOException {
        List<String> have = new ArrayList<>();
        try (Stream<Path> s = Files.walk(target)) {
            for (Path p : s.filter(q -> !Files.isDirectory(q, LinkOption.NOFOLLOW_LINKS)).sorted().toList()) {
                String rel = target.relativize(p).toString().replace('\\', '/');
                Long want = manifest.containsKey(rel) ? Files.size(src.resolve(rel)) : null;
                if (want == null || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || Files.size(p) != want) {
                    throw new ArtifactCorruptException(uri + " exists but differs from " + src + " at " + rel);
                }
                have.add(rel);
            }
        }
        if (have.size() != manifest.size()) {
            throw new ArtifactCorruptException(uri + " exists but lacks files of " + src);
        }
    }

    private static String copyDurably(Path from, Path to) throws IOException {
        MessageDigest md = Sha256.digest();
        try (InputStream in = Files.newInputStream(from, LinkOption.NOFOLLOW_LINKS);
             OutputStream out = new DigestOutputStream(Files.newOutputStream(to, StandardOpenOption.CREATE_NEW), md)) {
            in.transferTo(out);
        }
        try (FileChannel ch = FileChannel.open(to, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static void fsyncTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isDirectory).toList()) Durable.fsyncDirectory(p);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    private Path existingFile(String uri) throws IOException {
        Path p = resolve(uri);
        if (!Files.exists(p)) throw new NoSuchFileException(uri, null, "no such artifact");
        if (!Files.isRegularFile(p)) throw new IllegalArgumentException("artifact " + uri + " is not a regular file");
        return p;
    }

    private String canonical(String uri) {
        return uri.startsWith(SCHEME) ? uri : SCHEME + uri;
    }

    private static String printable(String s) {
        return s.replace("\0", "\\0");
    }
}
