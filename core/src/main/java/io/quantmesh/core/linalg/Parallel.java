package io.quantmesh.core.linalg;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * Runs independent index tasks on a fixed number of threads. Callers split work into a fixed grid of tasks whose
 * results do not depend on which thread runs them, so outputs are bit-identical for every thread count.
 *
 * <p>The calling thread takes part and claims indices from the same counter as the helpers, so nested use
 * cannot deadlock: if no helper ever starts, the caller does all the work itself.
 */
public final class Parallel {
    private static final ConcurrentHashMap<Integer, ExecutorService> HELPERS = new ConcurrentHashMap<>();
    private static final Parallel SERIAL = new Parallel(1);

    private final int threads;

    private Parallel(int threads) {
        this.threads = threads;
    }

    /** {@code threads} threads in all (the caller plus threads-1 pooled daemon helpers). */
    public static Parallel of(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        return threads == 1 ? SERIAL : new Parallel(threads);
    }

    /** One thread per available processor. */
    public static Parallel allCores() {
        return of(Runtime.getRuntime().availableProcessors());
    }

    public static Parallel serial() {
        return SERIAL;
    }

    public int threads() {
        return threads;
    }

    /** Runs {@code task.accept(i)} for every i in [0, count) and returns when all have finished. */
    public void forEach(int count, IntConsumer task) {
        if (count <= 0) return;
        if (threads == 1 || count == 1) {
            for (int i = 0; i < count; i++) task.accept(i);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(count);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Runnable worker = () -> {
            for (int i; (i = next.getAndIncrement()) < count; ) {
                try {
                    if (failure.get() == null) task.accept(i);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            }
        };
        ExecutorService helpers = HELPERS.computeIfAbsent(threads - 1, Parallel::newHelpers);
        int helperCount = Math.min(threads - 1, count - 1);
        for (int h = 0; h < helperCount; h++) helpers.execute(worker);
        worker.run();
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for parallel tasks", e);
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error err) throw err;
        if (t != null) throw new IllegalStateException(t);
    }

    private static ExecutorService newHelpers(int n) {
        AtomicInteger id = new AtomicInteger();
        return Executors.newFixedThreadPool(n, r -> {
            Thread t = new Thread(r, "quantmesh-linalg-" + id.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }
}
