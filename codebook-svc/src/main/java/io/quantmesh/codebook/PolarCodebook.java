package io.quantmesh.codebook;

import io.quantmesh.core.codec.PolarCodec;
import io.quantmesh.core.parallel.Parallel;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PCDVQ's Distribution-Aligned Codebook Construction (DACC): a direction codebook of 2^a unit vectors picked from
 * lattice directions by greedy farthest-point selection under cosine ({@link LatticeCandidates},
 * {@link DirectionSelector}), optionally refined by spherical k-means on sampled source directions
 * ({@link SphericalKMeans}), and a magnitude codebook of 2^b Lloyd-Max levels for the χ_k law ({@link ChiLloydMax}).
 *
 * <p>A universal codebook depends only on its {@link PolarKey}; every build choice not in the key is fixed by the
 * key's recipe version, and every step is seeded and thread-count independent, so a key rebuilds identical bytes.
 */
public final class PolarCodebook {
    /**
     * The build choices a version pins. candidateFactor: candidates are the smallest whole set of lattice shells with
     * at least factor * 2^a distinct directions. refineIterations / refineSamplesPerDirection: spherical k-means on
     * that many N(0, I_k) samples per direction (0 = no refinement).
     */
    public record Recipe(int version, int candidateFactor, int refineIterations, int refineSamplesPerDirection) {
        public static final int LATEST = 1;

        public static Recipe forVersion(int version) {
            return switch (version) {
                case 1 -> new Recipe(1, 1, 0, 0); // measured best: larger candidate sets or refinement gain < 0.5% MSE
                default -> throw new IllegalArgumentException("unknown polar codebook version " + version + " (known: 1)");
            };
        }
    }

    private final PolarKey key;
    private final Recipe recipe;
    private final int candidateCount;
    private final int candidateMaxNorm2;
    private final int[] latticePoints;
    private final float[] directions;
    private final float[] magnitudes;
    private final String refinedOn;

    private PolarCodebook(PolarKey key, Recipe recipe, int candidateCount, int candidateMaxNorm2, int[] latticePoints,
                          float[] directions, float[] magnitudes, String refinedOn) {
        this.key = key;
        this.recipe = recipe;
        this.candidateCount = candidateCount;
        this.candidateMaxNorm2 = candidateMaxNorm2;
        this.latticePoints = latticePoints;
        this.directions = directions;
        this.magnitudes = magnitudes;
        this.refinedOn = refinedOn;
    }

    /** Builds the universal codebook of {@code key} with its version's recipe. */
    public static PolarCodebook build(PolarKey key, Parallel parallel, Cancellation cancel) {
        return build(key, Recipe.forVersion(key.version()), parallel, cancel);
    }

    /** Builds with an explicit recipe (experiments; the artifact records the recipe either way). */
    public static PolarCodebook build(PolarKey key, Recipe recipe, Parallel parallel, Cancellation cancel) {
        int k = key.k(), m = 1 << key.a();
        LatticeCandidates cands = LatticeCandidates.atLeast(k, recipe.candidateFactor() * m);
        cancel.check();
        SeededGaussian rnd = new SeededGaussian(key.seed());
        int start = rnd.nextInt(cands.count());
        int[] picks = DirectionSelector.select(cands.directions(), cands.count(), k, m, start, parallel, cancel);
        int[] allPoints = cands.points();
        float[] allDirs = cands.directions();
        int[] points = new int[m * k];
        float[] dirs = new float[m * k];
        for (int j = 0; j < m; j++) {
            System.arraycopy(allPoints, picks[j] * k, points, j * k, k);
            System.arraycopy(allDirs, picks[j] * k, dirs, j * k, k);
        }
        if (recipe.refineIterations() > 0) {
            float[] samples = rnd.gaussians(Math.multiplyExact(m * k, recipe.refineSamplesPerDirection()));
            dirs = SphericalKMeans.refine(dirs, k, samples, recipe.refineIterations(), parallel, cancel).directions();
        }
        float[] mags = ChiLloydMax.levels(k, key.b());
        return new PolarCodebook(key, recipe, cands.count(), cands.maxNorm2(), points, dirs, mags,
                recipe.refineIterations() > 0 ? "gaussian" : "");
    }

    /**
     * A codebook refined on a layer's own vectors (not universal): spherical k-means from this codebook's directions.
     * {@code sourceSha256} names the samples in the metadata.
     */
    public PolarCodebook refinedOn(float[] samples, int iterations, String sourceSha256, Parallel parallel, Cancellation cancel) {
        float[] dirs = SphericalKMeans.refine(directions, key.k(), samples, iterations, parallel, cancel).directions();
        return new PolarCodebook(key, recipe, candidateCount, candidateMaxNorm2, latticePoints, dirs, magnitudes,
                "sha256:" + sourceSha256 + ",iterations:" + iterations);
    }

    /** Restores a codebook from stored tensors (artifact load); the codec validates them. */
    public static PolarCodebook restore(PolarKey key, Recipe recipe, int candidateCount, int candidateMaxNorm2,
                                        int[] latticePoints, float[] directions, float[] magnitudes, String refinedOn) {
        new PolarCodec(key.k(), directions, magnitudes);
        return new PolarCodebook(key, recipe, candidateCount, candidateMaxNorm2, latticePoints, directions, magnitudes, refinedOn);
    }

    public PolarKey key() {
        return key;
    }

    public Recipe recipe() {
        return recipe;
    }

    public int candidateCount() {
        return candidateCount;
    }

    public int candidateMaxNorm2() {
        return candidateMaxNorm2;
    }

    /** Doubled lattice coordinates (2x) of the picked points, 2^a x k, in pick order. */
    public int[] latticePoints() {
        return latticePoints.clone();
    }

    /** Unit directions, 2^a x k (the lattice directions, or the refined ones). */
    public float[] directions() {
        return directions.clone();
    }

    public float[] magnitudes() {
        return magnitudes.clone();
    }

    /** "" for a universal unrefined codebook, "gaussian" when the recipe refines, else a description of the source. */
    public String refinedOn() {
        return refinedOn;
    }

    /** A universal codebook is fully determined by its key. */
    public boolean universal() {
        return refinedOn.isEmpty() || refinedOn.equals("gaussian");
    }

    public PolarCodec codec() {
        return new PolarCodec(key.k(), directions, magnitudes);
    }

    /** The build parameters as artifact metadata (all deterministic: no timestamps). */
    public Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("quantmesh.codebook.kind", "polar");
        m.put("quantmesh.codebook.id", key.id());
        m.put("k", Integer.toString(key.k()));
        m.put("a", Integer.toString(key.a()));
        m.put("b", Integer.toString(key.b()));
        m.put("seed", Long.toString(key.seed()));
        m.put("version", Integer.toString(key.version()));
        m.put("lattice", LatticeCandidates.latticeName(key.k()));
        m.put("candidate_factor", Integer.toString(recipe.candidateFactor()));
        m.put("candidate_count", Integer.toString(candidateCount));
        m.put("candidate_max_norm2", Integer.toString(candidateMaxNorm2));
        m.put("selection", "greedy-farthest-point-cosine");
        m.put("refine_iterations", Integer.toString(recipe.refineIterations()));
        m.put("refine_samples_per_direction", Integer.toString(recipe.refineSamplesPerDirection()));
        m.put("refined_on", refinedOn);
        m.put("magnitude_law", "chi" + key.k() + "-lloyd-max");
        m.put("bits_per_weight", Double.toString(key.bitsPerWeight()));
        return m;
    }
}
