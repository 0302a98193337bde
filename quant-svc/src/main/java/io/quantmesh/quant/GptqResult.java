package io.quantmesh.quant;

/**
 * What one run of {@link GptqLoop} produced for a rows×columns weight matrix.
 *
 * @param dequantized Q, rows×columns row-major in the ORIGINAL column order
 * @param codes       the quantizer's codes/parameters, columns in processing order
 * @param permutation processing position → original column (identity without act-order)
 * @param proxyLoss   tr((W−Q)·H·(W−Q)ᵀ) against the original, undamped H (NaN when no H was given or the
 *                    loss was switched off)
 */
public record GptqResult<C>(int rows, int columns, float[] dequantized, C codes, int[] permutation, double proxyLoss,
        Timings timings) {

    /**
     * Where the time went, in nanoseconds: {@code hessian} = validation, dead columns, act-order, damping and the
     * Cholesky factor of H⁻¹ (0 when a {@link PreparedHessian} was passed in); {@code prepare} = checking and
     * transposing W; {@code loop} = wall time of the banded loop, whose thread time splits into
     * {@code columnLoopCpu} (group fits, quantization, in-block updates) and {@code propagationCpu} (the block
     * products), summed over threads; {@code loss} = the proxy loss; {@code total} = all of it.
     */
    public record Timings(long hessian, long prepare, long loop, long columnLoopCpu, long propagationCpu, long loss,
            long total) {}
}
