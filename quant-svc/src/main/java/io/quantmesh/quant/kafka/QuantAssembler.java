package io.quantmesh.quant.kafka;

import com.google.protobuf.Parser;
import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.quantized.LayerArtifact;
import io.quantmesh.core.quantized.QuantizationSummary;
import io.quantmesh.core.quantized.QuantizedCheckpointReader;
import io.quantmesh.core.quantized.QuantizedTensor;
import io.quantmesh.core.recipe.Recipe;
import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.core.store.StoredArtifact;
import io.quantmesh.mesh.BadInputException;
import io.quantmesh.mesh.Emit;
import io.quantmesh.mesh.JobSpecs;
import io.quantmesh.mesh.Stage;
import io.quantmesh.mesh.Topic;
import io.quantmesh.proto.v1.CheckpointQuantized;
import io.quantmesh.proto.v1.JobSpec;
import io.quantmesh.proto.v1.QuantResult;
import io.quantmesh.quant.CheckpointQuantizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * quant-svc's fan-in, stateless: on every {@link QuantResult}, if the layers 0..count−1 of the job are all in the
 * store (each with the digest its worker writes after the artifact), verify every layer against its digest, read them
 * and write the checkpoint with {@link CheckpointQuantizer#write} — the CLI's writer, with the CLI's options (recipe,
 * keep_dense, the Hessian artifact's sha256) — then emit {@link CheckpointQuantized}; otherwise emit nothing. The
 * writer builds the directory in a temporary sibling and renames it into place, so a crash never leaves half a
 * checkpoint; a redelivered (or duplicated) last result rewrites identical bytes over the existing directory and
 * re-emits.
 */
public final class QuantAssembler implements Stage<QuantResult> {
    private final VerifiedArtifacts artifacts;
    private final String worker;

    public QuantAssembler(ArtifactStore store, String worker) {
        this.artifacts = new VerifiedArtifacts(store);
        this.worker = worker;
    }

    @Override
    public String name() {
        return "assembler";
    }

    @Override
    public Topic input() {
        return Topic.RESULTS;
    }

    @Override
    public Parser<QuantResult> parser() {
        return QuantResult.parser();
    }

    @Override
    public JobSpec spec(QuantResult result) {
        return result.getSpec();
    }

    @Override
    public String unit(QuantResult result) {
        return "layer " + result.getLayerIndex() + " " + result.getModule();
    }

    @Override
    public List<Emit> handle(QuantResult result) throws Exception {
        long startedMs = System.currentTimeMillis();
        JobSpec spec = result.getSpec();
        String job = JobSpecs.jobId(spec);
        int count = result.getLayerCount();
        if (count < 1 || result.getLayerIndex() < 0 || result.getLayerIndex() >= count) {
            throw new BadInputException("layer " + result.getLayerIndex() + " of " + count + " is not a layer of the plan");
        }
        if (!result.hasHessians()) throw new BadInputException("result of layer " + result.getLayerIndex() + " names no Hessian artifact");
        JobArtifacts.verified(artifacts, result.getLayer(), "layer");   // the layer this event names
        ArtifactStore store = artifacts.store();
        List<StoredArtifact> digests = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            StoredArtifact d = JobArtifacts.readDigest(store, job, i);
            if (d == null) return List.of();   // not yet: a later result assembles
            digests.add(d);
        }
        List<Path> files = new ArrayList<>(count);
        for (StoredArtifact d : digests) files.add(JobArtifacts.verified(artifacts, JobArtifacts.ref(d), "layer"));
        Recipe recipe = JobSpecs.recipe(spec);
        Pattern keepDense = JobArtifacts.keepDense(spec);
        Path model = JobArtifacts.resolve(store, spec.getModel(), "model");
        Path out = JobArtifacts.resolve(store, spec.getOutput(), "output");
        List<String> plan;
        try (HfCheckpoint ck = JobArtifacts.openModel(store, spec)) {
            plan = CheckpointQuantizer.plan(ck, keepDense);
        }
        if (plan.size() != count) {
            throw new BadInputException("the plan of " + spec.getModel() + " has " + plan.size() + " layers, the results say "
                    + count);
        }
        long t0 = System.nanoTime();
        Map<String, QuantizedTensor> layers = new LinkedHashMap<>();
        double proxyLoss = 0;
        for (int i = 0; i < count; i++) {
            String module = plan.get(i).substring(0, plan.get(i).length() - ".weight".length());
            LayerArtifact.Read read = LayerArtifact.read(files.get(i), module);
            if (!module.equals(read.metadata().get(QuantWorker.MODULE_KEY))) {
                throw new BadInputException(files.get(i).getFileName() + " holds " + read.metadata().get(QuantWorker.MODULE_KEY)
                        + ", the plan's layer " + i + " is " + module);
            }
            layers.put(module, read.layer());
            String loss = read.metadata().get(QuantWorker.PROXY_LOSS_KEY);
            if (loss == null) throw new BadInputException(files.get(i).getFileName() + " has no " + QuantWorker.PROXY_LOSS_KEY);
            proxyLoss += Double.parseDouble(loss);
        }
        CheckpointQuantizer.Options options = new CheckpointQuantizer.Options(recipe, keepDense, true, 0);
        Path written = CheckpointQuantizer.write(model, result.getHessians().getSha256(), layers, out, options);
        long computeNanos = System.nanoTime() - t0;
        CheckpointQuantized.Builder done = CheckpointQuantized.newBuilder().setSpec(spec).setCheckpoint(store.uri(written))
                .setLayers(count).setProxyLoss(proxyLoss);
        for (Map.Entry<String, String> f : CheckpointQuantizer.filesSha256(written).entrySet()) {
            Path file = written.resolve(f.getKey());
            done.addFiles(JobArtifacts.ref(new StoredArtifact(store.uri(file), f.getValue(), Files.size(file))));
        }
        try (QuantizedCheckpointReader r = QuantizedCheckpointReader.open(written)) {
            QuantizationSummary s = r.summary();
            done.setIndexBitsPerWeight(s.indexBitsPerWeight()).setStoredBitsPerWeight(s.storedBitsPerWeight());
        }
        done.setTiming(JobArtifacts.timing(startedMs, computeNanos, worker));
        return List.of(new Emit(Topic.QUANTIZED, job, done.build()));
    }
}
