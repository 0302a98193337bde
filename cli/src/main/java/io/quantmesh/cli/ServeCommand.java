package io.quantmesh.cli;

import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.mesh.MeshConfig;
import io.quantmesh.mesh.StageRunner;
import io.quantmesh.mesh.Topics;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code quantmesh serve STAGE}: one stage alone against an external broker (a Deployment's entry point). */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run one stage's Kafka consumer group member(s) against a broker until stopped.")
final class ServeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "STAGE",
            description = "calibration | codebook | quant-planner | quant-worker | quant-assembler | quant (the last three)")
    String stage;

    @Mixin
    MeshOptions mesh;

    @Option(names = "--concurrency", paramLabel = "N",
            description = "consumers of each stage in this process (env QUANTMESH_CONCURRENCY; default 1)")
    Integer concurrency;

    @Option(names = "--corpora", paramLabel = "DIR", description = "calibration corpora (default: the shared ones)")
    Path corpora;

    @Override
    public Integer call() throws Exception {
        List<MeshStages> stages = MeshStages.named(stage);
        MeshConfig cfg = mesh.resolve();
        if (concurrency != null) cfg = cfg.withConcurrency(concurrency);
        ArtifactStore store = new ArtifactStore(cfg.storeRoot());
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", cfg.bootstrapServers(),
                "default.api.timeout.ms", "15000", "request.timeout.ms", "10000"))) {
            Topics.ensure(admin, cfg);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("no broker at " + cfg.bootstrapServers() + ": " + Main.reason(e));
        }
        int n = cfg.concurrency();
        List<StageRunner> runners = MeshStages.start(stages, cfg, store, corpora, s -> n);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            MeshStages.close(runners);
            stopped.countDown();
        }));
        System.out.println("quantmesh serve " + stage + ": " + n + " consumer(s) per stage against "
                + cfg.bootstrapServers() + ", store " + store.root() + ", worker " + cfg.workerId());
        stopped.await();
        return 0;
    }
}
