package io.quantmesh.core.model.llama;

import io.quantmesh.core.ops.Activations;
import io.quantmesh.core.ops.KernelPool;
import io.quantmesh.core.ops.Matrix;
import io.quantmesh.core.ops.VectorMatmul;

/**
 * A SwiGLU MLP, {@code down(silu(gate·x) ⊙ up·x)}: the dense Llama MLP, and every routed or shared expert of an
 * MoE (Mixtral names them w1 = gate, w3 = up, w2 = down).
 */
public record FeedForward(
        Matrix gateProj,   // [intermediate, hidden]
        Matrix upProj,     // [intermediate, hidden]
        Matrix downProj) { // [hidden, intermediate]

    public FeedForward {
        if (gateProj.rows() != upProj.rows() || gateProj.cols() != upProj.cols()
                || downProj.cols() != gateProj.rows() || downProj.rows() != gateProj.cols()) {
            throw new IllegalArgumentException("inconsistent SwiGLU shapes: gate " + gateProj.rows() + "x"
                    + gateProj.cols() + ", up " + upProj.rows() + "x" + upProj.cols() + ", down " + downProj.rows() + "x"
                    + downProj.cols());
        }
    }

    public int intermediateSize() {
        return gateProj.rows();
    }

    /**
     * {@code out[t] = FFN(in[t])} for n rows of width hidden. Returns the n rows of hidden activations
     * {@code silu(gate·x) ⊙ up·x} (the down projection's input), which calibration may read.
     */
    public float[] apply(float[] in, int n, float[] out, KernelPool pool) {
        int inter = intermediateSize();
        float[] gate = new float[n * inter], up = new float[n * inter];
        VectorMatmul.matmul(gateProj, in, n, gate, pool);
        VectorMatmul.matmul(upProj, in, n, up, pool);
        Activations.siluMul(gate, up, n * inter);
        VectorMatmul.matmul(downProj, gate, n, out, pool);
        return gate;
    }

    public long byteSize() {
        return gateProj.byteSize() + upProj.byteSize() + downProj.byteSize();
    }
}
