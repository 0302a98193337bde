package io.quantmesh.quant.kafka;

import io.quantmesh.quant.LayerQuantizer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Idle {@link LayerQuantizer}s by key (recipe + codebook sha256s), so a worker builds a PCDVQ codec once per
 * codebook rather than once per task. A LayerQuantizer is not thread-safe: each task borrows one for itself, and
 * concurrent tasks of the same key get one each. Only the {@value #KEYS} most recent keys keep idle quantizers.
 */
final class QuantizerPool implements AutoCloseable {
    private static final int KEYS = 4;

    private final Map<String, Deque<LayerQuantizer>> idle = new LinkedHashMap<>(16, 0.75f, true);
    private boolean closed;

    LayerQuantizer borrow(String key, Supplier<LayerQuantizer> create) {
        synchronized (this) {
            Deque<LayerQuantizer> q = idle.get(key);
            if (q != null && !q.isEmpty()) return q.pop();
        }
        return create.get();   // outside the lock: building a codec takes a while
    }

    void release(String key, LayerQuantizer quantizer) {
        List<LayerQuantizer> evicted = new ArrayList<>();
        synchronized (this) {
            if (closed) {
                evicted.add(quantizer);
            } else {
                idle.computeIfAbsent(key, k -> new ArrayDeque<>()).push(quantizer);
                var it = idle.entrySet().iterator();
                while (idle.size() > KEYS && it.hasNext()) {
                    evicted.addAll(it.next().getValue());
                    it.remove();
                }
            }
        }
        evicted.forEach(LayerQuantizer::close);
    }

    /** Idle quantizers of a key, for tests. */
    synchronized int idle(String key) {
        Deque<LayerQuantizer> q = idle.get(key);
        return q == null ? 0 : q.size();
    }

    @Override
    public void close() {
        List<LayerQuantizer> all = new ArrayList<>();
        synchronized (this) {
            closed = true;
            idle.values().forEach(all::addAll);
            idle.clear();
        }
        all.forEach(LayerQuantizer::close);
    }
}
