package io.quantmesh.quant;

import io.quantmesh.core.codec.KMeansCodec;

/** A k-means codebook as a {@link VectorCoder}: the nearest centroid (Euclidean), per-thread searchers. */
public final class KMeansVectorCoder implements VectorCoder {
    private final KMeansCodec codec;
    private final ThreadLocal<KMeansCodec.NearestFinder> finder;

    public KMeansVectorCoder(KMeansCodec codec) {
        this.codec = codec;
        this.finder = ThreadLocal.withInitial(() -> codec.finder(codec.defaultSearch()));
    }

    public KMeansCodec codec() {
        return codec;
    }

    @Override
    public int dimension() {
        return codec.k();
    }

    @Override
    public int encode(float[] x, int off) {
        return finder.get().nearest(x, off);
    }

    @Override
    public void decode(int code, float[] out, int off) {
        for (int i = 0; i < codec.k(); i++) out[off + i] = codec.centroid(code, i);
    }
}
