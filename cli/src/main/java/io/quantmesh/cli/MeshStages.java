package io.quantmesh.cli;

import io.quantmesh.calibration.kafka.CalibrationStage;
import io.quantmesh.codebook.kafka.CodebookStage;
import io.quantmesh.core.parallel.Parallel;
import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.mesh.MeshConfig;
import io.quantmesh.mesh.Stage;
import io.quantmesh.mesh.StageRunner;
import io.quantmesh.quant.kafka.QuantAssembler;
import io.quantmesh.quant.kafka.QuantPlanner;
import io.quantmesh.quant.kafka.QuantWorker;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.ToIntFunction;

/**
 * The mesh's stages as {@code quantmesh serve NAME} and {@code quantmesh mesh up} start them: one consumer group per
 * stage, named after it ({@code quantmesh-quant-worker}), so a worker started alone joins the group of the workers
 * inside a running {@code mesh up}.
 */
enum MeshStages {
    CALIBRATION("calibration"),
    CODEBOOK("codebook"),
    QUANT_PLANNER("quant-planner"),
    QUANT_WORKER("quant-worker"),
    QUANT_ASSEMBLER("quant-assembler");

    final String cliName;

    MeshStages(String cliName) {
        this.cliName = cliName;
    }

    /** "calibration" … "quant-assembler", or "quant" for the three quant-svc stages together. */
    static List<MeshStages> named(String name) {
        if (name.equals("quant")) return List.of(QUANT_PLANNER, QUANT_WORKER, QUANT_ASSEMBLER);
        for (MeshStages s : values()) if (s.cliName.equals(name)) return List.of(s);
        throw new IllegalArgumentException("unknown stage '" + name + "'; known: "
                + String.join(", ", Arrays.stream(values()).map(s -> s.cliName).toList()) + ", quant");
    }

    Stage<?> create(ArtifactStore store, MeshConfig cfg, Path corpora) throws IOException {
        return switch (this) {
            case CALIBRATION -> CalibrationStage.create(store, corpora, cfg.workerId());
            case CODEBOOK -> new CodebookStage(store, Parallel.common(), cfg.workerId());
            case QUANT_PLANNER -> new QuantPlanner(store);
            case QUANT_WORKER -> new QuantWorker(store, QuantizeCommand::weightedKMeans, 0, cfg.workerId());
            case QUANT_ASSEMBLER -> new QuantAssembler(store, cfg.workerId());
        };
    }

    /** Starts a runner per stage with {@code concurrency(stage)} consumers. Close them in reverse order. */
    static List<StageRunner> start(List<MeshStages> stages, MeshConfig cfg, ArtifactStore store, Path corpora,
                                   ToIntFunction<MeshStages> concurrency) throws IOException {
        List<StageRunner> runners = new ArrayList<>();
        try {
            for (MeshStages s : stages) {
                MeshConfig c = cfg.withConcurrency(concurrency.applyAsInt(s));
                StageRunner r = new StageRunner(c, s.create(store, c, corpora), c.group(s.cliName));
                runners.add(r);
                r.start();
            }
        } catch (IOException | RuntimeException e) {
            close(runners);
            throw e;
        }
        return runners;
    }

    static void close(List<StageRunner> runners) {
        for (int i = runners.size() - 1; i >= 0; i--) runners.get(i).close();
    }

    @Override
    public String toString() {
        return cliName.toLowerCase(Locale.ROOT);
    }
}
