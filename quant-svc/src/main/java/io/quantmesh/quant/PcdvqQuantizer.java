package io.quantmesh.quant;

import io.quantmesh.core.codec.PolarCodec;

/**
 * PCDVQ (DESIGN §3, the headline method) for one linear layer:
 * <ol>
 *   <li>Gaussianise ({@link HadamardRotation}): W' = T_o·W·T_iᵀ / s, H' = T_i·H·T_iᵀ, s = RMS(W);</li>
 *   <li>run the GPTQ loop on (W', H') with {@link PolarVectorCoder}s in VPTQ's channel-independent layout: a vector is
 *       k consecutive rows of one column, coded as direction (max cosine, 2^a DACC codewords) and magnitude (2^b χ_k
 *       Lloyd-Max levels); the codebooks are universal, built for N(0, 1) entries, which the rotation provides;</li>
 *   <li>restore Q = T_oᵀ·(s·Q')·T_i.</li>
 * </ol>
 * Index bits per weight (a + b)/k; stored beside them: s, the two sign vectors (or their seed) and the codebook id.
 * The quantizer has no group parameters, so the loop may use the cheaper {@link PreparedHessian.Feedback#LDL}.
 */
public final class PcdvqQuantizer {
    private final PolarVectorCoder coder;
    private final VectorColumnQuantizer columns;

    public PcdvqQuantizer(PolarCodec codec) {
        this.coder = new PolarVectorCoder(codec);
        this.columns = new VectorColumnQuantizer(coder);
    }

    public PolarCodec codec() {
        return coder.codec();
    }

    /** Bits per weight of the indices alone. */
    public double indexBitsPerWeight() {
        return codec().codeBits() / (double) codec().k();
    }

    /**
     * @param seed the layer's rotation seed (a redelivered task must pass the same one)
     * @return Q in the original space; codes, permutation and timings of the rotated-space loop; the proxy loss
     *     against the original H (= s²·the rotated-space loss: T is orthogonal)
     */
    public Result quantize(float[] w, int rows, int cols, double[] h, long seed, GptqLoop loop) {
        long t0 = System.nanoTime();
        HadamardRotation rotation = HadamardRotation.of(w, rows, cols, seed);
        float[] wr = rotation.rotateWeights(w);
        double[] hr = rotation.rotateHessian(h);
        long t1 = System.nanoTime();
        GptqResult<VectorCodes> rotated = loop.quantize(wr, rows, cols, hr, columns);
        long t2 = System.nanoTime();
        float[] q = rotation.restoreWeights(rotated.dequantized());
        double s2 = (double) rotation.scale() * rotation.scale();
        long t3 = System.nanoTime();
        return new Result(q, rotated.codes(), rotation, rotated.permutation(), s2 * rotated.proxyLoss(), rotated.timings(),
                (t1 - t0) + (t3 - t2));
    }

    /** Q from stored codes: decode in the rotated space (processing order), un-permute, restore. */
    public float[] dequantize(Result r) {
        VectorCodes codes = r.codes();
        float[] processing = codes.dequantize(coder);
        int rows = codes.rows(), cols = codes.columns();
        float[] rotated = new float[processing.length];
        for (int row = 0; row < rows; row++) {
            for (int p = 0; p < cols; p++) rotated[row * cols + r.permutation()[p]] = processing[row * cols + p];
        }
        return r.rotation().restoreWeights(rotated);
    }

    /**
     * @param dequantized Q in the original space, rows×cols
     * @param rotateNanos time spent rotating W and H and restoring Q
     */
    public record Result(float[] dequantized, VectorCodes codes, HadamardRotation rotation, int[] permutation,
            double proxyLoss, GptqResult.Timings loopTimings, long rotateNanos) {}
}
