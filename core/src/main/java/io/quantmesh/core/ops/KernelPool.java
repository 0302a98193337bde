package io.quantmesh.core.ops;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads kernels split their rows over: a fixed pool of daemon threads (size = cores unless the system
 * property {@code quantmesh.threads} says otherwise). The caller runs one chunk itself; a call from inside a
 * pool thread runs inline, so nested use cannot deadlock. Work is split by rows only, so results do not depend
 * on the thread count.
 */
public final class KernelPool implements AutoCloseable {
    private static final ThreadLocal<Boolean> IN_POOL = ThreadLocal.withInitial(() -> false);
    private static volatile KernelPool shared;

    private final int threads;
    private final ExecutorService executor;

    /** Work done by one chunk: rows [from, to). */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    public KernelPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        AtomicInteger n = new AtomicInteger();
        this.executor = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(() -> {
                IN_POOL.set(true);
                r.run();
            }, "quantmesh-kernel-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** The process-wide pool. */
    public static KernelPool shared() {
        KernelPool p = shared;
        if (p == null) {
            synchronized (KernelPool.class) {
                if (shared == null) shared = new KernelPool(defaultThreads());
                p = shared;
            }
        }
        return p;
    }

    static int defaultThreads() {
        String s = System.getProperty("quantmesh.threads");
        if (s != null && !s.isBlank()) {
            try {
                return Math.max(1, Integer.parseInt(s.trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("quantmesh.threads must be an integer, got '" + s + "'");
            }
        }
        return Runtime.getRuntime().availableProcessors();
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over [0, n) split into at most {@link #threads()} contiguous chunks of at least
     * {@code minChunk} items, and returns when all are done (rethrowing the first failure).
     */
    public void forRange(int n, int minChunk, Range body) {
        int chunks = (int) Math.min(threads, Math.max(1, n / (long) Math.max(1, minChunk)));
        if (chunks <= 1 || executor == null || IN_POOL.get()) {
            if (n > 0) body.run(0, n);
            return;
        }
        Future<?>[] futures = new Future<?>[chunks - 1];
        for (int c = 1; c < chunks; c++) {
            int from = (int) ((long) n * c / chunks), to = (int) ((long) n * (c + 1) / chunks);
            futures[c - 1] = executor.submit(() -> body.run(from, to));
        }
        Throwable failure = null;
        try {
            body.run(0, (int) ((long) n / chunks));
        } catch (Throwable t) {
            failure = t;
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (failure == null) failure = e.getCause();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) failure = e;
            }
        }
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error err) throw err;
        if (failure != null) throw new IllegalStateException(failure);
    }

    @Override
    public void close() {
        if (executor != null) executor.shutdownNow();
    }
}
