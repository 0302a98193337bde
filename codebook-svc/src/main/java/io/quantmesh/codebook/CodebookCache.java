package io.quantmesh.codebook;

import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.core.store.Sha256;
import io.quantmesh.core.codec.PolarCodec;
import io.quantmesh.core.parallel.Parallel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Codebooks on disk under {@code <artifact root>/codebooks/<id>.safetensors}. A universal polar codebook's id is its
 * key ({@code polar-k8-a14-b2-s0-v1}), so a cache hit needs no build and a miss rebuilds the identical bytes; a
 * k-means codebook's id hashes its inputs. Builds of one id are serialised; files are published atomically; the
 * last few loaded codebooks stay in memory for encode/decode calls.
 */
public final class CodebookCache {
    /** The artifact file of a codebook: store-relative URI, sha256 and size. */
    public record ArtifactFile(Path path, String uri, String sha256, long sizeBytes) {}

    /** A codebook with its file; {@code cached} tells whether this call found it instead of building it. */
    public sealed interface Stored permits StoredPolar, StoredKMeans {
        String id();

        ArtifactFile file();

        boolean cached();

        double buildSeconds();

        Map<String, String> metadata();

        int k();
    }

    public record StoredPolar(String id, PolarCodebook codebook, PolarCodec codec, ArtifactFile file, boolean cached,
                              double buildSeconds) implements Stored {
        public Map<String, String> metadata() {
            Map<String, String> m = new LinkedHashMap<>(codebook.metadata());
            m.put("quantmesh.codebook.id", id);
            return m;
        }

        public int k() {
            return codebook.key().k();
        }
    }

    public record StoredKMeans(KMeansCodebook codebook, io.quantmesh.core.codec.KMeansCodec codec, ArtifactFile file,
                               boolean cached, double buildSeconds) implements Stored {
        public String id() {
            return codebook.id();
        }

        public Map<String, String> metadata() {
            return codebook.metadata();
        }

        public int k() {
            return codebook.k();
        }
    }

    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,127}");
    private static final int MEMORY_ENTRIES = 8;

    private final ArtifactStore store;
    private final Path root;
    private final Path dir;
    private final ConcurrentHashMap<String, Object> locks = new ConcurrentHashMap<>();
    private final Map<String, Stored> memory = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Stored> e) {
            return size() > MEMORY_ENTRIES;
        }
    };

    public CodebookCache(Path artifactRoot) throws IOException {
        this.store = new ArtifactStore(artifactRoot);
        this.root = store.root();
        this.dir = root.resolve("codebooks");
        Files.createDirectories(dir);
    }

    public Path root() {
        return root;
    }

    public Path pathOf(String id) {
        if (!ID.matcher(id).matches()) throw new IllegalArgumentException("malformed codebook id: " + id);
        return dir.resolve(id + ".safetensors");
    }

    /** The universal polar codebook of {@code key}, from disk or built (and stored) now. */
    public StoredPolar polar(PolarKey key, Parallel parallel, Cancellation cancel) throws IOException {
        String id = key.id();
        synchronized (lock(id)) {
            Optional<Stored> hit = get(id);
            if (hit.isPresent()) return (StoredPolar) hit.get();
            long t0 = System.nanoTime();
            PolarCodebook cb = PolarCodebook.build(key, parallel, cancel);
            return storePolar(id, cb, t0);
        }
    }

    /** A polar codebook refined on source vectors; its id extends the key's with a hash of the samples. */
    public StoredPolar polarRefined(PolarKey key, float[] samples, int iterations, Parallel parallel, Cancellation cancel) throws IOException {
        String sha = sha256(samples, iterations);
        String id = key.id() + "-r" + sha.substring(0, 16);
        synchronized (lock(id)) {
            Optional<Stored> hit = get(id);
            if (hit.isPresent()) return (StoredPolar) hit.get();
            long t0 = System.nanoTime();
            PolarCodebook base = polar(key, parallel, cancel).codebook();
            PolarCodebook cb = base.refinedOn(samples, iterations, sha, parallel, cancel);
            return storePolar(id, cb, t0);
        }
    }

    private StoredPolar storePolar(String id, PolarCodebook cb, long t0) throws IOException {
        Path file = pathOf(id);
        CodebookArtifacts.writePolar(file, cb, id);
        StoredPolar s = new StoredPolar(id, cb, cb.codec(), describe(file), false, (System.nanoTime() - t0) / 1e9);
        remember(id, s);
        return s;
    }

    /** A k-means codebook of these inputs, from disk or built now. */
    public StoredKMeans kmeans(float[] x, float[] weights, int n, WeightedKMeans.Spec spec, Parallel parallel, Cancellation cancel)
            throws IOException {
        String id = KMeansCodebook.idFor(x, weights, n, spec);
        synchronized (lock(id)) {
            Optional<Stored> hit = get(id);
            if (hit.isPresent()) return (StoredKMeans) hit.get();
            long t0 = System.nanoTime();
            KMeansCodebook cb = KMeansCodebook.build(x, weights, n, spec, parallel, cancel);
            Path file = pathOf(id);
            CodebookArtifacts.writeKMeans(file, cb);
            StoredKMeans s = new StoredKMeans(cb, cb.codec(), describe(file), false, (System.nanoTime() - t0) / 1e9);
            remember(id, s);
            return s;
        }
    }

    /** A stored codebook by id; empty when it was never built. Malformed ids throw IllegalArgumentException. */
    public Optional<Stored> get(String id) throws IOException {
        Path file = pathOf(id);
        synchronized (memory) {
            Stored s = memory.get(id);
            if (s != null) return Optional.of(asCached(s));
        }
        if (!Files.isRegularFile(file)) return Optional.empty();
        Stored s;
        try (var f = io.quantmesh.core.safetensors.SafetensorsFile.open(file)) {
            String kind = CodebookArtifacts.kind(f);
            if (!id.equals(f.metadata().get("quantmesh.codebook.id"))) throw new IOException(file + " holds another codebook");
            s = switch (kind) {
                case "polar" -> {
                    PolarCodebook cb = CodebookArtifacts.readPolar(file);
                    yield new StoredPolar(id, cb, cb.codec(), describe(file), true, 0);
                }
                case "kmeans" -> {
                    KMeansCodebook cb = CodebookArtifacts.readKMeans(file);
                    yield new StoredKMeans(cb, cb.codec(), describe(file), true, 0);
                }
                default -> throw new IOException(file + ": unknown codebook kind " + kind);
            };
        }
        remember(id, s);
        return Optional.of(s);
    }

    private static Stored asCached(Stored s) {
        return switch (s) {
            case StoredPolar p -> new StoredPolar(p.id(), p.codebook(), p.codec(), p.file(), true, 0);
            case StoredKMeans m -> new StoredKMeans(m.codebook(), m.codec(), m.file(), true, 0);
        };
    }

    private void remember(String id, Stored s) {
        synchronized (memory) {
            memory.put(id, s);
        }
    }

    private Object lock(String id) {
        return locks.computeIfAbsent(id, x -> new Object());
    }

    /**
     * Resolves an {@code artifact:relative/path} URI inside the artifact root; the scheme is required here. Beyond the
     * shape checks, core's {@link ArtifactStore} rules apply (no {@code ..}, no link leading out of the root).
     */
    public Path resolveArtifact(String uri) {
        if (uri == null || !uri.startsWith(ArtifactStore.SCHEME)) {
            throw new IllegalArgumentException("artifact URIs look like artifact:relative/path, got " + uri);
        }
        String rel = uri.substring(ArtifactStore.SCHEME.length());
        if (rel.isEmpty() || rel.startsWith("/") || rel.contains("\\")) throw new IllegalArgumentException("bad artifact path: " + uri);
        try {
            return store.resolve(uri);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("artifact path escapes the store: " + e.getMessage(), e);
        }
    }

    public ArtifactFile describe(Path file) throws IOException {
        return new ArtifactFile(file, store.uri(file), Sha256.of(file), Files.size(file));
    }

    private static String sha256(float[] samples, int iterations) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(samples.length * 4 + 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (float v : samples) b.putFloat(v);
        b.putInt(iterations);
        return Sha256.of(b.array());
    }
}
