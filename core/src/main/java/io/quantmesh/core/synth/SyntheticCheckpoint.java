package io.quantmesh.core.synth;

import io.quantmesh.core.Json;
import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.io.Durable;
import io.quantmesh.core.model.llama.LlamaWeights;
import io.quantmesh.core.ops.KernelPool;
import io.quantmesh.core.safetensors.SafetensorsWriter;
import io.quantmesh.core.safetensors.TensorSpec;
import io.quantmesh.core.tensor.DType;
import io.quantmesh.core.tensor.Half;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;
import java.util.regex.Pattern;

/**
 * Random-weight Llama checkpoints at real shapes, for speed work only (never for quality): weights N(0, 0.02²)
 * as HF initialises them, norms 1. Tensors are generated and streamed one at a time through off-heap buffers,
 * so a 1.1B-parameter checkpoint never sits in the Java heap. Every block of 2^16 elements has its own RNG
 * seeded from (seed, tensor, block): the bytes depend on the seed only, not on the thread count.
 */
public final class SyntheticCheckpoint {
    private SyntheticCheckpoint() {}

    private static final int BLOCK = 1 << 16;
    private static final double INIT_STD = 0.02;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** A named real architecture. */
    public record Preset(String name, LlamaConfig config, String description) {}

    public static final List<Preset> PRESETS = List.of(
            new Preset("tinyllama-1.1b",
                    new LlamaConfig(2048, 5632, 22, 32, 4, 1e-5, 10000.0, 32000, 2048, false, 1, 2),
                    "TinyLlama-1.1B shape: 1.1B parameters, GQA 32/4 heads"),
            new Preset("llama-tiny-256",
                    new LlamaConfig(256, 768, 4, 8, 4, 1e-5, 10000.0, 32000, 512, false, 1, 2),
                    "4 layers of width 256, GQA 8/4, Llama 2 vocabulary (~19M parameters)"),
            new Preset("llama-small-512",
                    new LlamaConfig(512, 1536, 8, 8, 8, 1e-5, 10000.0, 32000, 1024, true, 1, 2),
                    "8 layers of width 512, MHA, tied embeddings (~41M parameters)"));

    /** {@code layered-<layers>x<width>}: many small decoder layers, see {@link #layered}. */
    private static final Pattern LAYERED = Pattern.compile("layered-(\\d{1,3})x(\\d{2,5})");

    /** Vocabulary of {@link #layered} shapes: stories260K's tok512.bin, so calibration can tokenize real text. */
    public static final int LAYERED_VOCAB = 512;

    public static Preset preset(String name) {
        for (Preset p : PRESETS) if (p.name().equals(name)) return p;
        var m = LAYERED.matcher(name);
        if (m.matches()) {
            LlamaConfig c = layered(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
            return new Preset(name, c, c.numHiddenLayers() + " layers of width " + c.hiddenSize()
                    + ", SwiGLU " + c.intermediateSize() + ", 512-token vocabulary (mesh fault/scale tests)");
        }
        throw new IllegalArgumentException("unknown shape '" + name + "'; known: "
                + PRESETS.stream().map(Preset::name).toList() + " or layered-<layers>x<width>");
    }

    /**
     * A Llama shape for the mesh's fault and scale tests: many decoder layers (7 linears each, so many quant tasks)
     * that are each cheap to quantize. Head dim 32 with GQA 2:1 (k/v are half the width), SwiGLU 3× the width,
     * {@link #LAYERED_VOCAB} tokens so stories260K's tokenizer fits and the embeddings stay small.
     */
    public static LlamaConfig layered(int layers, int width) {
        if (layers < 1 || layers > 256) throw new IllegalArgumentException("layers must be in 1..256, got " + layers);
        if (width < 64 || width > 8192 || width % 64 != 0) {
            throw new IllegalArgumentException("width must be a multiple of 64 in 64..8192, got " + width);
        }
        int heads = width / 32;
        return new LlamaConfig(width, 3 * width, layers, heads, heads / 2, 1e-5, 10000.0, LAYERED_VOCAB, 512, false, 1, 2);
    }

    /**
     * Writes {@code config.json}, {@code model.safetensors} in {@code dtype} (F32, F16 or BF16) and a copy of
     * {@code tokenizerBin} as {@code tokenizer.bin} into {@code dir}.
     * @param progress receives the number of bytes written so far (may be null)
     */
    public static void write(Path dir, LlamaConfig config, DType dtype, long seed, Path tokenizerBin,
                             LongConsumer progress) throws IOException {
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
            throw new IllegalArgumentException("dtype must be F32, F16 or BF16, got " + dtype);
        }
        if (!Files.isRegularFile(tokenizerBin)) throw new IOException(tokenizerBin + ": tokenizer.bin not found");
        Files.createDirectories(dir);
        List<TensorSpec> specs = LlamaWeights.specs(config, dtype);
        long written = 0;
        try (SafetensorsWriter w = SafetensorsWriter.open(dir.resolve(HfCheckpoint.SINGLE), specs,
                Map.of("format", "pt", "source", "quantmesh synthetic, seed " + seed))) {
            for (int i = 0; i < specs.size(); i++) {
                TensorSpec s = specs.get(i);
                try (Arena arena = Arena.ofShared()) { // filled by the pool's threads
                    MemorySegment seg = arena.allocate(s.byteSize(), 64);
                    fill(seg, s, dtype, seed, i);
                    w.write(s.name(), seg);
                }
                written += s.byteSize();
                if (progress != null) progress.accept(written);
            }
            w.commit();
        }
        Durable.writeAtomically(dir.resolve("tokenizer.bin"), Files.readAllBytes(tokenizerBin));
        var json = config.toJson();
        json.put("torch_dtype", switch (dtype) {
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            default -> "float32";
        });
        Durable.writeAtomically(dir.resolve(HfCheckpoint.CONFIG), Json.mapper().writeValueAsBytes(json));
    }

    private static void fill(MemorySegment seg, TensorSpec s, DType dtype, long seed, int tensorIndex) {
        long n = s.byteSize() / dtype.byteSize();
        boolean norm = s.shape().length == 1;
        int blocks = (int) ((n + BLOCK - 1) / BLOCK);
        KernelPool.shared().forRange(blocks, 1, (from, to) -> {
            for (int b = from; b < to; b++) {
                SplittableRandom rnd = new SplittableRandom(mix(seed, tensorIndex, b));
                long end = Math.min(n, (long) (b + 1) * BLOCK);
                for (long e = (long) b * BLOCK; e < end; e++) {
                    float v = norm ? 1f : (float) (rnd.nextGaussian() * INIT_STD);
                    switch (dtype) {
                        case F32 -> seg.setAtIndex(F32, e, v);
                        case BF16 -> seg.setAtIndex(I16, e, Half.floatToBf16(v));
                        default -> seg.setAtIndex(I16, e, Half.floatToF16(v));
                    }
                }
            }
        });
    }

    private static long mix(long seed, int tensor, int block) {
        long z = seed * 0x9E3779B97F4A7C15L + tensor * 0xC2B2AE3D27D4EB4FL + block * 0x165667B19E3779F9L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
