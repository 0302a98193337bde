package io.quantmesh.core.model.llama;

/**
 * Rotary position embedding in Hugging Face's rotate-half layout: within a head, element i pairs with element
 * i + headDim/2 and turns by pos·θ^(−2i/headDim). (Meta and llama2.c pair adjacent elements instead; importers
 * permute q/k rows so this one form serves every checkpoint.) Angles are computed in double, stored as float.
 */
final class RotaryEmbedding {
    private final int half;
    private final float[] cos; // [position][half]
    private final float[] sin;

    RotaryEmbedding(int headDim, int maxPositions, double theta) {
        this.half = headDim / 2;
        this.cos = new float[maxPositions * half];
        this.sin = new float[maxPositions * half];
        for (int i = 0; i < half; i++) {
            double invFreq = Math.pow(theta, -2.0 * i / headDim);
            for (int p = 0; p < maxPositions; p++) {
                double a = p * invFreq;
                cos[p * half + i] = (float) Math.cos(a);
                sin[p * half + i] = (float) Math.sin(a);
            }
        }
    }

    /** Rotates {@code heads} consecutive head vectors starting at {@code x[off]}, for position {@code pos}. */
    void apply(float[] x, int off, int heads, int pos) {
        int base = pos * half;
        for (int h = 0; h < heads; h++) {
            int o = off + h * 2 * half;
            for (int i = 0; i < half; i++) {
                float c = cos[base + i], s = sin[base + i];
                float x1 = x[o + i], x2 = x[o + i + half];
                x[o + i] = x1 * c - x2 * s;
                x[o + i + half] = x2 * c + x1 * s;
            }
        }
    }
}
