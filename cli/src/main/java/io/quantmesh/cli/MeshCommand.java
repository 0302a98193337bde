package io.quantmesh.cli;

import io.quantmesh.mesh.MeshConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code quantmesh mesh up}: the whole pipeline in this JVM. */
@Command(name = "mesh", mixinStandardHelpOptions = true, subcommands = MeshCommand.Up.class,
        description = "The one-process mesh: embedded Kafka + every stage + gRPC endpoints.")
final class MeshCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = "Start an embedded KRaft broker, the topics, every stage's Kafka runner and the gRPC servers "
                    + "in this JVM; runs until Ctrl-C. Writes <store>/mesh.json for submit/jobs/serve.")
    static final class Up implements Callable<Integer> {
        @Option(names = "--store", paramLabel = "DIR", description = "artifact store root (env QUANTMESH_STORE; "
                + "default: ./quantmesh-store); Kafka keeps its data in DIR/.mesh/kafka")
        Path store;

        @Option(names = "--kafka-port", defaultValue = "0", paramLabel = "N",
                description = "broker port (default: the previous run's on this store, else a free one)")
        int kafkaPort;

        @Option(names = "--port-base", defaultValue = "50051", paramLabel = "N",
                description = "gRPC ports: calibration N, codebook N+1, quant N+2 (default: ${DEFAULT-VALUE}; 0 = free ports; "
                        + "-1 = no gRPC)")
        int portBase;

        @Option(names = "--workers", defaultValue = "2", paramLabel = "N",
                description = "quant worker consumers in this process (default: ${DEFAULT-VALUE})")
        int workers;

        @Option(names = "--corpora", paramLabel = "DIR", description = "calibration corpora (default: the shared ones)")
        Path corpora;

        @Override
        public Integer call() throws Exception {
            MeshConfig env = MeshConfig.fromEnv(System.getenv());
            Path root = store != null ? store : env.storeRoot() != null ? env.storeRoot() : MeshOptions.DEFAULT_STORE;
            LocalMesh mesh = LocalMesh.start(new LocalMesh.Options(root, kafkaPort, workers, portBase, corpora), env);
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                System.out.println("quantmesh mesh: shutting down");
                try {
                    mesh.close();
                } catch (Exception e) {
                    System.err.println("quantmesh mesh: " + Main.reason(e));
                }
                stopped.countDown();
            }));
            System.out.println("quantmesh mesh up");
            System.out.println("  kafka      " + mesh.bootstrapServers() + "  (topics " + mesh.config().topicPrefix()
                    + "*, groups " + mesh.config().group("<stage>") + ")");
            System.out.println("  store      " + mesh.store().root());
            mesh.grpcPorts().forEach((k, v) -> System.out.printf("  grpc       %-12s 127.0.0.1:%d%n", k, v));
            System.out.println("  stages     calibration, codebook, quant-planner, quant-worker x" + workers
                    + ", quant-assembler");
            System.out.println("  submit with: quantmesh submit --store " + mesh.store().root()
                    + " --model DIR --recipe NAME   (Ctrl-C stops the mesh)");
            stopped.await();
            return 0;
        }
    }
}
