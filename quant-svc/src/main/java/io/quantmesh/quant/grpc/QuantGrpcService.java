package io.quantmesh.quant.grpc;

import io.quantmesh.core.store.Sha256;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quantmesh.core.Json;
import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.codec.PolarCodebookFile;
import io.quantmesh.core.codec.PolarCodec;
import io.quantmesh.core.quantized.LayerArtifact;
import io.quantmesh.core.quantized.QuantizationSummary;
import io.quantmesh.core.quantized.QuantizedCheckpointReader;
import io.quantmesh.core.quantized.QuantizedTensor;
import io.quantmesh.core.recipe.Recipe;
import io.quantmesh.core.safetensors.SafetensorsFile;
import io.quantmesh.core.tensor.DType;
import io.quantmesh.core.tensor.Tensor;
import io.quantmesh.proto.v1.ArtifactRef;
import io.quantmesh.proto.v1.CheckpointManifest;
import io.quantmesh.proto.v1.LayerQuantized;
import io.quantmesh.proto.v1.QuantServiceGrpc;
import io.quantmesh.proto.v1.QuantizeCheckpointProgress;
import io.quantmesh.proto.v1.QuantizeCheckpointRequest;
import io.quantmesh.proto.v1.QuantizeLayerRequest;
import io.quantmesh.proto.v1.QuantizeLayerResponse;
import io.quantmesh.quant.CheckpointQuantizer;
import io.quantmesh.quant.LayerQuantizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The gRPC adapter of quant-svc: resolves the request's artifacts under the root, runs {@link LayerQuantizer} (one
 * layer) or {@link CheckpointQuantizer#quantize} (a checkpoint, with the call's cancellation and deadline checked
 * between layers) and maps failures to statuses with a message (docs/PIPELINE.md, "QuantService"). At most
 * {@code maxConcurrentJobs} calls quantize at once (each already uses every core); more get RESOURCE_EXHAUSTED.
 */
public final class QuantGrpcService extends QuantServiceGrpc.QuantServiceImplBase {
    private static final Logger log = LoggerFactory.getLogger(QuantGrpcService.class);
    private static final Set<DType> WEIGHT_DTYPES = Set.of(DType.F32, DType.F16, DType.BF16);

    /**
     * @param maxMessageBytes   the largest message either way: the transport's inbound limit, and inline results
     *                          larger than this are refused (the caller asks for an artifact instead)
     * @param maxLayerBytes     working memory one layer may need (≈ 40·cols² + 24·rows·cols bytes: H, its factor and
     *                          copies of W); larger layers are RESOURCE_EXHAUSTED before anything is allocated
     * @param maxConcurrentJobs calls that may quantize at once
     */
    public record Limits(int maxMessageBytes, long maxLayerBytes, int maxConcurrentJobs) {
        public Limits {
            if (maxMessageBytes < 1024) throw new IllegalArgumentException("maxMessageBytes must be >= 1024");
            if (maxLayerBytes < 1) throw new IllegalArgumentException("maxLayerBytes must be >= 1");
            if (maxConcurrentJobs < 1) throw new IllegalArgumentException("maxConcurrentJobs must be >= 1");
        }

        /** 64 MiB messages, half the heap per layer, one job at a time. */
        public static Limits defaults() {
            return new Limits(64 << 20, Runtime.getRuntime().maxMemory() / 2, 1);
        }
    }

    private final ArtifactPaths artifacts;
    private final Limits limits;
    private final Semaphore slots;

    public QuantGrpcService(Path artifactRoot, Limits limits) throws IOException {
        this.artifacts = new ArtifactPaths(artifactRoot);
        this.limits = limits;
        this.slots = new Semaphore(limits.maxConcurrentJobs());
    }

    public Limits limits() {
        return limits;
    }

    @FunctionalInterface
    private interface Work {
        void run(Runnable checkCancelled) throws IOException;
    }

    // One slot, the call's cancellation, and every failure mapped to a status with a message.
    private void call(String rpc, StreamObserver<?> out, Work work) {
        Context ctx = Context.current();
        // after a cancel, messages are dropped quietly; the work itself stops at the next check
        if (out instanceof ServerCallStreamObserver<?> c) c.setOnCancelHandler(() -> {});
        Runnable check = () -> {
            if (ctx.isCancelled()) throw new CancellationException("request cancelled or past its deadline");
        };
        if (!slots.tryAcquire()) {
            out.onError(Status.RESOURCE_EXHAUSTED.withDescription("quant-svc is busy with other jobs; retry later")
                    .asRuntimeException());
            return;
        }
        try {
            check.run();
            work.run(check);
            out.onCompleted();
        } catch (IllegalArgumentException e) {
            out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
        } catch (NoSuchFileException | FileNotFoundException | NoSuchElementException e) {
            out.onError(Status.NOT_FOUND.withDescription(e.getMessage()).asRuntimeException());
        } catch (FileAlreadyExistsException e) {
            out.onError(Status.ALREADY_EXISTS.withDescription(e.getFile() + " already exists (set replace_existing)")
                    .asRuntimeException());
        } catch (StatusRuntimeException e) {
            out.onError(e);
        } catch (CancellationException e) {
            boolean late = ctx.getDeadline() != null && ctx.getDeadline().isExpired();
            out.onError((late ? Status.DEADLINE_EXCEEDED : Status.CANCELLED).withDescription(rpc + ": "
                    + e.getMessage()).asRuntimeException());
        } catch (IOException | RuntimeException | OutOfMemoryError e) {
            log.warn("{} failed", rpc, e);
            out.onError(Status.INTERNAL.withDescription(rpc + ": " + e).asRuntimeException());
        } finally {
            slots.release();
        }
    }

    @Override
    public void quantizeLayer(QuantizeLayerRequest req, StreamObserver<QuantizeLayerResponse> out) {
        call("QuantizeLayer", out, check -> out.onNext(quantizeLayer(req)));
    }

    private QuantizeLayerResponse quantizeLayer(QuantizeLayerRequest req) throws IOException {
        Recipe recipe = recipe(req.getRecipe());
        Map<String, PolarCodec> books = codebooks(recipe, req.getCodebooksList());
        Path output = req.getOutput().isEmpty() ? null : outputFile(req.getOutput());
        HfCheckpoint ck = null;
        SafetensorsFile hf = null;
        try {
            String name;
            Tensor w;
            switch (req.getWeightsCase()) {
                case WEIGHTS_INLINE -> {
                    var t = req.getWeightsInline();
                    name = t.getName().isEmpty() ? "layer.weight" : t.getName();
                    if (t.getShapeCount() == 2) checkBudget(name, t.getShape(0), t.getShape(1));   // before any copy
                    w = TensorMessages.matrix(t, "weights", WEIGHT_DTYPES);
                }
                case WEIGHTS_REF -> {
                    name = req.getWeightsRef().getTensor();
                    if (name.isEmpty()) throw new IllegalArgumentException("weights_ref.tensor is required");
                    ck = model(req.getWeightsRef().getModel());
                    w = ck.tensor(name);   // NoSuchElementException (NOT_FOUND) names the model and the tensor
                    if (w.rank() != 2 || !WEIGHT_DTYPES.contains(w.dtype())) {
                        throw new IllegalArgumentException(name + " is " + w.dtype() + " of rank " + w.rank()
                                + ", not a floating matrix");
                    }
                    checkBudget(name, w.dim(0), w.dim(1));
                }
                default -> throw new IllegalArgumentException("weights are required (weights_inline or weights_ref)");
            }
            int cols = Math.toIntExact(w.dim(1));
            double[] h;
            switch (req.getHessianCase()) {
                case HESSIAN_INLINE -> {
                    var t = req.getHessianInline();
                    if (t.getShapeCount() == 2 && (t.getShape(0) != cols || t.getShape(1) != cols)) {
                        throw new IllegalArgumentException("hessian is " + t.getShapeList() + " but " + name + " has "
                                + cols + " inputs: it must be [" + cols + ", " + cols + "]");
                    }
                    Tensor ht = TensorMessages.matrix(t, "hessian", Set.of(DType.F64));
                    h = ht.segment().toArray(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
                }
                case HESSIAN_REF -> {
                    String uri = req.getHessianRef().getArtifact();
                    hf = safetensors(uri, "hessian_ref.artifact");
                    String key = req.getHessianRef().getKey();
                    if (key.isEmpty()) {
                        if (ck == null) {
                            throw new IllegalArgumentException("hessian_ref.key is required with inline weights");
                        }
                        key = CheckpointQuantizer.siteFor(CheckpointQuantizer.sites(hf), name, uri);
                    } else if (!hf.contains(key)) {
                        throw new NoSuchElementException(uri + " has no tensor '" + key + "'");
                    }
                    h = CheckpointQuantizer.hessian(hf, key, cols, name);
                    finite(h, cols, uri + " " + key);
                }
                default -> throw new IllegalArgumentException("a Hessian is required (hessian_inline or hessian_ref)");
            }
            LayerQuantizer.Layer layer;
            try (LayerQuantizer q = new LayerQuantizer(recipe, books::get, 0)) {
                layer = q.quantize(name, w, h, req.getLayerIndex());
            }
            return response(layer, recipe, req.getLayerIndex(), output);
        } finally {
            if (ck != null) ck.close();
            if (hf != null) hf.close();
        }
    }

    private QuantizeLayerResponse response(LayerQuantizer.Layer layer, Recipe recipe, long index, Path output)
            throws IOException {
        QuantizedTensor q = layer.stored();
        CheckpointQuantizer.LayerReport r = layer.report();
        QuantizeLayerResponse.Builder b = QuantizeLayerResponse.newBuilder().setModule(r.module()).setRows(r.rows())
                .setCols(r.cols()).setRepresentation(q.representation())
                .setLayerConfigJson(Json.mapper().writeValueAsString(q.layerConfig().json()))
                .setProxyLoss(r.proxyLoss()).setIndexBitsPerWeight(q.indexBitsPerWeight())
                .setStoredBitsPerWeight(q.storedBitsPerWeight())
                .setElapsedMs(TimeUnit.NANOSECONDS.toMillis(r.nanos()));
        if (output == null) {
            Map<String, Tensor> tensors = q.toTensors(r.module());
            long bytes = 0;
            for (Tensor t : tensors.values()) bytes += t.byteSize() + 256;
            if (bytes > limits.maxMessageBytes()) {
                throw Status.RESOURCE_EXHAUSTED.withDescription("the quantized layer is about " + bytes
                        + " bytes, over this server's inline limit of " + limits.maxMessageBytes()
                        + " bytes: set output to have it written as an artifact").asRuntimeException();
            }
            tensors.forEach((n, t) -> b.addTensors(TensorMessages.message(n, t)));
        } else {
            Files.createDirectories(output.getParent());
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("module", r.module());
            meta.put("recipe", recipe.name());
            meta.put("layer_index", Long.toString(index));
            LayerArtifact.write(output, q, meta);
            b.setArtifact(ref(output));
        }
        return b.build();
    }

    @Override
    public void quantizeCheckpoint(QuantizeCheckpointRequest req, StreamObserver<QuantizeCheckpointProgress> out) {
        call("QuantizeCheckpoint", out, check -> quantizeCheckpoint(req, out, check));
    }

    private void quantizeCheckpoint(QuantizeCheckpointRequest req, StreamObserver<QuantizeCheckpointProgress> out,
                                    Runnable check) throws IOException {
        Recipe recipe = recipe(req.getRecipe());
        Path model = artifacts.existing(req.getModel(), "model");
        try (HfCheckpoint ck = model(req.getModel())) {
            // fail fast on a model without quantizable layers, before the Hessians are read
            CheckpointQuantizer.plan(ck, null);
        }
        Path hessians = artifacts.existing(req.getHessians(), "hessians");
        try (SafetensorsFile hf = safetensors(req.getHessians(), "hessians")) {
            CheckpointQuantizer.sites(hf);   // "not a Hessian artifact" before any work
        }
        Path output = artifacts.resolve(req.getOutput(), "output");
        if (output.startsWith(model) || model.startsWith(output)) {
            throw new IllegalArgumentException("output '" + req.getOutput() + "' overlaps the model directory");
        }
        if (Files.exists(output) && !req.getReplaceExisting()) throw new FileAlreadyExistsException(req.getOutput());
        if (Files.exists(output) && !Files.isDirectory(output)) {
            throw new IllegalArgumentException("output '" + req.getOutput() + "' is a file, not a checkpoint directory");
        }
        Pattern keepDense = req.getKeepDense().isEmpty() ? null : Pattern.compile(req.getKeepDense());
        Map<String, PolarCodec> books = codebooks(recipe, req.getCodebooksList());
        CheckpointQuantizer.Options options = new CheckpointQuantizer.Options(recipe, keepDense,
                req.getReplaceExisting(), 0, recipe.polar() ? books::get : null);
        CheckpointQuantizer.Report report = CheckpointQuantizer.quantize(model, hessians, output, options,
                new CheckpointQuantizer.Listener() {
                    @Override
                    public void layerStarting(int index, int total, String tensor) {
                        check.run();
                    }

                    @Override
                    public void layerDone(int done, int total, CheckpointQuantizer.LayerReport l) {
                        check.run();
                        out.onNext(QuantizeCheckpointProgress.newBuilder().setLayer(LayerQuantized.newBuilder()
                                .setIndex(done - 1).setCount(total).setModule(l.module()).setRows(l.rows())
                                .setCols(l.cols()).setProxyLoss(l.proxyLoss())
                                .setElapsedMs(TimeUnit.NANOSECONDS.toMillis(l.nanos()))).build());
                    }
                });
        CheckpointManifest.Builder m = CheckpointManifest.newBuilder().setCheckpoint(artifacts.uri(report.out()))
                .setLayers(report.layers().size()).setProxyLoss(report.proxyLoss()).setRecipe(recipe.name())
                .setHessiansSha256(Sha256.of(hessians))
                .setElapsedMs(TimeUnit.NANOSECONDS.toMillis(report.nanos()));
        for (Map.Entry<String, String> f : report.sha256().entrySet()) {
            Path file = report.out().resolve(f.getKey());
            m.addFiles(ArtifactRef.newBuilder().setUri(artifacts.uri(file)).setSha256(f.getValue())
                    .setSizeBytes(Files.size(file)));
        }
        try (QuantizedCheckpointReader r = QuantizedCheckpointReader.open(report.out())) {
            QuantizationSummary s = r.summary();
            m.setIndexBitsPerWeight(s.indexBitsPerWeight()).setStoredBitsPerWeight(s.storedBitsPerWeight())
                    .setFileBitsPerWeight(s.fileBitsPerWeight());
        }
        out.onNext(QuantizeCheckpointProgress.newBuilder().setManifest(m).build());
    }

    private static Recipe recipe(String name) {
        if (name.isEmpty()) throw new IllegalArgumentException("recipe is required; known recipes: "
                + String.join(", ", Recipe.names()));
        return Recipe.named(name);   // an unknown name lists the known ones
    }

    /** The polar codecs of the given codebook artifacts by id; for pcdvq-* recipes the recipe's must be there. */
    private Map<String, PolarCodec> codebooks(Recipe recipe, List<String> uris) throws IOException {
        Map<String, PolarCodec> books = new LinkedHashMap<>();
        if (!recipe.polar()) return books;
        for (String uri : uris) {
            Path p = artifacts.existing(uri, "codebook");
            try {
                PolarCodebookFile.Loaded l = PolarCodebookFile.read(p);
                books.put(l.id(), l.codec());
            } catch (IOException | IllegalArgumentException e) {
                if (e instanceof FileNotFoundException) throw e;
                throw new IllegalArgumentException("codebook '" + uri + "' cannot be read: " + e.getMessage());
            }
        }
        for (String id : recipe.codebooks()) {
            if (!books.containsKey(id)) {
                throw new IllegalArgumentException("recipe " + recipe.name() + " needs the polar codebook " + id
                        + ": pass its codebook-svc artifact in codebooks (given: " + books.keySet() + ")");
            }
        }
        return books;
    }

    private HfCheckpoint model(String uri) throws IOException {
        Path dir = artifacts.existing(uri, "model");
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("model '" + uri + "' is not a directory");
        try {
            return HfCheckpoint.open(dir);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot open model '" + uri + "': " + e.getMessage());
        }
    }

    private SafetensorsFile safetensors(String uri, String what) throws IOException {
        Path p = artifacts.existing(uri, what);
        try {
            return SafetensorsFile.open(p);
        } catch (IOException e) {
            throw new IllegalArgumentException(what + " '" + uri + "' is not a safetensors file: " + e.getMessage());
        }
    }

    private Path outputFile(String uri) throws IOException {
        Path p = artifacts.resolve(uri, "output");
        if (Files.isDirectory(p)) throw new IllegalArgumentException("output '" + uri + "' is a directory");
        return p;
    }

    private ArtifactRef ref(Path file) throws IOException {
        return ArtifactRef.newBuilder().setUri(artifacts.uri(file)).setSha256(Sha256.of(file))
                .setSizeBytes(Files.size(file)).build();
    }

    private void checkBudget(String name, long rows, long cols) {
        double bytes = 40.0 * cols * cols + 24.0 * rows * cols;
        if (bytes > limits.maxLayerBytes()) {
            throw Status.RESOURCE_EXHAUSTED.withDescription(String.format("%s [%d, %d] needs about %d MiB to "
                    + "quantize, over this server's per-layer limit of %d MiB", name, rows, cols,
                    (long) (bytes / (1 << 20)), limits.maxLayerBytes() >> 20)).asRuntimeException();
        }
    }

    private static void finite(double[] h, int n, String what) {
        for (int i = 0; i < h.length; i++) {
            if (!Double.isFinite(h[i])) {
                throw new IllegalArgumentException(what + "[" + i / n + "][" + i % n + "] is not finite: " + h[i]);
            }
        }
    }
}
