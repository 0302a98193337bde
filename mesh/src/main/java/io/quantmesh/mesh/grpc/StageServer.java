package io.quantmesh.mesh.grpc;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC side every stage shares: its service plus standard health and server reflection on one port, a graceful
 * close (health NOT_SERVING, 10 s for running calls, then cancel) and the container entry point's flag parsing.
 * Each stage's {@code XServer} only chooses its service and limits.
 */
public final class StageServer implements AutoCloseable {
    private final String label;
    private final Server server;
    private final HealthStatusManager health;

    private StageServer(String label, Server server, HealthStatusManager health) {
        this.label = label;
        this.server = server;
        this.health = health;
    }

    /**
     * @param label           the stage as users see it, e.g. "quant-svc"
     * @param port            0 picks a free one
     * @param maxInboundBytes the transport's message limit (services check their own, smaller limits to answer
     *                        INVALID_ARGUMENT instead of a transport error)
     * @param serviceName     the gRPC service name whose health is reported SERVING
     */
    public static StageServer start(String label, int port, int maxInboundBytes, BindableService service,
                                    String serviceName) throws IOException {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be 0..65535, got " + port);
        HealthStatusManager health = new HealthStatusManager();
        Server server = ServerBuilder.forPort(port)
                .addService(service)
                .addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .maxInboundMessageSize(maxInboundBytes)
                .build()
                .start();
        health.setStatus("", ServingStatus.SERVING);
        health.setStatus(serviceName, ServingStatus.SERVING);
        return new StageServer(label, server, health);
    }

    public int port() {
        return server.getPort();
    }

    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    @Override
    public void close() throws InterruptedException {
        health.enterTerminalState();
        server.shutdown();
        if (!server.awaitTermination(10, TimeUnit.SECONDS)) server.shutdownNow();
    }

    /** Says where it listens, stops cleanly when the JVM shuts down, and blocks until then. */
    public void serveUntilShutdown(Path artifacts) throws InterruptedException {
        System.out.println(label + " listening on port " + port() + ", artifacts in " + artifacts.toAbsolutePath());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        awaitTermination();
    }

    /**
     * {@code --name=value} flags of a stage's main over defaults (usually from environment variables); an unknown
     * flag is an IllegalArgumentException naming the known ones, which the main turns into exit code 2.
     */
    public static Map<String, String> flags(String[] args, Map<String, String> defaults) {
        Map<String, String> out = new LinkedHashMap<>(defaults);
        for (String a : args) {
            int eq = a.indexOf('=');
            String name = a.startsWith("--") && eq > 2 ? a.substring(2, eq) : null;
            if (name == null || !defaults.containsKey(name)) {
                throw new IllegalArgumentException("unknown argument " + a + " ("
                        + String.join(" ", new java.util.TreeSet<>(defaults.keySet()).stream().map(k -> "--" + k + "=…").toList()) + ")");
            }
            out.put(name, a.substring(eq + 1));
        }
        return out;
    }

    /** The int value of a flag, with a one-line reason when it is not a number. */
    public static int intFlag(Map<String, String> flags, String name) {
        try {
            return Integer.parseInt(flags.get(name));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a number, got '" + flags.get(name) + "'");
        }
    }

    /** Prints {@code program: reason} and exits 2: the CLI convention for bad input. */
    public static void fail(String program, Exception e) {
        System.err.println(program + ": " + e.getMessage());
        System.exit(2);
    }
}
