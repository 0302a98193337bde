package io.quantmesh.mesh;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.quantmesh.proto.v1.CheckpointQuantized;
import io.quantmesh.proto.v1.JobFailed;
import io.quantmesh.proto.v1.JobSpec;
import io.quantmesh.proto.v1.JobStatus;
import io.quantmesh.proto.v1.JobStatus.State;
import io.quantmesh.proto.v1.QuantResult;
import io.quantmesh.proto.v1.QuantTask;
import io.quantmesh.proto.v1.Timing;

import java.time.Duration;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The job-status view: a fold of every event into one {@link JobStatus} per job. Events of different topics arrive
 * in any order and may be duplicated (redelivery), so the fold is order-free: the state is the furthest stage seen,
 * layers done are the distinct layer indices with a result, the reason is the earliest failure's. A job with a
 * quantized checkpoint is QUANTIZED even if a duplicate of one of its units failed later; otherwise any failure
 * makes it FAILED.
 */
public final class JobView {
    private static final class Job {
        final JobStatus.Builder status = JobStatus.newBuilder();
        final BitSet layers = new BitSet();
        int rank;
        boolean quantized;
        long failedAt = Long.MAX_VALUE;
    }

    private final Map<String, Job> jobs = new LinkedHashMap<>();

    /** Folds one record's value; values that do not parse are ignored (the runner reports them on jobs.failed). */
    public void apply(Topic t, byte[] value) {
        try {
            apply(Events.parse(t, value));
        } catch (InvalidProtocolBufferException e) {
            // not an event: nothing to fold
        }
    }

    public synchronized void apply(Message event) {
        JobSpec spec = Events.spec(event);
        if (spec.getJobId().isEmpty()) return;
        Job j = jobs.computeIfAbsent(spec.getJobId(), id -> new Job());
        if (!j.status.hasSpec() || j.status.getSpec().getModel().isEmpty()) j.status.setSpec(spec);
        long when = spec.getSubmittedAtMs();
        switch (event) {
            case io.quantmesh.proto.v1.JobSubmitted e -> advance(j, State.SUBMITTED);
            case io.quantmesh.proto.v1.CalibrationCompleted e -> {
                advance(j, State.CALIBRATED);
                when = finished(e.getTiming(), when);
            }
            case io.quantmesh.proto.v1.CodebooksCompleted e -> {
                advance(j, State.CODEBOOKS_READY);
                when = finished(e.getTiming(), when);
            }
            case QuantTask e -> {
                advance(j, State.QUANTIZING);
                j.status.setLayersTotal(e.getLayerCount());
            }
            case QuantResult e -> {
                advance(j, State.QUANTIZING);
                j.status.setLayersTotal(e.getLayerCount());
                if (e.getLayerIndex() >= 0) j.layers.set(e.getLayerIndex());
                when = finished(e.getTiming(), when);
            }
            case CheckpointQuantized e -> {
                j.quantized = true;
                j.status.setCheckpoint(e.getCheckpoint());
                if (e.getLayers() > 0) j.status.setLayersTotal(e.getLayers());
                when = finished(e.getTiming(), when);
            }
            case JobFailed e -> {
                long at = e.getTiming().getFinishedMs();
                if (at < j.failedAt || j.status.getReason().isEmpty()) {
                    j.failedAt = at;
                    j.status.setFailedStage(e.getStage()).setReason(e.getReason());
                }
                when = finished(e.getTiming(), when);
            }
            default -> { }
        }
        j.status.setUpdatedMs(Math.max(j.status.getUpdatedMs(), when));
    }

    private static void advance(Job j, State s) {
        j.rank = Math.max(j.rank, s.getNumber());
    }

    private static long finished(Timing t, long dflt) {
        return t.getFinishedMs() > 0 ? t.getFinishedMs() : dflt;
    }

    /** job id → status, in the order jobs were first seen. */
    public synchronized Map<String, JobStatus> jobs() {
        Map<String, JobStatus> out = new LinkedHashMap<>();
        for (Map.Entry<String, Job> e : jobs.entrySet()) out.put(e.getKey(), status(e.getValue()));
        return out;
    }

    public synchronized JobStatus job(String id) {
        Job j = jobs.get(id);
        return j == null ? null : status(j);
    }

    private static JobStatus status(Job j) {
        State s = j.quantized ? State.QUANTIZED
                : !j.status.getReason().isEmpty() ? State.FAILED
                : j.rank == 0 ? State.STATE_UNSPECIFIED : State.forNumber(j.rank);
        return j.status.clone().setState(s).setLayersDone(j.layers.cardinality()).build();
    }

    /** Reads every topic from the beginning to its current end (no consumer group, nothing committed). */
    public static JobView read(MeshConfig cfg, Duration timeout) {
        JobView view = new JobView();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (EventReader r = new EventReader(cfg, timeout)) {
            r.fromBeginning();
            var ends = r.endOffsets();
            while (!r.reached(ends)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("reading the job events from " + cfg.bootstrapServers()
                            + " took longer than " + timeout.toSeconds() + " s");
                }
                for (EventReader.Event e : r.poll(Duration.ofMillis(200))) view.apply(e.topic(), e.record().value());
            }
        }
        return view;
    }
}
