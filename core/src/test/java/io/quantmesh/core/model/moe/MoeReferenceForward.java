package io.quantmesh.core.model.moe;

import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.model.llama.LlamaWeights;
import io.quantmesh.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * A naive, independent transcription of the Hugging Face forward pass of the three MoE styles, one token at a
 * time, all in double: RMSNorm, q/k/v (+ bias), rotate-half RoPE, GQA attention over a growing cache, then dense
 * MLP or softmax → top-k (stable sort) → optional renormalisation → Σ w·expert + shared (sigmoid-gated for
 * Qwen2-MoE). It shares only tensor names with the runtime.
 */
final class MoeReferenceForward {
    private final MoeConfig m;
    private final LlamaConfig c;
    private final Map<String, Tensor> t;
    private final List<List<double[]>> keys = new ArrayList<>(), values = new ArrayList<>();

    MoeReferenceForward(MoeConfig m, Map<String, Tensor> tensors) {
        this.m = m;
        this.c = m.base();
        this.t = tensors;
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            keys.add(new ArrayList<>());
            values.add(new ArrayList<>());
        }
    }

    private double[] vec(String name) {
        float[] f = t.get(name).toFloatArray();
        return IntStream.range(0, f.length).mapToDouble(i -> f[i]).toArray();
    }

    /** W x for W [out, in] stored row-major. */
    private double[] mul(String name, double[] x) {
        Tensor w = t.get(name);
        int out = (int) w.dim(0), in = (int) w.dim(1);
        double[] y = new double[out];
        for (int r = 0; r < out; r++) {
            double s = 0;
            for (int k = 0; k < in; k++) s += w.getFloat((long) r * in + k) * x[k];
            y[r] = s;
        }
        return y;
    }

    private double[] rmsnorm(double[] x, String weight) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double inv = 1 / Math.sqrt(ss / x.length + c.rmsNormEps());
        double[] w = vec(weight), y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] * inv * w[i];
        return y;
    }

    private void rope(double[] v, int heads, int pos) {
        int hd = c.headDim(), half = hd / 2;
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                double a = pos * Math.pow(c.ropeTheta(), -2.0 * i / hd);
                double x1 = v[h * hd + i], x2 = v[h * hd + i + half];
                v[h * hd + i] = x1 * Math.cos(a) - x2 * Math.sin(a);
                v[h * hd + i + half] = x2 * Math.cos(a) + x1 * Math.sin(a);
            }
        }
    }

    private double[] swiglu(double[] x, String gate, String up, String down) {
        double[] g = mul(gate, x), u = mul(up, x);
        for (int i = 0; i < g.length; i++) g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
        return mul(down, g);
    }

    private static void add(double[] y, double[] x, double s) {
        for (int i = 0; i < y.length; i++) y[i] += s * x[i];
    }

    float[] forward(int token, int pos) {
        int dim = c.hiddenSize(), hd = c.headDim(), heads = c.numAttentionHeads(), group = heads / c.numKeyValueHeads();
        double[] x = new double[dim];
        for (int i = 0; i < dim; i++) x[i] = t.get(LlamaWeights.EMBED).getFloat((long) token * dim + i);
        MoeStyle st = m.style();
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            double[] xn = rmsnorm(x, p + "input_layernorm.weight");
            double[] q = mul(p + "self_attn.q_proj.weight", xn), k = mul(p + "self_attn.k_proj.weight", xn);
            double[] v = mul(p + "self_attn.v_proj.weight", xn);
            if (m.qkvBias()) {
                add(q, vec(p + "self_attn.q_proj.bias"), 1);
                add(k, vec(p + "self_attn.k_proj.bias"), 1);
                add(v, vec(p + "self_attn.v_proj.bias"), 1);
            }
            rope(q, heads, pos);
            rope(k, c.numKeyValueHeads(), pos);
            keys.get(l).add(k);
            values.get(l).add(v);
            double[] att = new double[heads * hd];
            for (int h = 0; h < heads; h++) {
                int kv = h / group;
                double[] s = new double[pos + 1];
                double max = Double.NEGATIVE_INFINITY, z = 0;
                for (int j = 0; j <= pos; j++) {
                    double d = 0;
                    for (int i = 0; i < hd; i++) d += q[h * hd + i] * keys.get(l).get(j)[kv * hd + i];
                    s[j] = d / Math.sqrt(hd);
                    max = Math.max(max, s[j]);
                }
                for (int j = 0; j <= pos; j++) z += s[j] = Math.exp(s[j] - max);
                for (int j = 0; j <= pos; j++) {
                    for (int i = 0; i < hd; i++) att[h * hd + i] += s[j] / z * values.get(l).get(j)[kv * hd + i];
                }
            }
            add(x, mul(p + "self_attn.o_proj.weight", att), 1);
            xn = rmsnorm(x, p + "post_attention_layernorm.weight");
            if (!m.isMoeLayer(l)) {
                add(x, swiglu(xn, p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight", p + "mlp.down_proj.weight"), 1);
                continue;
            }
            double[] logits = mul(st.router(l), xn), prob = new double[logits.length];
            double max = Double.NEGATIVE_INFINITY, z = 0;
            for (double g : logits) max = Math.max(max, g);
            for (int e = 0; e < prob.length; e++) z += prob[e] = Math.exp(logits[e] - max);
            for (int e = 0; e < prob.length; e++) prob[e] /= z;
            int[] top = IntStream.range(0, prob.length).boxed()
                    .sorted(Comparator.<Integer>comparingDouble(e -> -prob[e]).thenComparingInt(e -> e))
                    .limit(m.topK()).mapToInt(Integer::intValue).toArray();
            double sum = 0;
            for (int e : top) sum += prob[e];
            boolean renorm = st == MoeStyle.MIXTRAL || m.normTopKProb() && (st != MoeStyle.DEEPSEEK_MOE || m.topK() > 1);
            double[] y = new double[dim];
            for (int e : top) {
                double w = renorm ? prob[e] / sum : prob[e];
                add(y, swiglu(xn, st.expert(l, e, "gate"), st.expert(l, e, "up"), st.expert(l, e, "down")), w);
            }
            if (m.hasSharedExpert()) {
                double s = 1;
                if (st == MoeStyle.QWEN2_MOE) s = 1 / (1 + Math.exp(-mul(st.sharedGate(l), xn)[0]));
                add(y, swiglu(xn, st.shared(l, "gate"), st.shared(l, "up"), st.shared(l, "down")), s);
            }
            add(x, y, 1);
        }
        double[] out = mul(c.tieWordEmbeddings() ? LlamaWeights.EMBED : LlamaWeights.LM_HEAD,
                rmsnorm(x, LlamaWeights.NORM));
        float[] f = new float[out.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) out[i];
        return f;
    }
}
