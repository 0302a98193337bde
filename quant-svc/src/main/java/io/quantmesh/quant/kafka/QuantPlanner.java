package io.quantmesh.quant.kafka;

import com.google.protobuf.Parser;
import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.recipe.Recipe;
import io.quantmesh.core.safetensors.SafetensorsFile;
import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.mesh.BadInputException;
import io.quantmesh.mesh.Emit;
import io.quantmesh.mesh.JobSpecs;
import io.quantmesh.mesh.Stage;
import io.quantmesh.mesh.Topic;
import io.quantmesh.proto.v1.CodebookArtifact;
import io.quantmesh.proto.v1.CodebooksCompleted;
import io.quantmesh.proto.v1.JobSpec;
import io.quantmesh.proto.v1.QuantTask;
import io.quantmesh.quant.CheckpointQuantizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * quant-svc's fan-out: one {@link QuantTask} per linear of {@link CheckpointQuantizer#plan} (the same order and
 * indices as the one-process CLI, so each layer gets the same rotation seed), keyed {@code <job>/<index>} so the
 * tasks spread over the partitions of {@code quant.tasks}. Every task's Hessian tensor is looked up here, so a
 * model/artifact mismatch fails the job before any worker starts. Writes nothing: a redelivery re-emits equal tasks,
 * which the workers turn into the same bytes.
 */
public final class QuantPlanner implements Stage<CodebooksCompleted> {
    private final VerifiedArtifacts artifacts;

    public QuantPlanner(ArtifactStore store) {
        this.artifacts = new VerifiedArtifacts(store);
    }

    @Override
    public String name() {
        return "planner";
    }

    @Override
    public Topic input() {
        return Topic.CODEBOOKS;
    }

    @Override
    public Parser<CodebooksCompleted> parser() {
        return CodebooksCompleted.parser();
    }

    @Override
    public JobSpec spec(CodebooksCompleted event) {
        return event.getSpec();
    }

    @Override
    public String unit(CodebooksCompleted event) {
        return "";
    }

    @Override
    public List<Emit> handle(CodebooksCompleted event) throws Exception {
        JobSpec spec = event.getSpec();
        String job = JobSpecs.jobId(spec);
        Recipe recipe = JobSpecs.recipe(spec);
        Set<String> supplied = event.getCodebooksList().stream().map(CodebookArtifact::getId).collect(Collectors.toSet());
        for (String id : recipe.codebooks()) {
            if (!supplied.contains(id)) throw new BadInputException(recipe.name() + " needs codebook " + id + ", not supplied");
        }
        Path hessians = JobArtifacts.verified(artifacts, event.getHessians(), "hessians");
        List<String> names = new ArrayList<>(), keys = new ArrayList<>();
        try (HfCheckpoint ck = JobArtifacts.openModel(artifacts.store(), spec);
             SafetensorsFile hf = SafetensorsFile.open(hessians)) {
            names.addAll(CheckpointQuantizer.plan(ck, JobArtifacts.keepDense(spec)));
            Map<String, String> siteOf = CheckpointQuantizer.sites(hf);
            for (String name : names) keys.add(CheckpointQuantizer.siteFor(siteOf, name, event.getHessians().getUri()));
        }
        List<Emit> out = new ArrayList<>(names.size());
        for (int i = 0; i < names.size(); i++) {
            QuantTask task = QuantTask.newBuilder().setSpec(spec).setLayerIndex(i).setLayerCount(names.size())
                    .setTensor(names.get(i)).setHessians(event.getHessians()).setHessianKey(keys.get(i))
                    .addAllCodebooks(event.getCodebooksList()).setOutput(JobArtifacts.layerUri(job, i))
                    .build();
            out.add(new Emit(Topic.TASKS, job + "/" + i, task));
        }
        return out;
    }
}
