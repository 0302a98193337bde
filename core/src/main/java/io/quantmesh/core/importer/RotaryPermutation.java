package io.quantmesh.core.importer;

import io.quantmesh.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/**
 * Reorders the rows of q_proj / k_proj between the two rotary layouts. Meta and llama2.c rotate adjacent pairs
 * (rows 2i, 2i+1 of a head); Hugging Face rotates halves (rows i, i + headDim/2). Per head, HF row
 * {@code j·headDim/2 + i} is interleaved row {@code 2i + j} — the permutation of HF's convert_llama_weights_to_hf.
 */
public final class RotaryPermutation {
    private RotaryPermutation() {}

    /** Interleaved (llama2.c / Meta) rows → rotate-half (HF) rows, for a [heads·headDim, cols] matrix. */
    public static Tensor interleavedToHalves(Tensor w, int heads) {
        return permute(w, heads, true);
    }

    /** The inverse: rotate-half (HF) rows → interleaved rows. */
    public static Tensor halvesToInterleaved(Tensor w, int heads) {
        return permute(w, heads, false);
    }

    private static Tensor permute(Tensor w, int heads, boolean toHalves) {
        if (w.rank() != 2 || w.dim(0) % heads != 0 || (w.dim(0) / heads) % 2 != 0) {
            throw new IllegalArgumentException("cannot permute " + w + " for " + heads + " heads (need rows = heads × even head dim)");
        }
        int headDim = (int) (w.dim(0) / heads), half = headDim / 2;
        long rowBytes = w.dim(1) * w.dtype().byteSize();
        Tensor out = Tensor.zeros(w.dtype(), w.shape());
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < 2; j++) {
                    long halvesRow = (long) h * headDim + (long) j * half + i;
                    long interleavedRow = (long) h * headDim + 2L * i + j;
                    long src = toHalves ? interleavedRow : halvesRow, dst = toHalves ? halvesRow : interleavedRow;
                    MemorySegment.copy(w.segment(), src * rowBytes, out.segment(), dst * rowBytes, rowBytes);
                }
            }
        }
        return out;
    }
}
