package io.quantmesh.core.codec;

import io.quantmesh.core.parallel.Parallel;

/**
 * PCDVQ's polar codec: a k-vector v is coded as a direction index (the unit direction d with the largest cosine
 * to v, i.e. the largest v.d) and a magnitude index (the level m nearest to the projected length v.d = r cos θ,
 * which is what minimises ||v - m d|| for that direction). Reconstruction is m * d.
 *
 * <p>The combined code of a vector is {@code direction << magnitudeBits | magnitude}, {@link #codeBits()} wide.
 * Directions must be unit vectors (checked to 1e-3); magnitude levels ascending.
 */
public final class PolarCodec {
    /** How the direction is searched; all three return identical indices. */
    public enum Search {
        /** Plain Java scan of every direction (the reference twin). */
        NAIVE,
        /** Vector API scan of every direction. */
        VECTOR,
        /** Vector API scan of the sign-pattern cells that can still hold the winner ({@link SignPrunedSearch}). */
        PRUNED
    }

    private final int k;
    private final int n;
    private final float[] directions;
    private final float[] magnitudes;
    private final int directionBits;
    private final int magnitudeBits;
    private final CodewordTable whole;
    private final SignPrunedSearch pruned;

    public PolarCodec(int k, float[] directions, float[] magnitudes) {
        if (k < 1 || k > 16) throw new IllegalArgumentException("vector size k must be 1..16, got " + k);
        if (directions.length == 0 || directions.length % k != 0) {
            throw new IllegalArgumentException("directions length " + directions.length + " is not a positive multiple of k=" + k);
        }
        this.k = k;
        this.n = directions.length / k;
        if (magnitudes.length < 1 || magnitudes.length > 256) {
            throw new IllegalArgumentException("need 1..256 magnitude levels, got " + magnitudes.length);
        }
        for (int j = 0; j < n; j++) {
            double nn = 0;
            for (int i = 0; i < k; i++) {
                float v = directions[j * k + i];
                if (!Float.isFinite(v)) throw new IllegalArgumentException("direction " + j + " is not finite");
                nn += (double) v * v;
            }
            if (Math.abs(Math.sqrt(nn) - 1) > 1e-3) {
                throw new IllegalArgumentException("direction " + j + " has norm " + Math.sqrt(nn) + ", expected a unit vector");
            }
        }
        for (int i = 0; i < magnitudes.length; i++) {
            if (!Float.isFinite(magnitudes[i])) throw new IllegalArgumentException("magnitude level " + i + " is not finite");
            if (i > 0 && magnitudes[i] < magnitudes[i - 1]) throw new IllegalArgumentException("magnitude levels must ascend");
        }
        this.directions = directions.clone();
        this.magnitudes = magnitudes.clone();
        this.directionBits = BitPacker.widthFor(n);
        this.magnitudeBits = magnitudes.length == 1 ? 0 : BitPacker.widthFor(magnitudes.length);
        if (directionBits + magnitudeBits > BitPacker.MAX_WIDTH) {
            throw new IllegalArgumentException("code of " + (directionBits + magnitudeBits) + " bits exceeds " + BitPacker.MAX_WIDTH);
        }
        this.whole = CodewordTable.whole(this.directions, n, k);
        this.pruned = new SignPrunedSearch(this.directions, n, k);
    }

    public int k() {
        return k;
    }

    public int directionCount() {
        return n;
    }

    public int magnitudeCount() {
        return magnitudes.length;
    }

    public int directionBits() {
        return directionBits;
    }

    public int magnitudeBits() {
        return magnitudeBits;
    }

    public int codeBits() {
        return directionBits + magnitudeBits;
    }

    public float[] directions() {
        return directions.clone();
    }

    public float[] magnitudes() {
        return magnitudes.clone();
    }

    /** Coordinate i of direction j. */
    public float direction(int j, int i) {
        return directions[j * k + i];
    }

    public float magnitude(int level) {
        return magnitudes[level];
    }

    /** The projected length {@code x.d_j} with the canonical arithmetic (the value the searches rank by). */
    public float projection(float[] x, int xo, int j) {
        return ScalarReference.dot(x, xo, directions, j * k, k);
    }

    /** Index of the level nearest to {@code p}; the lower one on ties. */
    public int nearestMagnitude(float p) {
        return ScalarReference.nearestLevel(magnitudes, p);
    }

    public int code(int direction, int magnitude) {
        return direction << magnitudeBits | magnitude;
    }

    public int directionOf(int code) {
        return code >>> magnitudeBits;
    }

    public int magnitudeOf(int code) {
        return code & ((1 << magnitudeBits) - 1);
    }

    /** A per-thread direction searcher. */
    public DirectionFinder finder(Search search) {
        return switch (search) {
            case NAIVE -> (x, xo) -> ScalarReference.argmaxDot(directions, n, k, x, xo);
            case VECTOR -> {
                LaneBest lanes = new LaneBest();
                yield (x, xo) -> {
                    lanes.resetMax();
                    whole.maxDot(x, xo, 0, lanes, Float.NEGATIVE_INFINITY);
                    return lanes.winnerMax();
                };
            }
            case PRUNED -> {
                SignPrunedSearch.Searcher s = pruned.searcher();
                yield s::nearest;
            }
        };
    }

    /** Finds the direction of largest cosine for one query (not thread-safe objects inside; one per thread). */
    @FunctionalInterface
    public interface DirectionFinder {
        int nearest(float[] x, int xo);
    }

    /**
     * Encodes {@code count} vectors ({@code vectors[i*k..]}) into combined codes. Inputs must be finite.
     * Vectors are split into fixed chunks, so the codes do not depend on the thread count.
     */
    public int[] encode(float[] vectors, int count, Search search, Parallel parallel) {
        VectorBatch.checkFinite(vectors, count, k);
        int[] codes = new int[count];
        parallel.forChunks(count, 1024, (chunk, from, to) -> {
            DirectionFinder f = finder(search);
            for (int v = from; v < to; v++) {
                int dir = f.nearest(vectors, v * k);
                int mag = nearestMagnitude(projection(vectors, v * k, dir));
                codes[v] = code(dir, mag);
            }
        });
        return codes;
    }

    public int[] encode(float[] vectors, int count) {
        return encode(vectors, count, Search.PRUNED, Parallel.common());
    }

    /** Writes {@code magnitude(code) * direction(code)} for each code into {@code out[i*k..]}. */
    public float[] decode(int[] codes, int count) {
        float[] out = new float[Math.multiplyExact(count, k)];
        for (int v = 0; v < count; v++) {
            int c = codes[v];
            int dir = directionOf(c), mag = magnitudeOf(c);
            if (c < 0 || dir >= n || mag >= magnitudes.length) {
                throw new IllegalArgumentException("code " + c + " at " + v + " is outside this codebook");
            }
            float m = magnitudes[mag];
            for (int i = 0; i < k; i++) out[v * k + i] = m * directions[dir * k + i];
        }
        return out;
    }
}
