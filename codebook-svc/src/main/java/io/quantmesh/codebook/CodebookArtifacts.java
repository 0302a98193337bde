package io.quantmesh.codebook;

import io.quantmesh.core.safetensors.SafetensorsFile;
import io.quantmesh.core.safetensors.SafetensorsWriter;
import io.quantmesh.core.safetensors.TensorInfo;
import io.quantmesh.core.tensor.DType;
import io.quantmesh.core.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Codebooks as safetensors files (docs/CODEBOOKS.md). Polar: {@code directions} F32 [2^a, k], {@code magnitudes}
 * F32 [2^b], {@code lattice_points} I8 [2^a, k] (doubled lattice coordinates of the picked points). K-means:
 * {@code centroids} F32 [K, k]. The build parameters are the {@code __metadata__}, with
 * {@code quantmesh.format = codebook/1}. Everything written is deterministic, so equal codebooks are equal files.
 */
public final class CodebookArtifacts {
    public static final String FORMAT = "codebook/1";

    private CodebookArtifacts() {}

    /** Writes a polar codebook under {@code id} (its key's id, or a refined codebook's own id). */
    public static void writePolar(Path file, PolarCodebook cb, String id) throws IOException {
        int k = cb.key().k();
        int m = 1 << cb.key().a();
        int[] pts = cb.latticePoints();
        Tensor lattice = Tensor.zeros(DType.I8, m, k);
        for (int i = 0; i < pts.length; i++) lattice.segment().set(ValueLayout.JAVA_BYTE, i, (byte) pts[i]);
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("directions", Tensor.ofFloats(cb.directions(), m, k));
        t.put("magnitudes", Tensor.ofFloats(cb.magnitudes(), cb.magnitudes().length));
        t.put("lattice_points", lattice);
        Map<String, String> meta = new LinkedHashMap<>(cb.metadata());
        meta.put("quantmesh.codebook.id", id);
        SafetensorsWriter.write(file, t, withFormat(meta));
    }

    public static void writeKMeans(Path file, KMeansCodebook cb) throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("centroids", Tensor.ofFloats(cb.centroids(), cb.size(), cb.k()));
        SafetensorsWriter.write(file, t, withFormat(cb.metadata()));
    }

    private static Map<String, String> withFormat(Map<String, String> meta) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("quantmesh.format", FORMAT);
        m.putAll(meta);
        return m;
    }

    /** The kind recorded in a codebook file ("polar" or "kmeans"). */
    public static String kind(SafetensorsFile f) throws IOException {
        Map<String, String> m = f.metadata();
        if (!FORMAT.equals(m.get("quantmesh.format"))) throw new IOException(f.path() + " is not a " + FORMAT + " codebook");
        String kind = m.get("quantmesh.codebook.kind");
        if (kind == null) throw new IOException(f.path() + " has no quantmesh.codebook.kind");
        return kind;
    }

    public static PolarCodebook readPolar(Path file) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            if (!"polar".equals(kind(f))) throw new IOException(file + " is not a polar codebook");
            Map<String, String> m = f.metadata();
            PolarKey key;
            PolarCodebook.Recipe recipe;
            try {
                key = new PolarKey(intMeta(m, "k"), intMeta(m, "a"), intMeta(m, "b"), Long.parseLong(m.get("seed")), intMeta(m, "version"));
                recipe = new PolarCodebook.Recipe(key.version(), intMeta(m, "candidate_factor"), intMeta(m, "refine_iterations"),
                        intMeta(m, "refine_samples_per_direction"));
            } catch (RuntimeException e) {
                throw new IOException(file + ": bad polar codebook metadata: " + e.getMessage(), e);
            }
            int k = key.k(), n = 1 << key.a();
            float[] dirs = floats(f, "directions", DType.F32, n, k);
            float[] mags = floats(f, "magnitudes", DType.F32, 1 << key.b());
            expect(f, "lattice_points", DType.I8, n, k);
            byte[] raw = f.bytes("lattice_points").toArray(ValueLayout.JAVA_BYTE);
            int[] pts = new int[raw.length];
            for (int i = 0; i < raw.length; i++) pts[i] = raw[i];
            try {
                return PolarCodebook.restore(key, recipe, intMeta(m, "candidate_count"), intMeta(m, "candidate_max_norm2"),
                        pts, dirs, mags, m.getOrDefault("refined_on", ""));
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ": invalid polar codebook: " + e.getMessage(), e);
            }
        }
    }

    public static KMeansCodebook readKMeans(Path file) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            if (!"kmeans".equals(kind(f))) throw new IOException(file + " is not a k-means codebook");
            Map<String, String> m = f.metadata();
            int k, clusters;
            try {
                k = intMeta(m, "k");
                clusters = intMeta(m, "clusters");
            } catch (RuntimeException e) {
                throw new IOException(file + ": bad k-means codebook metadata: " + e.getMessage(), e);
            }
            float[] c = floats(f, "centroids", DType.F32, clusters, k);
            for (float v : c) if (!Float.isFinite(v)) throw new IOException(file + ": non-finite centroid");
            return new KMeansCodebook(m.get("quantmesh.codebook.id"), k, c, m);
        }
    }

    private static int intMeta(Map<String, String> m, String key) {
        String v = m.get(key);
        if (v == null) throw new IllegalArgumentException("missing " + key);
        return Integer.parseInt(v);
    }

    private static void expect(SafetensorsFile f, String name, DType dtype, long... shape) throws IOException {
        if (!f.contains(name)) throw new IOException(f.path() + ": missing tensor " + name);
        TensorInfo info = f.info(name);
        if (info.dtype() != dtype || !Arrays.equals(info.shape(), shape)) {
            throw new IOException(f.path() + ": tensor " + name + " is " + info.dtype() + Arrays.toString(info.shape())
                    + ", expected " + dtype + Arrays.toString(shape));
        }
    }

    private static float[] floats(SafetensorsFile f, String name, DType dtype, long... shape) throws IOException {
        expect(f, name, dtype, shape);
        return f.tensor(name).toFloatArray();
    }
}
