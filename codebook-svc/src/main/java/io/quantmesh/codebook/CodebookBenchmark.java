package io.quantmesh.codebook;

import io.quantmesh.core.codec.ClipSearch;
import io.quantmesh.core.codec.KMeansCodec;
import io.quantmesh.core.codec.PolarCodec;
import io.quantmesh.core.codec.ScalarReference;
import io.quantmesh.core.parallel.Parallel;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * The codebook quality protocol of DESIGN.md §5 and the encoder figures: MSE per dimension on i.i.d. N(0,1)
 * 8-vectors for scalar Lloyd-Max, polar (a=14 and a=16, b=2) and k-means with 2^16 centroids (trained on separate
 * samples), against D(R) = 2^-2R; PCDVQ's assignment ablation; polar encoder throughput (naive, Vector API, pruned;
 * one thread and all cores); polar build times cold and from the cache.
 */
public final class CodebookBenchmark {
    /**
     * @param vectors          test vectors (the protocol says 10^6)
     * @param kmeansTrain      separate training vectors for k-means (0 skips k-means)
     * @param throughputSeconds time box per throughput cell
     */
    public record Config(int vectors, long seed, int kmeansTrain, int kmeansClusters, int kmeansIterations,
                         double throughputSeconds, Path cacheDir) {}

    private CodebookBenchmark() {}

    public static void run(Config c, PrintStream out) throws IOException {
        int k = 8, n = c.vectors();
        int cores = Runtime.getRuntime().availableProcessors();
        out.printf("bench-codebooks: %d i.i.d. N(0,1) %d-vectors (seed %d), %d cores, %s%n", n, k, c.seed(), cores,
                Runtime.version());
        float[] x = new SeededGaussian(c.seed()).gaussians(n * k);
        Parallel all = Parallel.common();

        // build times: cold (fresh cache directory) and from the cache
        out.println();
        out.println("polar codebook build (DACC: E8 candidates, greedy farthest point, chi_8 Lloyd-Max)");
        PolarCodebook[] polar = new PolarCodebook[2];
        int[] as = {14, 16};
        for (int i = 0; i < 2; i++) {
            PolarKey key = new PolarKey(k, as[i], 2, 0, PolarCodebook.Recipe.LATEST);
            CodebookCache cold = new CodebookCache(c.cacheDir().resolve("cold-" + System.nanoTime()));
            CodebookCache.StoredPolar built = cold.polar(key, all, Cancellation.NONE);
            long t0 = System.nanoTime();
            CodebookCache.StoredPolar loaded = new CodebookCache(cold.root()).polar(key, all, Cancellation.NONE);
            double loadS = (System.nanoTime() - t0) / 1e9;
            polar[i] = loaded.codebook();
            out.printf("  %-24s candidates %7d (|x|^2 <= %d)  cold build %6.2f s   from cache %6.3f s   (%s, %d bytes)%n",
                    key.id(), built.codebook().candidateCount(), built.codebook().candidateMaxNorm2(), built.buildSeconds(),
                    loadS, built.file().sha256().substring(0, 12), built.file().sizeBytes());
        }

        out.println();
        out.println("MSE per dimension (test vectors never seen in training)");
        out.printf("  %-46s %8s %10s %10s %8s%n", "method", "bits/dim", "MSE/dim", "2^-2R", "ratio");
        double[] lm = LloydMax.gaussian(4).levels();
        float[] lmf = new float[lm.length];
        for (int i = 0; i < lm.length; i++) lmf[i] = (float) lm[i];
        double e = 0;
        for (float v : x) {
            double d = v - lmf[ScalarReference.nearestLevel(lmf, v)];
            e += d * d;
        }
        row(out, "scalar Lloyd-Max 2-bit (theory " + String.format("%.5f", LloydMax.gaussian(4).mse()) + ")", 2.0, e / x.length);
        for (int i = 0; i < 2; i++) {
            PolarCodec codec = polar[i].codec();
            long t0 = System.nanoTime();
            int[] codes = codec.encode(x, n, PolarCodec.Search.PRUNED, all);
            double s = (System.nanoTime() - t0) / 1e9;
            row(out, String.format("polar a=%d b=2 (encode %.1f s)", as[i], s), (as[i] + 2) / 8.0, mse(x, codec.decode(codes, n)));
        }
        if (c.kmeansTrain() > 0) {
            float[] train = new SeededGaussian(c.seed() + 1).gaussians(c.kmeansTrain() * k);
            long t0 = System.nanoTime();
            WeightedKMeans.Result r = WeightedKMeans.fit(train, null, c.kmeansTrain(),
                    new WeightedKMeans.Spec(k, c.kmeansClusters(), c.seed(), c.kmeansIterations(), 0), all, Cancellation.NONE);
            double trainS = (System.nanoTime() - t0) / 1e9;
            KMeansCodec km = new KMeansCodec(k, r.centroids());
            int[] codes = km.encode(x, n, KMeansCodec.Search.KDTREE, all);
            row(out, String.format("k-means %d centroids (train %d, %d it, %.0f s)", c.kmeansClusters(), c.kmeansTrain(),
                    r.iterations(), trainS), io.quantmesh.core.codec.BitPacker.widthFor(c.kmeansClusters()) / 8.0, mse(x, km.decode(codes, n)));
            out.printf("  %-46s %8s %10.5f%n", "  (k-means training-set MSE/dim)", "", r.finalObjective() / k);
        }

        ablation(out, polar[0], x, n, all);
        throughput(out, polar, as, x, c.throughputSeconds());
    }

    private static void row(PrintStream out, String name, double bits, double mse) {
        double bound = Math.pow(2, -2 * bits);
        out.printf("  %-46s %8.3f %10.5f %10.5f %8.3f%n", name, bits, mse, bound, mse / bound);
    }

    private static double mse(float[] x, float[] y) {
        double e = 0;
        for (int i = 0; i < x.length; i++) {
            double d = x[i] - y[i];
            e += d * d;
        }
        return e / x.length;
    }

    /**
     * PCDVQ's ablation on one polar codebook: the direction by largest cosine or by Euclidean distance to the codewords
     * m_i d_j (an exact nearest-codeword search over the 2^(a+b) product codewords), and the magnitude as the level
     * nearest to the projection x.d or to the raw norm ||x||.
     */
    static void ablation(PrintStream out, PolarCodebook cb, float[] x, int n, Parallel all) {
        PolarCodec polar = cb.codec();
        int k = polar.k(), b = polar.magnitudeBits(), D = polar.directionCount(), M = polar.magnitudeCount();
        float[] prod = new float[D * M * k];
        for (int j = 0; j < D; j++) {
            for (int i = 0; i < M; i++) {
                for (int t = 0; t < k; t++) prod[((j << b) | i) * k + t] = polar.magnitude(i) * polar.direction(j, t);
            }
        }
        KMeansCodec euclid = new KMeansCodec(k, prod);
        int[] cosCodes = polar.encode(x, n, PolarCodec.Search.PRUNED, all);
        int[] eucCodes = euclid.encode(x, n, KMeansCodec.Search.KDTREE, all);
        out.println();
        out.printf("ablation: polar a=%d b=%d on the same %d vectors%n", Integer.numberOfTrailingZeros(D), b, n);
        out.printf("  %-10s %-22s %10s %14s %16s%n", "direction", "magnitude", "MSE/dim", "mean 1-cos", "dir != cosine");
        String[] dirName = {"cosine", "euclidean"};
        String[] magName = {"projection r cos(theta)", "raw norm r"};
        for (int dm = 0; dm < 2; dm++) {
            for (int mm = 0; mm < 2; mm++) {
                double err = 0, cosLoss = 0;
                long differ = 0;
                for (int v = 0; v < n; v++) {
                    int dir = dm == 0 ? polar.directionOf(cosCodes[v]) : eucCodes[v] >>> b;
                    if (dir != polar.directionOf(cosCodes[v])) differ++;
                    double r2 = 0;
                    for (int t = 0; t < k; t++) r2 += (double) x[v * k + t] * x[v * k + t];
                    float ref = mm == 0 ? polar.projection(x, v * k, dir) : (float) Math.sqrt(r2);
                    int mag = dm == 1 && mm == 0 ? eucCodes[v] & ((1 << b) - 1) : polar.nearestMagnitude(ref);
                    float m = polar.magnitude(mag);
                    double dot = 0;
                    for (int t = 0; t < k; t++) {
                        double q = m * polar.direction(dir, t);
                        double d = x[v * k + t] - q;
                        err += d * d;
                        dot += x[v * k + t] * polar.direction(dir, t);
                    }
                    cosLoss += r2 > 0 ? 1 - dot / Math.sqrt(r2) : 0;
                }
                out.printf("  %-10s %-22s %10.5f %14.5f %16d%n", dirName[dm], magName[mm], err / ((double) n * k), cosLoss / n, differ);
            }
        }
    }

    static void throughput(PrintStream out, PolarCodebook[] cbs, int[] as, float[] x, double seconds) {
        out.println();
        out.printf("polar encoder throughput, vectors/s (best of 3 interleaved rounds of %.1f s per cell)%n", seconds / 3);
        out.printf("  %-8s %-8s", "search", "threads");
        for (int a : as) out.printf(" %14s", "a=" + a);
        out.println();
        PolarCodec[] codecs = new PolarCodec[cbs.length];
        for (int i = 0; i < cbs.length; i++) codecs[i] = cbs[i].codec();
        int cores = Runtime.getRuntime().availableProcessors();
        try (Parallel one = Parallel.ofThreads(1)) {
            for (Parallel p : new Parallel[] {one, Parallel.common()}) {
                // the machine is shared: rounds interleave the three searches and each cell keeps its best round
                double[][] rate = new double[3][codecs.length];
                for (int round = 0; round < 3; round++) {
                    for (int i = 0; i < codecs.length; i++) {
                        for (PolarCodec.Search s : PolarCodec.Search.values()) {
                            rate[s.ordinal()][i] = Math.max(rate[s.ordinal()][i], rate(codecs[i], s, p, x, seconds / 3));
                        }
                    }
                }
                for (PolarCodec.Search s : PolarCodec.Search.values()) {
                    out.printf("  %-8s %-8s", s.name().toLowerCase(java.util.Locale.ROOT), p == one ? "1" : "all(" + cores + ")");
                    for (double r : rate[s.ordinal()]) out.printf(" %14.0f", r);
                    out.println();
                }
                out.printf("  %-17s", "vector/naive");
                for (int i = 0; i < codecs.length; i++) out.printf(" %13.1fx", rate[1][i] / rate[0][i]);
                out.println();
                out.printf("  %-17s", "pruned/naive");
                for (int i = 0; i < codecs.length; i++) out.printf(" %13.1fx", rate[2][i] / rate[0][i]);
                out.println();
                out.printf("  %-17s", "pruned/vector");
                for (int i = 0; i < codecs.length; i++) out.printf(" %13.1fx", rate[2][i] / rate[1][i]);
                out.println();
            }
        }
    }

    private static double rate(PolarCodec codec, PolarCodec.Search s, Parallel p, float[] x, double seconds) {
        int k = codec.k();
        int batch = s == PolarCodec.Search.NAIVE ? 2048 : s == PolarCodec.Search.VECTOR ? 8192 : 65536;
        int total = x.length / k;
        codec.encode(java.util.Arrays.copyOf(x, Math.min(batch, 1024) * k), Math.min(batch, 1024), s, p); // warm-up
        long done = 0, t0 = System.nanoTime();
        int off = 0;
        while (System.nanoTime() - t0 < seconds * 1e9) {
            if (off + batch > total) off = 0;
            codec.encode(java.util.Arrays.copyOfRange(x, off * k, (off + batch) * k), batch, s, p);
            off += batch;
            done += batch;
        }
        return done / ((System.nanoTime() - t0) / 1e9);
    }

    /**
     * The recipe decisions of docs/CODEBOOKS.md: MSE of polar codebooks (b = 2) built with other candidate sets and
     * with spherical k-means refinement, on {@code vectors} Gaussian test vectors.
     */
    public static void sweep(int a, int vectors, long seed, PrintStream out) {
        int k = 8;
        float[] x = new SeededGaussian(seed).gaussians(vectors * k);
        out.printf("recipe sweep: polar a=%d b=2, %d test vectors (seed %d)%n", a, vectors, seed);
        out.printf("  %-8s %-22s %10s %10s %10s%n", "factor", "refine (it x samples)", "candidates", "build s", "MSE/dim");
        int[][] recipes = {{1, 0, 0}, {2, 0, 0}, {4, 0, 0}, {8, 0, 0}, {1, 5, 32}, {1, 15, 64}};
        for (int[] r : recipes) {
            long t0 = System.nanoTime();
            PolarCodebook cb = PolarCodebook.build(new PolarKey(k, a, 2, 0, 1), new PolarCodebook.Recipe(1, r[0], r[1], r[2]),
                    Parallel.common(), Cancellation.NONE);
            double s = (System.nanoTime() - t0) / 1e9;
            PolarCodec c = cb.codec();
            out.printf("  %-8d %-22s %10d %10.1f %10.5f%n", r[0], r[1] == 0 ? "none" : r[1] + " x " + r[2], cb.candidateCount(), s,
                    mse(x, c.decode(c.encode(x, vectors), vectors)));
        }
    }
}
