package io.quantmesh.codebook;

/**
 * The key of a universal polar codebook: vector size k, 2^a directions, 2^b magnitude levels, the seed, and the
 * recipe version ({@link PolarCodebook.Recipe}) that fixes every other build choice. The same key always rebuilds
 * the same bytes.
 */
public record PolarKey(int k, int a, int b, long seed, int version) {
    public PolarKey {
        if (k != 4 && k != 6 && k != 8) throw new IllegalArgumentException("polar vector size k must be 4, 6 or 8, got " + k);
        if (a < 4 || a > 16) throw new IllegalArgumentException("direction bits a must be 4..16, got " + a);
        if (b < 1 || b > 8) throw new IllegalArgumentException("magnitude bits b must be 1..8, got " + b);
        PolarCodebook.Recipe.forVersion(version); // throws for unknown versions
    }

    /** Bits per weight of the indices: (a + b) / k. */
    public double bitsPerWeight() {
        return (a + b) / (double) k;
    }

    /** The codebook id, also its artifact file stem: {@code polar-k8-a14-b2-s0-v1}. */
    public String id() {
        return "polar-k" + k + "-a" + a + "-b" + b + "-s" + seed + "-v" + version;
    }

    /** Parses {@link #id()}; throws IllegalArgumentException for anything else. */
    public static PolarKey parse(String id) {
        var m = java.util.regex.Pattern.compile("polar-k(\\d+)-a(\\d+)-b(\\d+)-s(-?\\d+)-v(\\d+)").matcher(id);
        if (!m.matches()) throw new IllegalArgumentException("not a polar codebook id: " + id);
        try {
            return new PolarKey(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)),
                    Long.parseLong(m.group(4)), Integer.parseInt(m.group(5)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a polar codebook id: " + id);
        }
    }
}
