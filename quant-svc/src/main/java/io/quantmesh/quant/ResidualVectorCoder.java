package io.quantmesh.quant;

import io.quantmesh.core.codec.KMeansCodec;

/**
 * VPTQ's residual VQ with greedy two-stage assignment: the nearest first-stage centroid c1, then the nearest
 * second-stage centroid c2 to the residual x − c1; decoded as c1 + c2. Code {@code c1 << bits(second) | c2}.
 */
public final class ResidualVectorCoder implements VectorCoder {
    private final KMeansVectorCoder first, second;
    private final int secondBits;
    private final ThreadLocal<float[]> scratch;

    public ResidualVectorCoder(KMeansCodec first, KMeansCodec second) {
        if (first.k() != second.k()) throw new IllegalArgumentException("stages have vector sizes " + first.k() + " and " + second.k());
        if (first.codeBits() + second.codeBits() > 31) throw new IllegalArgumentException("two-stage code does not fit an int");
        this.first = new KMeansVectorCoder(first);
        this.second = new KMeansVectorCoder(second);
        this.secondBits = second.codeBits();
        this.scratch = ThreadLocal.withInitial(() -> new float[2 * first.k()]);
    }

    @Override
    public int dimension() {
        return first.dimension();
    }

    @Override
    public int encode(float[] x, int off) {
        int k = dimension();
        float[] r = scratch.get();
        int c1 = first.encode(x, off);
        first.decode(c1, r, k);
        for (int i = 0; i < k; i++) r[i] = x[off + i] - r[k + i];
        return c1 << secondBits | second.encode(r, 0);
    }

    @Override
    public void decode(int code, float[] out, int off) {
        int k = dimension();
        float[] r = scratch.get();
        first.decode(code >>> secondBits, out, off);
        second.decode(code & ((1 << secondBits) - 1), r, 0);
        for (int i = 0; i < k; i++) out[off + i] += r[i];
    }
}
