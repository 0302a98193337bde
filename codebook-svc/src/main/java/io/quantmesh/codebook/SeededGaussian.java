package io.quantmesh.codebook;

/**
 * A fully specified random source for everything a codebook build samples: SplitMix64 for the bits, doubles from
 * the top 53 bits, and standard normals by the Box-Muller transform with StrictMath. Unlike the JDK generators'
 * Gaussian methods its output is pinned by this code alone, so a codebook key rebuilds the same bytes on any JVM.
 */
public final class SeededGaussian {
    private long state;
    private double spare;
    private boolean hasSpare;

    public SeededGaussian(long seed) {
        this.state = seed;
    }

    public long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, 1). */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1p-53;
    }

    /** Uniform in [0, bound). */
    public int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("bound must be positive");
        return (int) ((nextLong() >>> 33) * bound >>> 31);
    }

    public double nextGaussian() {
        if (hasSpare) {
            hasSpare = false;
            return spare;
        }
        double u = 1.0 - nextDouble(); // (0, 1]: log is finite
        double v = nextDouble();
        double r = StrictMath.sqrt(-2 * StrictMath.log(u));
        double a = 2 * StrictMath.PI * v;
        spare = r * StrictMath.sin(a);
        hasSpare = true;
        return r * StrictMath.cos(a);
    }

    /** {@code count} floats drawn i.i.d. from N(0, 1). */
    public float[] gaussians(int count) {
        float[] out = new float[count];
        for (int i = 0; i < count; i++) out[i] = (float) nextGaussian();
        return out;
    }
}
