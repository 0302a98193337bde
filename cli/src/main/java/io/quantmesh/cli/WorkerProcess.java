package io.quantmesh.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One quant worker as a separate JVM ({@code quantmesh serve quant-worker}), for the fault tests and
 * {@code bench-mesh}: the current {@code java}, the current class path (the CLI jar, or the test class path), the
 * Vector API module, configuration through the mesh's environment variables. {@link #kill()} is
 * {@link Process#destroyForcibly()}: SIGKILL on Linux, the process gets no chance to commit or clean up.
 * A killed worker's partitions move to the live members once its group session expires (MeshConfig: 6 s).
 */
final class WorkerProcess implements AutoCloseable {
    private final String workerId;
    private final Process process;

    private WorkerProcess(String workerId, Process process) {
        this.workerId = workerId;
        this.process = process;
    }

    /**
     * @param threads processors the child sees, hence the threads of its GPTQ loop (the bytes do not depend on it)
     * @param heap    the child's -Xmx (e.g. "1g"; a layer needs about 40·cols² + 24·rows·cols bytes)
     * @param log     the child's stdout and stderr are appended here
     */
    static WorkerProcess start(String bootstrap, Path store, String workerId, int threads, String heap, Path log)
            throws IOException {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin",
                "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-Xmx" + heap,
                // the worker's GPTQ pool (Parallel.common) and its GC size themselves by the processors they see
                "-XX:ActiveProcessorCount=" + threads,
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve", "quant-worker"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Map<String, String> env = pb.environment();
        env.put("QUANTMESH_KAFKA_BOOTSTRAP_SERVERS", bootstrap);
        env.put("QUANTMESH_STORE", store.toString());
        env.put("QUANTMESH_WORKER_ID", workerId);
        env.put("QUANTMESH_CONCURRENCY", "1");
        String shared = System.getProperty("quantmesh.shared");
        if (shared != null) env.put("QUANTMESH_SHARED", shared);
        return new WorkerProcess(workerId, pb.start());
    }

    String workerId() {
        return workerId;
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** kill -9, and wait until the process is gone (its sockets closed, nothing more written). */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) throw new IllegalStateException(workerId + " survived SIGKILL");
    }

    /** A polite stop (SIGTERM) with a SIGKILL after a grace period. */
    @Override
    public void close() throws InterruptedException {
        if (!process.isAlive()) return;
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) kill();
    }
}
