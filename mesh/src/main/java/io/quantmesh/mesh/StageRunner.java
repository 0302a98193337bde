package io.quantmesh.mesh;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.quantmesh.proto.v1.JobFailed;
import io.quantmesh.proto.v1.JobSpec;
import io.quantmesh.proto.v1.Timing;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * Runs one {@link Stage} as {@code cfg.concurrency()} members of a consumer group. For each record: parse, handle
 * (the stage makes its artifacts durable), produce the emitted events and wait until the broker has them, THEN
 * commit the record's offset. A process killed anywhere before the commit gets the record redelivered (to itself or
 * another member), and the stage's idempotence makes the second run rewrite the same bytes.
 *
 * <p>Failures: {@link BadInputException} / {@link IllegalArgumentException} and unparseable records produce a
 * {@link JobFailed} at once; other exceptions are retried up to {@code cfg.maxAttempts()} times with backoff, then
 * produce a JobFailed. The offset is committed once the JobFailed is acknowledged: a poison record never blocks its
 * partition. Records of jobs that already failed (seen on jobs.failed) are skipped. When producing fails (the broker
 * is down), nothing is committed: the record is sought back and handled again once the broker is back. While
 * closing, nothing is failed or committed: an interrupted unit is simply redelivered later.
 */
public final class StageRunner implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StageRunner.class);
    private static final Duration POLL = Duration.ofMillis(500);

    private enum Outcome { DONE, AGAIN }

    private final MeshConfig cfg;
    private final Stage<?> stage;
    private final String groupId;
    private final DeliveryLedger ledger;
    private final List<KafkaConsumer<String, byte[]>> consumers = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    /** Threads inside {@link Stage#handle}: the only ones close() interrupts (an interrupted poll is noisy). */
    private final java.util.Set<Thread> handling = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private KafkaProducer<String, byte[]> producer;
    private FailedJobs failedJobs;
    private volatile boolean closing;

    public StageRunner(MeshConfig cfg, Stage<?> stage, String groupId) {
        this.cfg = cfg.requireComplete();
        this.stage = stage;
        this.groupId = groupId;
        this.ledger = new DeliveryLedger(cfg.storeRoot(), groupId);
    }

    /** Starts the group members, each on its own thread. */
    public synchronized void start() {
        if (producer != null) throw new IllegalStateException("already started");
        producer = new KafkaProducer<>(cfg.producerProperties());
        failedJobs = new FailedJobs(cfg);
        failedJobs.start();
        for (int i = 0; i < cfg.concurrency(); i++) {
            KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(cfg.consumerProperties(groupId));
            consumers.add(c);
            Thread t = Thread.ofPlatform().name("quantmesh-" + stage.name() + "-" + i).daemon().unstarted(() -> run(c));
            threads.add(t);
            t.start();
        }
    }

    /** Stops promptly: wakes the consumers and interrupts a running handler; uncommitted records are redelivered. */
    @Override
    public synchronized void close() {
        closing = true;
        for (KafkaConsumer<String, byte[]> c : consumers) c.wakeup();
        for (Thread t : handling) t.interrupt();
        for (Thread t : threads) {
            try {
                t.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (failedJobs != null) failedJobs.close();
        if (producer != null) producer.close(Duration.ofSeconds(5));
    }

    private void run(KafkaConsumer<String, byte[]> consumer) {
        try {
            consumer.subscribe(List.of(cfg.topic(stage.input())));
            while (!closing) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(POLL)) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    if (closing) return;
                    if (process(r) == Outcome.DONE) {
                        commit(consumer, tp, r.offset() + 1);
                        forget(r);
                    } else {
                        consumer.seek(tp, r.offset());
                        if (!pause(1_000)) return;
                    }
                }
            }
        } catch (WakeupException | org.apache.kafka.common.errors.InterruptException e) {
            if (!closing) log.error("{}: consumer stopped unexpectedly", stage.name(), e);
        } catch (RuntimeException e) {
            log.error("{}: consumer loop stopped", stage.name(), e);
        } finally {
            Thread.interrupted(); // a handler interrupted by close(): leave the group cleanly all the same
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                log.warn("{}: closing the consumer: {}", stage.name(), e.toString());
            }
        }
    }

    private Outcome process(ConsumerRecord<String, byte[]> r) {
        String jobId = jobId(r.key());
        if (failedJobs.contains(jobId)) {
            log.info("{}: skipping {} of failed job {}", stage.name(), r.key(), jobId);
            return Outcome.DONE;
        }
        long t0 = System.currentTimeMillis();
        Message event;
        try {
            event = stage.parser().parseFrom(r.value());
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            JobSpec spec = JobSpec.newBuilder().setJobId(jobId).build();
            return fail(spec, "", "unparseable " + stage.input().suffix() + " record at partition " + r.partition()
                    + " offset " + r.offset() + ": " + oneLine(e), 1, t0);
        }
        // a record that keeps killing (or stalling) its worker never reaches the in-process retries below
        int unfinished = deliveriesBefore(r);
        if (unfinished >= DeliveryLedger.MAX_UNFINISHED_DELIVERIES) {
            return fail(spec(event), unit(event), "delivered " + unfinished + " times without finishing: the task "
                    + "crashes or stalls its workers", unfinished, t0);
        }
        for (int attempt = 1; ; attempt++) {
            List<Emit> emits;
            handling.add(Thread.currentThread());
            try {
                if (closing) return Outcome.AGAIN;
                emits = handle(event);
            } catch (BadInputException | IllegalArgumentException e) {
                if (closing) return Outcome.AGAIN;
                return fail(spec(event), unit(event), oneLine(e), attempt, t0);
            } catch (Exception | OutOfMemoryError | StackOverflowError e) {
                if (closing || Thread.currentThread().isInterrupted()) return Outcome.AGAIN;
                if (attempt >= cfg.maxAttempts()) {
                    return fail(spec(event), unit(event), "failed after " + attempt + " attempts: " + oneLine(e),
                            attempt, t0);
                }
                log.warn("{}: {} attempt {}/{} failed: {}", stage.name(), r.key(), attempt, cfg.maxAttempts(),
                        e.toString());
                if (!pause(Math.min(5_000L, 200L << (attempt - 1)))) return Outcome.AGAIN;
                continue;
            } finally {
                handling.remove(Thread.currentThread());
            }
            return produce(emits) ? Outcome.DONE : Outcome.AGAIN;
        }
    }

    /** Unfinished deliveries before this one, after durably counting this one (0 and a warning if the store fails). */
    private int deliveriesBefore(ConsumerRecord<String, byte[]> r) {
        try {
            int before = ledger.unfinished(r.topic(), r.partition(), r.offset());
            if (before < DeliveryLedger.MAX_UNFINISHED_DELIVERIES) ledger.begin(r.topic(), r.partition(), r.offset(), before);
            return before;
        } catch (java.io.IOException e) {
            log.warn("{}: cannot count deliveries of {}: {}", stage.name(), r.key(), e.toString());
            return 0;
        }
    }

    private void forget(ConsumerRecord<String, byte[]> r) {
        try {
            ledger.finished(r.topic(), r.partition(), r.offset());
        } catch (java.io.IOException e) {
            log.warn("{}: cannot clear the delivery count of {}: {}", stage.name(), r.key(), e.toString());
        }
    }

    @SuppressWarnings("unchecked")
    private <I extends Message> List<Emit> handle(Message event) throws Exception {
        return ((Stage<I>) stage).handle((I) event);
    }

    @SuppressWarnings("unchecked")
    private <I extends Message> JobSpec spec(Message event) {
        try {
            return ((Stage<I>) stage).spec((I) event);
        } catch (RuntimeException e) {
            return JobSpec.getDefaultInstance();
        }
    }

    @SuppressWarnings("unchecked")
    private <I extends Message> String unit(Message event) {
        try {
            return ((Stage<I>) stage).unit((I) event);
        } catch (RuntimeException e) {
            return "";
        }
    }

    private Outcome fail(JobSpec spec, String unit, String hostReason, int attempts, long startedMs) {
        String reason = storeRelative(hostReason, cfg.storeRoot());
        log.warn("{}: job {} failed{}: {}", stage.name(), spec.getJobId(), unit.isEmpty() ? "" : " at " + unit, reason);
        JobFailed f = JobFailed.newBuilder().setSpec(spec).setStage(stage.name()).setReason(reason).setUnit(unit)
                .setAttempts(attempts)
                .setTiming(Timing.newBuilder().setStartedMs(startedMs).setFinishedMs(System.currentTimeMillis())
                        .setWorker(cfg.workerId()))
                .build();
        String key = spec.getJobId().isEmpty() ? "unknown" : spec.getJobId();
        if (!produce(List.of(new Emit(Topic.FAILED, key, f)))) return Outcome.AGAIN;
        failedJobs.add(spec.getJobId());
        return Outcome.DONE;
    }

    /** Sends every emit and waits for the broker's acknowledgement (acks=all); false if any did not make it. */
    private boolean produce(List<Emit> emits) {
        try {
            List<Future<RecordMetadata>> sent = new ArrayList<>(emits.size());
            for (Emit e : emits) {
                sent.add(producer.send(new ProducerRecord<>(cfg.topic(e.topic()), e.key(), e.value().toByteArray())));
            }
            producer.flush();
            for (Future<RecordMetadata> f : sent) f.get();
            return true;
        } catch (ExecutionException | KafkaException e) {
            log.warn("{}: producing {} events failed, the input will be handled again: {}", stage.name(), emits.size(),
                    e.toString());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void commit(KafkaConsumer<String, byte[]> consumer, TopicPartition tp, long next) {
        try {
            consumer.commitSync(Map.of(tp, new OffsetAndMetadata(next)));
        } catch (WakeupException e) {
            if (!closing) throw e;
        } catch (KafkaException e) {
            // e.g. the partition moved to another member meanwhile: it gets the record again and redoes it (idempotent)
            log.warn("{}: commit of {} at {} failed: {}", stage.name(), tp, next, e.toString());
        }
    }

    private boolean pause(long ms) {
        try {
            Thread.sleep(ms);
            return !closing;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Keys are "<job>" or "<job>/<unit>". */
    static String jobId(String key) {
        if (key == null) return "";
        int slash = key.indexOf('/');
        return slash < 0 ? key : key.substring(0, slash);
    }

    /**
     * Reasons go to users and to other hosts, where this worker's mount point means nothing: paths under the store
     * are written as their {@code artifact:} URIs.
     */
    static String storeRelative(String reason, java.nio.file.Path storeRoot) {
        String out = reason;
        for (java.nio.file.Path root : rootsOf(storeRoot)) out = out.replace(root + "/", "artifact:");
        return out;
    }

    private static List<java.nio.file.Path> rootsOf(java.nio.file.Path storeRoot) {
        java.nio.file.Path abs = storeRoot.toAbsolutePath().normalize();
        try {
            java.nio.file.Path real = abs.toRealPath();
            return real.equals(abs) ? List.of(abs) : List.of(real, abs);
        } catch (java.io.IOException e) {
            return List.of(abs);
        }
    }

    /** An exception as the one-line reason a JobFailed carries; stages use it for the reasons they build too. */
    public static String oneLine(Throwable e) {
        // NIO's file exceptions without a reason carry only the path as their message: say what happened to it
        String m = switch (e) {
            case java.nio.file.NoSuchFileException f when f.getReason() == null -> "no such file: " + f.getFile();
            case java.nio.file.AccessDeniedException f when f.getReason() == null -> "access denied: " + f.getFile();
            default -> e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        };
        return m.replaceAll("\\s*\\R\\s*", " ").strip();
    }
}
