package io.quantmesh.core.model.llama;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An independent, naive transcription of llama2.c's run.c forward() for legacy-v0 checkpoints with a shared
 * classifier: its own file parsing, interleaved-pair RoPE on the raw (unpermuted) q/k weights, float math as in C.
 * The runtime must agree with it, which checks the reader, the q/k permutation and the forward pass together.
 */
final class Llama2cReferenceForward {
    final int dim, hidden, layers, heads, kvHeads, vocab, seqLen, hs, kvDim;
    final float[] emb, rmsAtt, wq, wk, wv, wo, rmsFfn, w1, w2, w3, rmsFinal;
    final float[] keyCache, valueCache;

    Llama2cReferenceForward(Path file) throws IOException {
        FloatBuffer f = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        ByteBuffer h = ByteBuffer.wrap(Files.readAllBytes(file), 0, 28).order(ByteOrder.LITTLE_ENDIAN);
        dim = h.getInt(); hidden = h.getInt(); layers = h.getInt(); heads = h.getInt(); kvHeads = h.getInt();
        vocab = h.getInt(); seqLen = h.getInt();
        if (vocab <= 0) throw new IllegalArgumentException("reference handles shared classifiers only");
        hs = dim / heads;
        kvDim = dim * kvHeads / heads;
        f.position(7);
        emb = take(f, vocab * dim); rmsAtt = take(f, layers * dim);
        wq = take(f, layers * dim * dim); wk = take(f, layers * dim * kvDim); wv = take(f, layers * dim * kvDim);
        wo = take(f, layers * dim * dim); rmsFfn = take(f, layers * dim);
        w1 = take(f, layers * dim * hidden); w2 = take(f, layers * hidden * dim); w3 = take(f, layers * dim * hidden);
        rmsFinal = take(f, dim);
        keyCache = new float[layers * seqLen * kvDim];
        valueCache = new float[layers * seqLen * kvDim];
    }

    private static float[] take(FloatBuffer f, int n) {
        float[] a = new float[n];
        f.get(a);
        return a;
    }

    static void rmsnorm(float[] o, float[] x, float[] w, int wo, int n) {
        float ss = 0f;
        for (int j = 0; j < n; j++) ss += x[j] * x[j];
        ss /= n;
        ss += 1e-5f;
        ss = 1.0f / (float) Math.sqrt(ss);
        for (int j = 0; j < n; j++) o[j] = w[wo + j] * (ss * x[j]);
    }

    static void matmul(float[] xout, float[] x, float[] w, int wo, int n, int d) {
        for (int i = 0; i < d; i++) {
            float val = 0f;
            for (int j = 0; j < n; j++) val += w[wo + i * n + j] * x[j];
            xout[i] = val;
        }
    }

    static void softmax(float[] x, int size) {
        float max = x[0];
        for (int i = 1; i < size; i++) if (x[i] > max) max = x[i];
        float sum = 0f;
        for (int i = 0; i < size; i++) {
            x[i] = (float) Math.exp(x[i] - max);
            sum += x[i];
        }
        for (int i = 0; i < size; i++) x[i] /= sum;
    }

    float[] forward(int token, int pos) {
        float[] x = new float[dim], xb = new float[dim], xb2 = new float[dim], hb = new float[hidden], hb2 = new float[hidden];
        float[] q = new float[dim], k = new float[kvDim], v = new float[kvDim], att = new float[seqLen];
        System.arraycopy(emb, token * dim, x, 0, dim);
        int kvMul = heads / kvHeads;
        for (int l = 0; l < layers; l++) {
            rmsnorm(xb, x, rmsAtt, l * dim, dim);
            matmul(q, xb, wq, l * dim * dim, dim, dim);
            matmul(k, xb, wk, l * dim * kvDim, dim, kvDim);
            matmul(v, xb, wv, l * dim * kvDim, dim, kvDim);
            for (int i = 0; i < dim; i += 2) {
                int headDim = i % hs;
                float freq = 1.0f / (float) Math.pow(10000.0f, headDim / (float) hs);
                float val = pos * freq;
                float fcr = (float) Math.cos(val), fci = (float) Math.sin(val);
                int rotn = i < kvDim ? 2 : 1;
                for (int r = 0; r < rotn; r++) {
                    float[] vec = r == 0 ? q : k;
                    float v0 = vec[i], v1 = vec[i + 1];
                    vec[i] = v0 * fcr - v1 * fci;
                    vec[i + 1] = v0 * fci + v1 * fcr;
                }
            }
            int loff = l * seqLen * kvDim;
            System.arraycopy(k, 0, keyCache, loff + pos * kvDim, kvDim);
            System.arraycopy(v, 0, valueCache, loff + pos * kvDim, kvDim);
            for (int h = 0; h < heads; h++) {
                for (int t = 0; t <= pos; t++) {
                    float score = 0f;
                    for (int i = 0; i < hs; i++) score += q[h * hs + i] * keyCache[loff + t * kvDim + (h / kvMul) * hs + i];
                    att[t] = score / (float) Math.sqrt(hs);
                }
                softmax(att, pos + 1);
                for (int i = 0; i < hs; i++) xb[h * hs + i] = 0f;
                for (int t = 0; t <= pos; t++) {
                    for (int i = 0; i < hs; i++) xb[h * hs + i] += att[t] * valueCache[loff + t * kvDim + (h / kvMul) * hs + i];
                }
            }
            matmul(xb2, xb, wo, l * dim * dim, dim, dim);
            for (int i = 0; i < dim; i++) x[i] += xb2[i];
            rmsnorm(xb, x, rmsFfn, l * dim, dim);
            matmul(hb, xb, w1, l * dim * hidden, dim, hidden);
            matmul(hb2, xb, w3, l * dim * hidden, dim, hidden);
            for (int i = 0; i < hidden; i++) {
                float val = hb[i];
                val *= 1.0f / (1.0f + (float) Math.exp(-val));
                hb[i] = val * hb2[i];
            }
            matmul(xb, hb, w2, l * dim * hidden, hidden, dim);
            for (int i = 0; i < dim; i++) x[i] += xb[i];
        }
        rmsnorm(x, x, rmsFinal, 0, dim);
        float[] logits = new float[vocab];
        matmul(logits, x, emb, 0, dim, vocab);
        return logits;
    }
}
