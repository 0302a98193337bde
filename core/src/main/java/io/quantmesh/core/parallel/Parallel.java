package io.quantmesh.core.parallel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * Data-parallel loops over fixed chunks. Chunk boundaries depend only on the problem size and the grain, never
 * on the thread count, so a computation that writes per-element (or per-chunk) results and reduces them in chunk
 * order is bit-identical whether it runs on one core or many.
 */
public final class Parallel implements AutoCloseable {
    /** A body over the half-open element range {@code [from, to)} of chunk number {@code chunk}. */
    @FunctionalInterface
    public interface ChunkBody {
        void run(int chunk, int from, int to);
    }

    private static final class Common {
        // one worker per core: the JDK common pool keeps one core for the caller, which blocks in invoke()
        static final Parallel INSTANCE = new Parallel(new ForkJoinPool(Runtime.getRuntime().availableProcessors()), false);
    }

    private final ForkJoinPool pool;
    private final boolean owned;

    private Parallel(ForkJoinPool pool, boolean owned) {
        this.pool = pool;
        this.owned = owned;
    }

    /** All cores: a shared pool with one worker per available processor. */
    public static Parallel common() {
        return Common.INSTANCE;
    }

    /** A dedicated pool of {@code threads} workers; 1 runs everything on the calling thread. */
    public static Parallel ofThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        return threads == 1 ? new Parallel(null, false) : new Parallel(new ForkJoinPool(threads), true);
    }

    /** Number of chunks {@code forChunks(n, grain, ...)} uses. */
    public static int chunks(int n, int grain) {
        if (grain < 1) throw new IllegalArgumentException("grain must be >= 1");
        return n == 0 ? 0 : (int) ((n + (long) grain - 1) / grain);
    }

    public int parallelism() {
        return pool == null ? 1 : pool.getParallelism();
    }

    /** Runs {@code body} over chunks {@code [c*grain, min(n,(c+1)*grain))}, possibly in parallel; returns when all finished. */
    public void forChunks(int n, int grain, ChunkBody body) {
        int chunks = chunks(n, grain);
        if (chunks == 0) return;
        if (pool == null || chunks == 1) {
            for (int c = 0; c < chunks; c++) body.run(c, c * grain, (int) Math.min(n, (long) (c + 1) * grain));
            return;
        }
        RecursiveAction root = new RecursiveAction() {
            @Override
            protected void compute() {
                List<ForkJoinTask<?>> tasks = new ArrayList<>(chunks);
                for (int c = 0; c < chunks; c++) {
                    int cc = c;
                    tasks.add(ForkJoinTask.adapt(() ->
                            body.run(cc, cc * grain, (int) Math.min(n, (long) (cc + 1) * grain))));
                }
                invokeAll(tasks);
            }
        };
        if (ForkJoinTask.inForkJoinPool() && ForkJoinTask.getPool() == pool) root.invoke();
        else pool.invoke(root);
    }

    /** Shuts down a dedicated pool (no-op for the shared pool and single-thread instances). */
    @Override
    public void close() {
        if (owned) pool.shutdown();
    }
}
