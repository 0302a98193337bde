package io.quantmesh.codebook;

import io.quantmesh.core.codec.KMeansCodec;
import io.quantmesh.core.parallel.Parallel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A k-means codebook built by {@link WeightedKMeans}, named by the content it was built from: its id hashes the
 * build parameters with the vectors and weights, so the same request always maps to the same (cached) codebook.
 */
public record KMeansCodebook(String id, int k, float[] centroids, Map<String, String> metadata) {
    public KMeansCodebook {
        metadata = Map.copyOf(metadata);
    }

    public int size() {
        return centroids.length / k;
    }

    public KMeansCodec codec() {
        return new KMeansCodec(k, centroids);
    }

    /** The id a build of these inputs gets: {@code kmeans-k8-c65536-<16 hex of sha256>}. */
    public static String idFor(float[] x, float[] weights, int n, WeightedKMeans.Spec spec) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        md.update(("kmeans/1 k=" + spec.k() + " clusters=" + spec.clusters() + " seed=" + spec.seed()
                + " iterations=" + spec.maxIterations() + " tolerance=" + Double.toHexString(spec.tolerance())
                + " n=" + n + " weighted=" + (weights != null)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        update(md, x, n * spec.k());
        if (weights != null) update(md, weights, n);
        return "kmeans-k" + spec.k() + "-c" + spec.clusters() + "-" + HexFormat.of().formatHex(md.digest(), 0, 8);
    }

    private static void update(MessageDigest md, float[] v, int count) {
        ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            if (!buf.hasRemaining()) {
                md.update(buf.flip());
                buf.clear();
            }
            buf.putFloat(v[i]);
        }
        md.update(buf.flip());
    }

    /** Fits the codebook and records its build parameters and result. */
    public static KMeansCodebook build(float[] x, float[] weights, int n, WeightedKMeans.Spec spec, Parallel parallel, Cancellation cancel) {
        String id = idFor(x, weights, n, spec);
        WeightedKMeans.Result r = WeightedKMeans.fit(x, weights, n, spec, parallel, cancel);
        Map<String, String> m = new LinkedHashMap<>();
        m.put("quantmesh.codebook.kind", "kmeans");
        m.put("quantmesh.codebook.id", id);
        m.put("k", Integer.toString(spec.k()));
        m.put("clusters", Integer.toString(spec.clusters()));
        m.put("seed", Long.toString(spec.seed()));
        m.put("max_iterations", Integer.toString(spec.maxIterations()));
        m.put("tolerance", Double.toString(spec.tolerance()));
        m.put("init", "kmeans++");
        m.put("vectors", Integer.toString(n));
        m.put("weighted", Boolean.toString(weights != null));
        m.put("iterations", Integer.toString(r.iterations()));
        m.put("repairs", Integer.toString(r.repairs()));
        m.put("objective", Double.toString(r.finalObjective()));
        m.put("bits_per_weight", Double.toString(io.quantmesh.core.codec.BitPacker.widthFor(spec.clusters()) / (double) spec.k()));
        return new KMeansCodebook(id, spec.k(), r.centroids(), m);
    }
}
