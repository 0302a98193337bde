package io.quantmesh.quant;

import io.quantmesh.core.store.Sha256;
import io.quantmesh.core.recipe.Recipe;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.parallel.Parallel;
import io.quantmesh.core.codec.IntAsymmetricCodec;
import io.quantmesh.core.codec.KMeansCodec;
import io.quantmesh.core.codec.PolarCodec;
import io.quantmesh.core.quantized.HadamardRotation;
import io.quantmesh.core.quantized.PolarTensor;
import io.quantmesh.core.codec.TwoScaleGridCodec;
import io.quantmesh.core.quantized.IntGroupTensor;
import io.quantmesh.core.quantized.TwoScaleGridTensor;
import io.quantmesh.core.quantized.VectorTensor;
import io.quantmesh.core.quantized.PackedIndices;
import io.quantmesh.core.quantized.QuantizedCheckpointWriter;
import io.quantmesh.core.quantized.QuantizedTensor;
import io.quantmesh.core.quantized.RoundToNearest;
import io.quantmesh.core.safetensors.SafetensorsFile;
import io.quantmesh.core.tensor.DType;
import io.quantmesh.core.tensor.Half;
import io.quantmesh.core.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The quant-svc pipeline on one checkpoint (docs/PIPELINE.md): for every decoder linear, load W (F32) and the
 * H of its input site from a {@code quantmesh.hessians.v1} artifact, run the recipe's quantizer through
 * {@link GptqLoop} (or round-to-nearest), convert the codes into the format's {@link IntGroupTensor}, and write the
 * quantized checkpoint with {@link QuantizedCheckpointWriter}. Deterministic: the loop is bit-identical for every
 * thread count and nothing time-dependent is stored, so the same inputs give byte-identical files.
 */
public final class CheckpointQuantizer {
    /**
     * Called around each layer, in checkpoint order. An exception thrown by either hook (e.g. a
     * {@link java.util.concurrent.CancellationException} when a caller gave up) aborts {@link #quantize} before
     * anything is written: the output directory is only published after the last layer.
     */
    @FunctionalInterface
    public interface Listener {
        /** Before layer {@code index} (0-based) of {@code total}, the weight {@code tensor}, is loaded. */
        default void layerStarting(int index, int total, String tensor) {}

        void layerDone(int done, int total, LayerReport layer);
    }

    /**
     * @param proxyLoss tr((W−Q)H(W−Q)ᵀ) of the stored (fp16-scale) Q, with the undamped H of the artifact
     */
    public record LayerReport(String module, int rows, int cols, int groupSize, double proxyLoss, long nanos) {}

    public record Report(Recipe recipe, Path out, List<LayerReport> layers, Map<String, String> sha256,
                         long nanos) {
        public double proxyLoss() {
            return layers.stream().mapToDouble(LayerReport::proxyLoss).sum();
        }
    }

    /**
     * @param keepDense weights (full tensor names) to leave dense on top of the default: embeddings, norms and
     *                  lm_head are never quantized because only decoder linears are selected; null for none
     */
    /**
     * @param codebooks universal polar codebook id → codec, for {@code pcdvq-*} recipes (null otherwise). Supplied by
     *                  the caller because the codebooks are codebook-svc's product (the CLI builds them with its
     *                  {@code PolarCodebook}); quant-svc main does not depend on another stage.
     * @param fitter    weighted k-means, for {@code vptq-*} recipes (null otherwise): codebook-svc's
     *                  {@code WeightedKMeans} in the CLI, its {@code BuildKMeansCodebook} RPC in the worker
     */
    public record Options(Recipe recipe, Pattern keepDense, boolean replaceExisting, int threads,
                          Function<String, PolarCodec> codebooks, CodebookFitter fitter) {
        public Options(Recipe recipe, Pattern keepDense, boolean replaceExisting, int threads) {
            this(recipe, keepDense, replaceExisting, threads, null, null);
        }

        public Options(Recipe recipe, Pattern keepDense, boolean replaceExisting, int threads,
                       Function<String, PolarCodec> codebooks) {
            this(recipe, keepDense, replaceExisting, threads, codebooks, null);
        }

        public Options withKeepDense(Pattern p) {
            return new Options(recipe, p, replaceExisting, threads, codebooks, fitter);
        }

        public Options withCodebooks(Function<String, PolarCodec> c) {
            return new Options(recipe, keepDense, replaceExisting, threads, c, fitter);
        }

        public Options withFitter(CodebookFitter f) {
            return new Options(recipe, keepDense, replaceExisting, threads, codebooks, f);
        }

        public static Options of(Recipe recipe) {
            return new Options(recipe, null, false, 0);
        }
    }

    private CheckpointQuantizer() {}

    public static Report quantize(Path model, Path hessians, Path out, Options options, Listener listener)
            throws IOException {
        long t0 = System.nanoTime();
        Map<String, QuantizedTensor> layers = new LinkedHashMap<>();
        List<LayerReport> reports = new ArrayList<>();
        try (HfCheckpoint ck = HfCheckpoint.open(model); SafetensorsFile hf = SafetensorsFile.open(hessians);
             LayerQuantizer quantizer = new LayerQuantizer(options.recipe(), options.codebooks(), options.fitter(),
                     options.threads())) {
            Map<String, String> siteOf = sites(hf);
            List<String> names = plan(ck, options.keepDense());
            for (int i = 0; i < names.size(); i++) {
                String name = names.get(i);
                if (listener != null) listener.layerStarting(i, names.size(), name);
                Tensor t = ck.tensor(name);
                double[] h = hessian(hf, siteFor(siteOf, name, hessians), Math.toIntExact(t.dim(1)), name);
                LayerQuantizer.Layer layer = quantizer.quantize(name, t, h, i);
                layers.put(layer.report().module(), layer.stored());
                reports.add(layer.report());
                if (listener != null) listener.layerDone(reports.size(), names.size(), layer.report());
            }
        }
        Path written = write(model, Sha256.of(hessians), layers, out, options);
        return new Report(options.recipe(), written, List.copyOf(reports), filesSha256(written), System.nanoTime() - t0);
    }

    /**
     * The linears a recipe quantizes, in checkpoint order: decoder linears of rank 2 not matched by
     * {@code keepDense}. A layer's index in this list is its rotation seed, so every process that plans the same
     * checkpoint (the CLI, the mesh planner) quantizes each layer identically.
     */
    public static List<String> plan(HfCheckpoint ck, Pattern keepDense) {
        List<String> names = new ArrayList<>();
        for (String name : ck.tensorNames()) {
            if (!RoundToNearest.DECODER_LINEARS.matcher(name).matches()) continue;
            if (keepDense != null && keepDense.matcher(name).matches()) continue;
            if (ck.tensor(name).rank() == 2) names.add(name);
        }
        if (names.isEmpty()) throw new IllegalArgumentException(ck.dir() + ": no linear layer left to quantize");
        return names;
    }

    /**
     * Writes the quantized checkpoint of {@code layers} (module → record) next to the model's dense tensors. The
     * only producer facts stored are the recipe, the Hessian artifact's sha256 and the keep-dense pattern, so the
     * one-process CLI and the mesh's assembler write the same bytes for the same inputs.
     */
    public static Path write(Path model, String hessiansSha256, Map<String, ? extends QuantizedTensor> layers, Path out,
                             Options options) throws IOException {
        ObjectNode producer = JsonNodeFactory.instance.objectNode().put("recipe", options.recipe().name())
                .put("hessians_sha256", hessiansSha256);
        if (options.keepDense() != null) producer.put("keep_dense", options.keepDense().pattern());
        return QuantizedCheckpointWriter.write(model, layers, out,
                QuantizedCheckpointWriter.Options.of(options.recipe().name()).withSeed(0L).withProducer(producer)
                        .withReplaceExisting(options.replaceExisting())).dir();
    }

    /** The Hessian tensor of a weight; a model/artifact mismatch is a clear IllegalArgumentException. */
    public static String siteFor(Map<String, String> siteOf, String weight, Object artifact) {
        String site = siteOf.get(weight);
        if (site == null) {
            throw new IllegalArgumentException(artifact + " has no Hessian for " + weight
                    + " (is it an artifact of this model?)");
        }
        return site;
    }

    /** Weight name → hessian tensor name, from the artifact's site keys {@code module.lin1|lin2}. */
    public static Map<String, String> sites(SafetensorsFile hf) {
        Map<String, String> out = new LinkedHashMap<>();
        for (var info : hf.tensors()) {
            String n = info.name();
            if (!n.endsWith(".hessian")) continue;
            String key = n.substring(0, n.length() - ".hessian".length());
            int dot = key.lastIndexOf('.');
            if (dot < 0) continue;
            String module = key.substring(0, dot);
            for (String linear : key.substring(dot + 1).split("\\|")) out.put(module + "." + linear + ".weight", n);
        }
        if (out.isEmpty()) throw new IllegalArgumentException("not a Hessian artifact: no '<site>.hessian' tensor");
        return out;
    }

    public static double[] hessian(SafetensorsFile hf, String tensor, int cols, String weight) {
        var info = hf.info(tensor);
        if (info.dtype() != DType.F64 || info.shape().length != 2 || info.shape()[0] != cols || info.shape()[1] != cols) {
            throw new IllegalArgumentException(tensor + " is " + info.dtype() + " " + java.util.Arrays.toString(info.shape())
                    + " but " + weight + " needs F64 [" + cols + ", " + cols + "]");
        }
        return hf.tensor(tensor).segment().toArray(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
    }

    /**
     * The loop's codes ({@code [position][row]}, one fitted range per {@code [group][row]}, processing order) as the
     * format's record: codes {@code [row][position]}, the two parameters of each range {@code [row][group]} (INT:
     * fp16 scale + packed zero point; AFPQ: fp16 s₊ and s₋), {@code perm} = the act-order permutation (null when
     * identity). Scales are rounded to fp16 here, after the loop; {@link #quantize} measures the proxy loss on this
     * stored form.
     */
    static QuantizedTensor toTensor(ScalarCodes c, int[] permutation) {
        int rows = c.rows(), cols = c.columns(), groups = (cols + c.groupSize() - 1) / c.groupSize();
        int bits = c.codec().bits();
        int[] codes = new int[rows * cols];
        for (int p = 0; p < cols; p++) {
            for (int r = 0; r < rows; r++) codes[r * cols + p] = c.code(p, r);
        }
        short[] first = new short[rows * groups], second = new short[rows * groups];
        int[] zeros = new int[rows * groups];
        for (int g = 0; g < groups; g++) {
            for (int r = 0; r < rows; r++) {
                float[] params = c.fitted(g, r).parameters();
                first[r * groups + g] = Half.floatToF16(params[0]);
                second[r * groups + g] = Half.floatToF16(params[1]);
                zeros[r * groups + g] = (int) params[1];
            }
        }
        int[] perm = storedPerm(permutation);
        PackedIndices packed = PackedIndices.pack(codes, bits);
        if (c.codec() instanceof TwoScaleGridCodec grid) {
            return new TwoScaleGridTensor(rows, cols, grid.name(), grid.grid().table(), c.groupSize(), packed, first,
                    second, perm);
        }
        if (!(c.codec() instanceof IntAsymmetricCodec)) {
            throw new IllegalArgumentException("no stored form for codec " + c.codec().name());
        }
        return new IntGroupTensor(rows, cols, bits, c.groupSize(), packed, first, PackedIndices.pack(zeros, bits), perm);
    }

    /**
     * The recipe's universal codebook with its values rounded to fp16, the precision the format stores: the loop then
     * codes against exactly the codebook the checkpoint holds, so the stored layer decodes to the loop's choices.
     */
    public static PolarCodec storedCodec(Recipe recipe, Function<String, PolarCodec> codebooks) {
        if (codebooks == null) {
            throw new IllegalArgumentException(recipe.name() + " needs the universal codebook " + recipe.codec()
                    + ": no codebook supplier given (Options.withCodebooks)");
        }
        PolarCodec c = codebooks.apply(recipe.codec());
        int[] kab = Recipe.polarShape(recipe.codec());
        if (c == null || c.k() != kab[0] || c.directionCount() != 1 << kab[1] || c.magnitudeCount() != 1 << kab[2]) {
            throw new IllegalArgumentException("codebook supplied for " + recipe.codec() + " has the wrong shape"
                    + (c == null ? " (none)" : ": k " + c.k() + ", " + c.directionCount() + " directions, "
                    + c.magnitudeCount() + " magnitudes"));
        }
        return new PolarCodec(c.k(), fp16(c.directions()), fp16(c.magnitudes()));
    }

    /**
     * The caller's k-means with every fitted centroid rounded to fp16, the precision the format stores, so that the
     * loop (and the residual fit on its pass-1 errors) codes against exactly the codebook the checkpoint holds.
     */
    static CodebookFitter storedFitter(Recipe recipe, CodebookFitter fitter) {
        if (fitter == null) {
            throw new IllegalArgumentException(recipe.name() + " fits a k-means codebook per layer: no k-means fitter "
                    + "given (Options.withFitter)");
        }
        return (vectors, weights, count, k, clusters, seed) -> {
            KMeansCodec c = fitter.fit(vectors, weights, count, k, clusters, seed);
            if (c == null || c.k() != k || c.size() != clusters) {
                throw new IllegalArgumentException("k-means fitter returned " + (c == null ? "nothing"
                        : c.size() + " centroids of " + c.k()) + " for " + clusters + " of " + k);
            }
            return new KMeansCodec(k, fp16(c.centroids()));
        };
    }

    private static float[] fp16(float[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) out[i] = Half.f16ToFloat(Half.floatToF16(v[i]));
        return out;
    }

    private static short[] f16Bits(float[] v) {
        short[] out = new short[v.length];
        for (int i = 0; i < v.length; i++) out[i] = Half.floatToF16(v[i]);
        return out;
    }

    /**
     * PCDVQ's result as the format's {@link PolarTensor}: the loop's codes ({@code [position][vector]}, processing
     * order of the rotated columns) at stream position {@code t·cols + position}, {@code perm} = the act-order
     * permutation (position → rotated column; null when identity), the layer scale and the two sign vectors of
     * {@link LayerRotation} with their seeds, and the (already fp16-exact) codebook of the loop.
     */
    static PolarTensor toTensor(PcdvqQuantizer.Result r, PolarCodec codec, long seed) {
        VectorCodes c = r.codes();
        int rows = c.rows(), cols = c.columns();
        int[] codes = streamOrder(c);
        LayerRotation rot = r.rotation();
        long seedIn = seed ^ 0x9E3779B97F4A7C15L;   // LayerRotation's input-side seed
        return new PolarTensor(rows, cols, codec.k(), codec.directionBits(), codec.magnitudeBits(),
                f16Bits(codec.directions()), f16Bits(codec.magnitudes()), rot.scale(),
                PackedIndices.pack(codes, codec.codeBits()), PolarTensor.packSigns(HadamardRotation.negativeSigns(rows, seed)),
                PolarTensor.packSigns(HadamardRotation.negativeSigns(cols, seedIn)), storedPerm(r.permutation()),
                seed, seedIn);
    }

    /**
     * VPTQ's result as the format's {@link VectorTensor}: the loop's codes ({@code [position][vector]}, processing
     * order) at stream position {@code t·cols + position} (two-stage codes {@code c1 << w₂ | c2} split into the two
     * streams), the (already fp16-exact) codebooks, {@code perm} = the act-order permutation (null when identity).
     * The last vector's padding rows (rows % v ≠ 0) are coded but dropped by {@link VectorTensor#dequantize}.
     * Outlier columns coded with their own codebook have no stored form (the format keeps outliers in fp16).
     */
    static VectorTensor toTensor(VptqQuantizer.Result r) {
        if (r.outlier() != null) {
            throw new IllegalArgumentException("outlier columns with their own codebook have no stored form: "
                    + "the format keeps outlier columns in fp16 (docs/FORMAT.md §3.3)");
        }
        VectorCodes c = r.codes();
        int secondBits = r.residual() == null ? 0 : r.residual().codeBits();
        int[] first = streamOrder(c), second = secondBits == 0 ? null : new int[first.length];
        for (int i = 0; second != null && i < first.length; i++) {
            second[i] = first[i] & ((1 << secondBits) - 1);
            first[i] >>>= secondBits;
        }
        return new VectorTensor(c.rows(), c.columns(), c.dimension(), f16Bits(r.main().centroids()),
                PackedIndices.pack(first, r.main().codeBits()),
                second == null ? null : f16Bits(r.residual().centroids()),
                second == null ? null : PackedIndices.pack(second, secondBits), new int[0], new short[0],
                storedPerm(r.permutation()));
    }

    /** The loop's {@code [position][vector]} codes in the format's stream order: vector t of position p at t·cols + p. */
    private static int[] streamOrder(VectorCodes c) {
        int cols = c.columns(), per = c.vectorsPerColumn();
        int[] codes = new int[per * cols];
        for (int p = 0; p < cols; p++) {
            for (int t = 0; t < per; t++) codes[t * cols + p] = c.code(p, t);
        }
        return codes;
    }

    /** The act-order permutation as the format's {@code perm}: null when it is the identity. */
    private static int[] storedPerm(int[] permutation) {
        for (int p = 0; p < permutation.length; p++) {
            if (permutation[p] != p) return permutation.clone();
        }
        return null;
    }

    /** sha256 of every regular file in the directory, by file name (sorted). */
    public static Map<String, String> filesSha256(Path dir) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(Files::isRegularFile).sorted().toList()) out.put(p.getFileName().toString(), Sha256.of(p));
        }
        return out;
    }
}
