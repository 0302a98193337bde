package io.quantmesh.quant;

import io.quantmesh.core.codec.KMeansCodec;

/**
 * Fits a weighted k-means codebook (VPTQ: weights = H_jj of each vector's column). Codebook construction belongs to
 * codebook-svc; the quant worker reaches it over gRPC ({@code BuildKMeansCodebook}), tests call its k-means directly.
 */
@FunctionalInterface
public interface CodebookFitter {
    /**
     * @param vectors  {@code count} vectors of {@code k} floats, back to back
     * @param weights  one weight per vector
     */
    KMeansCodec fit(float[] vectors, float[] weights, int count, int k, int clusters, long seed);
}
