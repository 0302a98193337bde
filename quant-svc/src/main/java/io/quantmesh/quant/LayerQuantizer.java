package io.quantmesh.quant;

import io.quantmesh.core.codec.PolarCodec;
import io.quantmesh.core.parallel.Parallel;
import io.quantmesh.core.quantized.QuantizedTensor;
import io.quantmesh.core.recipe.Recipe;
import io.quantmesh.core.tensor.Tensor;

import java.util.function.Function;

/**
 * One recipe applied to one linear at a time: W and the H of its input → the stored record and its proxy loss.
 * Shared by the one-process {@link CheckpointQuantizer}, the gRPC QuantizeLayer call and the mesh's Kafka workers, so
 * a layer quantized anywhere is the same bytes. Holds the loop and its thread pool; not thread-safe.
 */
public final class LayerQuantizer implements AutoCloseable {
    /** The result: the record the checkpoint stores and the report of how it was made. */
    public record Layer(QuantizedTensor stored, CheckpointQuantizer.LayerReport report) {}

    private final Recipe recipe;
    private final GptqLoop loop;
    private final PcdvqQuantizer pcdvq;
    private final CodebookFitter kmeans;
    private final Parallel par;

    /**
     * @param codebooks universal polar codebook id → codec for {@code pcdvq-*} recipes (null otherwise)
     * @param threads   0 = the common pool; results are bit-identical for every thread count
     */
    public LayerQuantizer(Recipe recipe, Function<String, PolarCodec> codebooks, int threads) {
        this(recipe, codebooks, null, threads);
    }

    /**
     * @param codebooks universal polar codebook id → codec for {@code pcdvq-*} recipes (null otherwise)
     * @param fitter    weighted k-means for {@code vptq-*} recipes (null otherwise): codebook-svc's, see
     *                  {@link CheckpointQuantizer.Options#fitter}
     * @param threads   0 = the common pool; results are bit-identical for every thread count
     */
    public LayerQuantizer(Recipe recipe, Function<String, PolarCodec> codebooks, CodebookFitter fitter, int threads) {
        this.recipe = recipe;
        this.loop = new GptqLoop(GptqLoop.Options.defaults().withActOrder(true).withProxyLoss(false)
                .withThreads(threads));
        this.pcdvq = recipe.polar() ? new PcdvqQuantizer(CheckpointQuantizer.storedCodec(recipe, codebooks)) : null;
        if (recipe.vector() && Recipe.vectorShape(recipe.codec())[3] > 0) {
            // fail before any work: the conversion has no stored form for codebook-coded outliers
            throw new IllegalArgumentException(recipe.name() + ": outlier columns with their own codebook have no "
                    + "stored form (the format keeps outlier columns in fp16)");
        }
        this.kmeans = recipe.vector() ? CheckpointQuantizer.storedFitter(recipe, fitter) : null;
        this.par = threads == 0 ? Parallel.common() : Parallel.ofThreads(threads);
    }

    public Recipe recipe() {
        return recipe;
    }

    /**
     * @param name  the weight's tensor name ({@code <module>.weight})
     * @param w     W [rows × cols], any float dtype
     * @param h     H [cols × cols] of the layer's input (undamped; the loop damps its own copy)
     * @param index the layer's position in {@link CheckpointQuantizer#plan}: PCDVQ's rotation seed, VPTQ's k-means
     *              seeds ({@link VptqQuantizer.Spec#forLayer})
     */
    public Layer quantize(String name, Tensor w, double[] h, long index) {
        long t0 = System.nanoTime();
        if (w.rank() != 2) throw new IllegalArgumentException(name + " is not a matrix: shape rank " + w.rank());
        int rows = Math.toIntExact(w.dim(0)), cols = Math.toIntExact(w.dim(1));
        if (h.length != (long) cols * cols) {
            throw new IllegalArgumentException(name + " has " + cols + " inputs but the Hessian has " + h.length
                    + " entries (needs " + cols + "×" + cols + ")");
        }
        float[] weights = w.toFloatArray();
        QuantizedTensor stored;
        int group;
        if (pcdvq != null) {
            stored = CheckpointQuantizer.toTensor(pcdvq.quantize(weights, rows, cols, h, index, loop), pcdvq.codec(), index);
            group = -1;
        } else if (kmeans != null) {
            var vptq = new VptqQuantizer(VptqQuantizer.Spec.forLayer(recipe, rows, cols, index), kmeans);
            stored = CheckpointQuantizer.toTensor(vptq.quantize(weights, rows, cols, h, loop));
            group = -1;
        } else {
            ScalarGroupQuantizer q = ScalarGroupQuantizer.forRecipe(recipe, cols);
            // round-to-nearest never factors H, but its proxy loss is only meaningful for a valid one: every recipe
            // accepts exactly the Hessians the GPTQ loop accepts (finite, symmetric, positive definite once damped)
            if (!recipe.gptq()) PreparedHessian.of(h, cols, loop.options().dampening(), false,
                    PreparedHessian.Feedback.LDL, par);
            GptqResult<ScalarCodes> r = recipe.gptq() ? loop.quantize(weights, rows, cols, h, q)
                    : loop.roundToNearest(weights, rows, cols, h, q);
            stored = CheckpointQuantizer.toTensor(r.codes(), r.permutation());
            group = q.groupSize();
        }
        double loss = ProxyLoss.of(weights, stored.dequantize(), rows, cols, h, par);
        String module = name.endsWith(".weight") ? name.substring(0, name.length() - ".weight".length()) : name;
        return new Layer(stored, new CheckpointQuantizer.LayerReport(module, rows, cols, group, loss,
                System.nanoTime() - t0));
    }

    @Override
    public void close() {
        par.close();
    }
}
