package io.quantmesh.quant.kafka;

import com.google.protobuf.Parser;
import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.codec.PolarCodebookFile;
import io.quantmesh.core.codec.PolarCodec;
import io.quantmesh.core.quantized.LayerArtifact;
import io.quantmesh.core.recipe.Recipe;
import io.quantmesh.core.safetensors.SafetensorsFile;
import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.core.store.StoredArtifact;
import io.quantmesh.core.tensor.Tensor;
import io.quantmesh.mesh.BadInputException;
import io.quantmesh.mesh.Emit;
import io.quantmesh.mesh.JobSpecs;
import io.quantmesh.mesh.Stage;
import io.quantmesh.mesh.Topic;
import io.quantmesh.proto.v1.CodebookArtifact;
import io.quantmesh.proto.v1.JobSpec;
import io.quantmesh.proto.v1.QuantResult;
import io.quantmesh.proto.v1.QuantTask;
import io.quantmesh.quant.CheckpointQuantizer;
import io.quantmesh.quant.CodebookFitter;
import io.quantmesh.quant.LayerQuantizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A quant worker: one {@link QuantTask} = one linear through {@link LayerQuantizer} (the code the CLI runs), its record
 * written to the task's output as a {@link LayerArtifact} through the store (temp + fsync + atomic rename) BEFORE the
 * {@link QuantResult} is emitted. Same task, same bytes: a redelivery rewrites an identical file. The Hessian and
 * codebook artifacts are checked against their sha256 before use; one LayerQuantizer per (recipe, codebook sha256s)
 * is kept so a PCDVQ codec is not rebuilt per task. Thread-safe: concurrent tasks each borrow their own quantizer.
 */
public final class QuantWorker implements Stage<QuantTask>, AutoCloseable {
    /** Metadata of the layer artifact the assembler reads back (values are deterministic strings). */
    static final String MODULE_KEY = "module";
    static final String PROXY_LOSS_KEY = "proxy_loss";

    private final VerifiedArtifacts artifacts;
    private final CodebookFitter fitter;
    private final int threads;
    private final String worker;
    private final QuantizerPool quantizers = new QuantizerPool();

    /** Without a k-means fitter: {@code vptq-*} tasks fail as bad input. */
    public QuantWorker(ArtifactStore store, int threads, String worker) {
        this(store, null, threads, worker);
    }

    /**
     * @param fitter  the weighted k-means of VPTQ's per-layer codebooks (null: none). codebook-svc's, supplied by whoever
     *                wires the stages (quant-svc does not call another stage's classes); the CLI's fitter gives the
     *                CLI's bytes
     * @param threads threads of each layer's GPTQ loop, 0 = the common pool (the bytes do not depend on it)
     * @param worker  who this is, for {@code Timing.worker}
     */
    public QuantWorker(ArtifactStore store, CodebookFitter fitter, int threads, String worker) {
        this.artifacts = new VerifiedArtifacts(store);
        this.fitter = fitter;
        this.threads = threads;
        this.worker = worker;
    }

    @Override
    public String name() {
        return "quant";
    }

    @Override
    public Topic input() {
        return Topic.TASKS;
    }

    @Override
    public Parser<QuantTask> parser() {
        return QuantTask.parser();
    }

    @Override
    public JobSpec spec(QuantTask task) {
        return task.getSpec();
    }

    @Override
    public String unit(QuantTask task) {
        return "layer " + task.getLayerIndex() + " " + task.getTensor();
    }

    @Override
    public List<Emit> handle(QuantTask task) throws Exception {
        long startedMs = System.currentTimeMillis();
        JobSpec spec = task.getSpec();
        JobSpecs.jobId(spec);
        Recipe recipe = JobSpecs.recipe(spec);
        if (task.getLayerIndex() < 0 || task.getLayerIndex() >= task.getLayerCount()) {
            throw new BadInputException("layer index " + task.getLayerIndex() + " outside 0.." + (task.getLayerCount() - 1));
        }
        long readStart = System.nanoTime();
        Path hessians = JobArtifacts.verified(artifacts, task.getHessians(), "hessians");
        Map<String, Path> codebooks = new LinkedHashMap<>();
        StringBuilder key = new StringBuilder(recipe.name());
        for (CodebookArtifact c : task.getCodebooksList()) {
            codebooks.put(c.getId(), JobArtifacts.verified(artifacts, c.getArtifact(), "codebook " + c.getId()));
            key.append(' ').append(c.getId()).append('=').append(c.getArtifact().getSha256());
        }
        String name = task.getTensor();
        Tensor w;
        double[] h;
        try (HfCheckpoint ck = JobArtifacts.openModel(artifacts.store(), spec); SafetensorsFile hf = SafetensorsFile.open(hessians)) {
            if (!ck.contains(name)) throw new BadInputException("model " + spec.getModel() + " has no tensor " + name);
            Tensor mapped = ck.tensor(name);
            // read W off the mapped file before the clock starts: compute_ms is the quantization alone
            w = Tensor.ofFloats(mapped.toFloatArray(), mapped.shape());
            if (w.rank() != 2) throw new BadInputException(name + " is not a matrix");
            h = CheckpointQuantizer.hessian(hf, task.getHessianKey(), Math.toIntExact(w.dim(1)), name);
        }
        long readNanos = System.nanoTime() - readStart;
        String k = key.toString();
        LayerQuantizer quantizer = quantizers.borrow(k, () -> new LayerQuantizer(recipe, polar(codebooks), fitter, threads));
        LayerQuantizer.Layer layer;
        long t0 = System.nanoTime();
        try {
            layer = quantizer.quantize(name, w, h, task.getLayerIndex());
        } finally {
            quantizers.release(k, quantizer);
        }
        long computeNanos = System.nanoTime() - t0;
        CheckpointQuantizer.LayerReport report = layer.report();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(MODULE_KEY, report.module());
        meta.put(PROXY_LOSS_KEY, Double.toString(report.proxyLoss()));
        long w0 = System.nanoTime();
        StoredArtifact written = artifacts.store().put(task.getOutput(),
                temp -> LayerArtifact.write(temp, layer.stored(), meta));
        JobArtifacts.writeDigest(artifacts.store(), spec.getJobId(), task.getLayerIndex(), written);
        long writeNanos = System.nanoTime() - w0;
        QuantResult result = QuantResult.newBuilder().setSpec(spec).setLayerIndex(task.getLayerIndex())
                .setLayerCount(task.getLayerCount()).setModule(report.module()).setLayer(JobArtifacts.ref(written))
                .setRows(report.rows()).setCols(report.cols()).setProxyLoss(report.proxyLoss())
                .setHessians(task.getHessians()).setTiming(JobArtifacts.timing(startedMs, computeNanos, worker).toBuilder()
                        .setReadMs(readNanos / 1_000_000).setWriteMs(writeNanos / 1_000_000)).build();
        return List.of(new Emit(Topic.RESULTS, spec.getJobId(), result));
    }

    /** id → codec of the task's (already verified) codebook files, read when a quantizer is built. */
    private static java.util.function.Function<String, PolarCodec> polar(Map<String, Path> files) {
        Map<String, PolarCodec> codecs = new HashMap<>();
        return id -> codecs.computeIfAbsent(id, x -> {
            Path p = files.get(x);
            if (p == null) return null;   // storedCodec reports the missing codebook
            try {
                PolarCodebookFile.Loaded loaded = PolarCodebookFile.read(p);
                if (!loaded.id().equals(x)) {
                    throw new BadInputException("codebook artifact for " + x + " holds codebook " + loaded.id());
                }
                return loaded.codec();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    QuantizerPool quantizers() {
        return quantizers;
    }

    @Override
    public void close() {
        quantizers.close();
    }
}
