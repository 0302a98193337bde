package io.quantmesh.core.importer;

import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.model.llama.LlamaWeights;
import io.quantmesh.core.tensor.DType;
import io.quantmesh.core.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A llama2.c checkpoint read into Hugging Face names and layout (F32, q/k rows permuted to rotate-half), so the
 * raw file and its imported directory are the same weights.
 *
 * <p>Two layouts. Legacy v0 (e.g. stories260K): 7 int32 {@code dim, hidden_dim, n_layers, n_heads, n_kv_heads,
 * vocab_size, seq_len} (negative vocab = separate classifier), then fp32 tok_emb, rms_att, wq, wk, wv, wo, rms_ffn,
 * w1, w2, w3, rms_final, freq_cis_real, freq_cis_imag, [wcls]. Version 1 (export.py --version 1): magic "ak42"
 * (uint32 0x616b3432), int32 version = 1, the 7 ints, a shared-classifier byte, zero padding to 256 bytes, then
 * rms_att, rms_ffn, rms_final, tok_emb, wq, wk, wv, wo, w1, w2, w3, [wcls]. Each per-layer group is all layers
 * back to back. The file length must be exactly what the header implies, checked before any weight is read.
 */
public final class Llama2cCheckpoint {
    public static final int MAGIC = 0x616b3432;
    private static final int V1_HEADER_BYTES = 256;
    private static final int MAX_DIM = 1 << 20;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final LlamaConfig config;
    private final int version;
    private final Map<String, Tensor> tensors;

    private Llama2cCheckpoint(LlamaConfig config, int version, Map<String, Tensor> tensors) {
        this.config = config;
        this.version = version;
        this.tensors = tensors;
    }

    /** rms_norm_eps 1e-5 and rope_theta 10000: what llama2.c's run.c hard-codes. */
    public LlamaConfig config() {
        return config;
    }

    /** 0 for the legacy header, 1 for "ak42" version 1. */
    public int version() {
        return version;
    }

    /** HF name → F32 tensor, in {@link LlamaWeights#specs} order. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    public LlamaWeights weights() {
        return LlamaWeights.load(config, tensors::get);
    }

    public static Llama2cCheckpoint read(Path file) throws IOException {
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 28) throw new IOException(file + ": " + size + " bytes is too short for a llama2.c checkpoint");
            MemorySegment m = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            int version = m.get(I32, 0) == MAGIC ? m.get(I32, 4) : 0;
            if (version != 0 && version != 1) {
                throw new IOException(file + ": llama2.c export version " + version + " is not supported (only legacy"
                        + " v0 and fp32 version 1; version 2 is the int8 Q8_0 export)");
            }
            long hdr = version == 0 ? 0 : 8;
            int[] p = new int[7];
            for (int i = 0; i < 7; i++) p[i] = m.get(I32, hdr + 4L * i);
            boolean shared = version == 0 ? p[5] > 0 : m.get(ValueLayout.JAVA_BYTE, 36) != 0;
            Shape s = Shape.validate(file, p, version == 0 ? Math.abs(p[5]) : p[5], shared);
            long dataStart = version == 0 ? 28 : V1_HEADER_BYTES;
            long expected = Math.addExact(dataStart, Math.multiplyExact(4L, s.floats(version)));
            if (size != expected) {
                throw new IOException(file + ": " + size + " bytes, but the header (" + s + ", version " + version
                        + ") implies " + expected);
            }
            return new Llama2cCheckpoint(s.config, version,
                    Collections.unmodifiableMap(new Reader(m, dataStart, s, version).read()));
        } catch (ArithmeticException e) {
            throw new IOException(file + ": header sizes overflow: " + e.getMessage());
        }
    }

    /** Header values, validated. */
    private record Shape(int dim, int hidden, int layers, int heads, int kvHeads, int vocab, int seqLen, boolean shared,
                         LlamaConfig config) {
        static Shape validate(Path file, int[] p, int vocab, boolean shared) throws IOException {
            String[] names = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
            int[] v = {p[0], p[1], p[2], p[3], p[4], vocab, p[6]};
            for (int i = 0; i < 7; i++) {
                if (v[i] <= 0 || v[i] > MAX_DIM) {
                    throw new IOException(file + ": header " + names[i] + " = " + v[i] + " is not plausible;"
                            + " not a llama2.c checkpoint?");
                }
            }
            try {
                LlamaConfig c = new LlamaConfig(p[0], p[1], p[2], p[3], p[4], 1e-5, 10000.0, vocab, p[6], shared, 1, 2);
                return new Shape(p[0], p[1], p[2], p[3], p[4], vocab, p[6], shared, c);
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ": " + e.getMessage());
            }
        }

        long kvDim() {
            return (long) dim / heads * kvHeads;
        }

        long floats(int version) {
            long d = dim, l = layers;
            long perLayer = 2 * d                                  // rms_att, rms_ffn
                    + d * d + 2 * kvDim() * d + d * d              // wq, wk, wv, wo
                    + 3 * (long) hidden * d;                       // w1, w2, w3
            long n = Math.addExact(Math.multiplyExact(l, perLayer), Math.multiplyExact((long) vocab, d) + d);
            if (version == 0) n = Math.addExact(n, (long) seqLen * (d / heads)); // freq_cis_real + imag: 2 × seq × hd/2
            if (!shared) n = Math.addExact(n, Math.multiplyExact((long) vocab, d));
            return n;
        }

        @Override
        public String toString() {
            return "dim " + dim + ", hidden_dim " + hidden + ", n_layers " + layers + ", n_heads " + heads
                    + ", n_kv_heads " + kvHeads + ", vocab " + vocab + (shared ? "" : " (own classifier)")
                    + ", seq_len " + seqLen;
        }
    }

    /** Walks the data section in the file's order and files each tensor under its HF name. */
    private static final class Reader {
        private final MemorySegment m;
        private final Shape s;
        private final int version;
        private long off;
        private final Map<String, Tensor> byName = new LinkedHashMap<>();

        Reader(MemorySegment m, long dataStart, Shape s, int version) {
            this.m = m;
            this.off = dataStart;
            this.s = s;
            this.version = version;
        }

        Map<String, Tensor> read() {
            int d = s.dim, h = s.hidden, kv = (int) s.kvDim();
            if (version == 0) {
                take(LlamaWeights.EMBED, s.vocab, d);
                perLayer("input_layernorm.weight", d);
                perLayer("self_attn.q_proj.weight", d, d);
                perLayer("self_attn.k_proj.weight", kv, d);
                perLayer("self_attn.v_proj.weight", kv, d);
                perLayer("self_attn.o_proj.weight", d, d);
                perLayer("post_attention_layernorm.weight", d);
                perLayer("mlp.gate_proj.weight", h, d);   // w1
                perLayer("mlp.down_proj.weight", d, h);   // w2
                perLayer("mlp.up_proj.weight", h, d);     // w3
                take(LlamaWeights.NORM, d);
                off += 4L * s.seqLen * (d / s.heads);     // freq_cis_real, freq_cis_imag: recomputed from rope_theta
            } else {
                perLayer("input_layernorm.weight", d);
                perLayer("post_attention_layernorm.weight", d);
                take(LlamaWeights.NORM, d);
                take(LlamaWeights.EMBED, s.vocab, d);
                perLayer("self_attn.q_proj.weight", d, d);
                perLayer("self_attn.k_proj.weight", kv, d);
                perLayer("self_attn.v_proj.weight", kv, d);
                perLayer("self_attn.o_proj.weight", d, d);
                perLayer("mlp.gate_proj.weight", h, d);
                perLayer("mlp.down_proj.weight", d, h);
                perLayer("mlp.up_proj.weight", h, d);
            }
            if (!s.shared) take(LlamaWeights.LM_HEAD, s.vocab, d);
            if (off != m.byteSize()) throw new IllegalStateException("read " + off + " of " + m.byteSize() + " bytes");
            for (int l = 0; l < s.layers; l++) {
                rename(LlamaWeights.layer(l, "self_attn.q_proj.weight"), s.heads);
                rename(LlamaWeights.layer(l, "self_attn.k_proj.weight"), s.kvHeads);
            }
            Map<String, Tensor> ordered = new LinkedHashMap<>();
            for (var spec : LlamaWeights.specs(s.config, DType.F32)) ordered.put(spec.name(), byName.get(spec.name()));
            return ordered;
        }

        private void rename(String name, int heads) {
            byName.put(name, RotaryPermutation.interleavedToHalves(byName.get(name), heads));
        }

        private void perLayer(String suffix, long... shape) {
            for (int l = 0; l < s.layers; l++) take(LlamaWeights.layer(l, suffix), shape);
        }

        private void take(String name, long... shape) {
            Tensor t = Tensor.zeros(DType.F32, shape);
            long bytes = t.byteSize();
            MemorySegment.copy(m, off, t.segment(), 0, bytes);
            off += bytes;
            byName.put(name, t);
        }
    }
}
