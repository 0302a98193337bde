package io.quantmesh.mesh;

import io.quantmesh.core.io.Durable;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Counts how often a record was handed to a handler without being finished, across processes: a task that kills its
 * worker (a native crash, the kernel's OOM killer) is never caught by the in-process retries and would otherwise be
 * redelivered forever, taking every worker of the group down in turn. The count lives in the shared store
 * ({@code <store>/.mesh/deliveries/<group>/<topic>-<partition>-<offset>}), is made durable before the handler runs,
 * and is deleted once the record's offset is committed.
 */
final class DeliveryLedger {
    /** Deliveries that did not finish before the record is declared poison; a kill -9 of a healthy worker costs one. */
    static final int MAX_UNFINISHED_DELIVERIES = 5;

    private final Path dir;

    DeliveryLedger(Path storeRoot, String group) {
        this.dir = storeRoot.resolve(".mesh").resolve("deliveries").resolve(group);
    }

    private Path file(String topic, int partition, long offset) {
        return dir.resolve(topic + "-" + partition + "-" + offset);
    }

    /** Deliveries of this record that began before this one and never finished. */
    int unfinished(String topic, int partition, long offset) throws IOException {
        try {
            String s = Files.readString(file(topic, partition, offset), StandardCharsets.US_ASCII).strip();
            return Integer.parseInt(s);
        } catch (NoSuchFileException e) {
            return 0;
        } catch (NumberFormatException e) {
            return 0;   // a torn count cannot happen (atomic writes); treat a foreign file as none
        }
    }

    /** Records, durably, that one more delivery of the record begins. */
    void begin(String topic, int partition, long offset, int unfinishedBefore) throws IOException {
        Files.createDirectories(dir);
        Durable.writeAtomically(file(topic, partition, offset),
                Integer.toString(unfinishedBefore + 1).getBytes(StandardCharsets.US_ASCII));
    }

    /** The record is committed: forget it (no fsync needed: a lost delete only leaves a count for an old offset). */
    void finished(String topic, int partition, long offset) throws IOException {
        Files.deleteIfExists(file(topic, partition, offset));
    }
}
