package io.quantmesh.quant;

import io.quantmesh.core.codec.PolarCodec;

/**
 * PCDVQ steps 2 and 5 as a {@link VectorCoder}: a k-vector is coded by the direction of largest cosine (never
 * Euclidean distance) and the magnitude level nearest to its projected length r·cos θ on that direction; decoded as
 * magnitude × direction. The combined code is {@code direction << b | magnitude} ({@link PolarCodec#code}).
 * The loop calls it from several threads; each thread gets its own direction searcher.
 */
public final class PolarVectorCoder implements VectorCoder {
    private final PolarCodec codec;
    private final ThreadLocal<PolarCodec.DirectionFinder> finder;

    public PolarVectorCoder(PolarCodec codec, PolarCodec.Search search) {
        this.codec = codec;
        this.finder = ThreadLocal.withInitial(() -> codec.finder(search));
    }

    /** The sign-pruned Vector API search (identical indices to the others, fastest). */
    public PolarVectorCoder(PolarCodec codec) {
        this(codec, PolarCodec.Search.PRUNED);
    }

    public PolarCodec codec() {
        return codec;
    }

    @Override
    public int dimension() {
        return codec.k();
    }

    @Override
    public int encode(float[] x, int off) {
        int direction = finder.get().nearest(x, off);
        return codec.code(direction, codec.nearestMagnitude(codec.projection(x, off, direction)));
    }

    @Override
    public void decode(int code, float[] out, int off) {
        float m = codec.magnitude(codec.magnitudeOf(code));
        int d = codec.directionOf(code);
        for (int i = 0; i < codec.k(); i++) out[off + i] = m * codec.direction(d, i);
    }
}
