package io.quantmesh.core.quantized;

import io.quantmesh.core.codec.KMeansCodec;
import io.quantmesh.core.codec.PolarCodec;
import io.quantmesh.core.codec.ScalarCodec;
import io.quantmesh.core.safetensors.SafetensorsFile;
import io.quantmesh.core.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/** Seeded weights, codebooks and layers of every representation for the format's tests. */
public final class Layers {
    private Layers() {}

    /** Gaussian weights with a few heavy columns, like real linears. */
    static float[] weights(int rows, int cols, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] w = new float[rows * cols];
        for (int c = 0; c < cols; c++) {
            float s = c % 17 == 3 ? 0.3f : 0.05f;
            for (int r = 0; r < rows; r++) w[r * cols + c] = (float) (rnd.nextGaussian() * s);
        }
        return w;
    }

    static KMeansCodec kmeans(int k, int v, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] c = new float[k * v];
        for (int i = 0; i < c.length; i++) c[i] = (float) (rnd.nextGaussian() * 0.05);
        return new KMeansCodec(v, c);
    }

    /** 2^a random unit directions and the χ_8 Lloyd-Max magnitudes for b = 2 (docs/CODEBOOKS.md). */
    static PolarCodec polar(int k, int a, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] d = new float[(k << a)];
        for (int j = 0; j < 1 << a; j++) {
            double n = 0;
            for (int i = 0; i < k; i++) {
                d[j * k + i] = (float) rnd.nextGaussian();
                n += d[j * k + i] * d[j * k + i];
            }
            for (int i = 0; i < k; i++) d[j * k + i] /= (float) Math.sqrt(n);
        }
        return new PolarCodec(k, d, new float[] {1.8164f, 2.4967f, 3.1294f, 3.9165f});
    }

    static QuantizedTensor int4(int rows, int cols, long seed) {
        return RoundToNearest.scalar(weights(rows, cols, seed), rows, cols, ScalarCodec.named("INT4"), 64);
    }

    /** Every representation, each with its optional parts. */
    static Map<String, QuantizedTensor> all(int rows, int cols, long seed) {
        float[] w = weights(rows, cols, seed);
        Map<String, QuantizedTensor> m = new java.util.LinkedHashMap<>();
        m.put("int4-g64", RoundToNearest.scalar(w, rows, cols, ScalarCodec.named("INT4"), 64));
        m.put("int3-g7", RoundToNearest.scalar(w, rows, cols, ScalarCodec.named("INT3"), 7));
        m.put("int8-channel", RoundToNearest.scalar(w, rows, cols, ScalarCodec.named("INT8"), cols));
        m.put("fp4-g32", RoundToNearest.scalar(w, rows, cols, ScalarCodec.named("FP4"), 32));
        m.put("nf3-g64", RoundToNearest.scalar(w, rows, cols, ScalarCodec.named("NF3"), 64));
        m.put("vq-v4", RoundToNearest.vectors(w, rows, cols, kmeans(256, 4, seed), null, new int[0]));
        m.put("vq-v8-residual-outliers", RoundToNearest.vectors(w, rows, cols, kmeans(100, 8, seed),
                kmeans(37, 8, seed + 1), new int[] {3, cols - 1, 20}));
        m.put("polar-k8-a8-b2", RoundToNearest.polar(w, rows, cols, polar(8, 8, seed), seed + 2, seed + 3));
        m.put("polar-k4-a6-b2", RoundToNearest.polar(w, rows, cols, polar(4, 6, seed), seed + 4, seed + 5));
        return m;
    }

    /** Writes the layer's tensors to a safetensors file and reads the layer back through the mapped file. */
    static QuantizedTensor throughFile(QuantizedTensor q, Path file) throws IOException {
        SafetensorsWriter.write(file, q.toTensors("layer"), Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return QuantizedTensor.fromTensors("layer", n -> f.contains(n) ? f.tensor(n) : null,
                    LayerConfig.of("layer", q.layerConfig().json()));
        }
    }

    public static int[] bits(float[] x) {
        int[] b = new int[x.length];
        for (int i = 0; i < x.length; i++) b[i] = Float.floatToRawIntBits(x[i]);
        return b;
    }

    /**
     * The source checkpoint with every quantized {@code P.weight} replaced by the layer's dequantized F32 weight
     * (config and tokenizer copied): what a quantized checkpoint must load as, built without the reader.
     */
    public static void denseSubstitute(Path source, Map<String, ? extends QuantizedTensor> layers, Path out) throws IOException {
        java.nio.file.Files.createDirectories(out);
        try (io.quantmesh.core.checkpoint.HfCheckpoint ck = io.quantmesh.core.checkpoint.HfCheckpoint.open(source);
             java.util.stream.Stream<Path> files = java.nio.file.Files.list(source)) {
            Map<String, io.quantmesh.core.tensor.Tensor> tensors = new java.util.LinkedHashMap<>();
            for (String n : ck.tensorNames()) {
                QuantizedTensor q = n.endsWith(".weight") ? layers.get(n.substring(0, n.length() - 7)) : null;
                tensors.put(n, q == null ? ck.tensor(n)
                        : io.quantmesh.core.tensor.Tensor.ofFloats(q.dequantize(), q.rows(), q.cols()));
            }
            SafetensorsWriter.write(out.resolve("model.safetensors"), tensors, Map.of());
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (!name.endsWith(".safetensors") && !name.endsWith(".index.json")) java.nio.file.Files.copy(f, out.resolve(name));
            }
        }
    }

    /** Logits of every position, bit for bit. */
    public static void assertSameLogits(float[][] a, float[][] b) {
        for (int t = 0; t < a.length; t++) org.junit.jupiter.api.Assertions.assertArrayEquals(bits(a[t]), bits(b[t]), "position " + t);
    }
}
