package io.quantmesh.cli;

import com.google.protobuf.Message;
import io.quantmesh.mesh.Topic;
import io.quantmesh.proto.v1.ArtifactRef;
import io.quantmesh.proto.v1.CalibrationCompleted;
import io.quantmesh.proto.v1.CheckpointQuantized;
import io.quantmesh.proto.v1.CodebookArtifact;
import io.quantmesh.proto.v1.CodebooksCompleted;
import io.quantmesh.proto.v1.JobFailed;
import io.quantmesh.proto.v1.QuantResult;
import io.quantmesh.proto.v1.QuantTask;
import io.quantmesh.proto.v1.Timing;

import java.io.PrintStream;
import java.util.BitSet;

/**
 * Prints a followed job's events as progress lines: one per stage, one per layer (redelivered duplicates are
 * printed once), then the checkpoint or the failure.
 */
final class JobProgress {
    private final PrintStream out;
    private final long t0 = System.nanoTime();
    private final BitSet layersDone = new BitSet();
    private int tasks;
    private boolean planned;
    private long computeMs, wallMs;

    JobProgress(PrintStream out) {
        this.out = out;
    }

    void on(Topic topic, Message event) {
        switch (event) {
            case CalibrationCompleted e -> line("calibration", "%,d tokens -> %s (sha256 %s)  %s", e.getTokens(),
                    e.getHessians().getUri(), sha8(e.getHessians()), took(e.getTiming()));
            case CodebooksCompleted e -> {
                StringBuilder ids = new StringBuilder();
                for (CodebookArtifact c : e.getCodebooksList()) {
                    ids.append(ids.isEmpty() ? "" : ", ").append(c.getId()).append(" (sha256 ")
                            .append(sha8(c.getArtifact())).append(')');
                }
                line("codebooks", "%s  %s", ids.isEmpty() ? "none needed (scalar recipe)" : ids, took(e.getTiming()));
            }
            case QuantTask e -> {
                tasks = e.getLayerCount();
                if (!planned) line("planner", "%d layers -> quant.tasks", e.getLayerCount());
                planned = true;
            }
            case QuantResult e -> {
                if (layersDone.get(e.getLayerIndex())) return; // a redelivered task's duplicate result
                layersDone.set(e.getLayerIndex());
                Timing t = e.getTiming();
                computeMs += t.getComputeMs();
                wallMs += Math.max(0, t.getFinishedMs() - t.getStartedMs());
                line("quant", "[%3d/%d] layer %3d %-34s %4dx%-4d proxy %.4e  %4d ms  %s", layersDone.cardinality(),
                        e.getLayerCount(), e.getLayerIndex(), e.getModule(), e.getRows(), e.getCols(),
                        e.getProxyLoss(), t.getComputeMs(), t.getWorker());
            }
            case CheckpointQuantized e -> line("assembler", "%d layers -> %s  %s", e.getLayers(), e.getCheckpoint(),
                    took(e.getTiming()));
            case JobFailed e -> line("FAILED", "at %s%s: %s", e.getStage(),
                    e.getUnit().isEmpty() ? "" : " (" + e.getUnit() + ")", e.getReason());
            default -> { }
        }
    }

    /** Σ compute of the layers and Σ of their task wall times (worker-side), for the overhead line. */
    long layerComputeMs() {
        return computeMs;
    }

    long layerWallMs() {
        return wallMs;
    }

    int layersDone() {
        return layersDone.cardinality();
    }

    private void line(String stage, String fmt, Object... args) {
        out.printf("  %6.1f s  %-11s %s%n", (System.nanoTime() - t0) / 1e9, stage, String.format(fmt, args));
    }

    private static String took(Timing t) {
        if (t.getFinishedMs() == 0) return "";
        return String.format("(%d ms, %s)", t.getFinishedMs() - t.getStartedMs(), t.getWorker());
    }

    static String sha8(ArtifactRef r) {
        return r.getSha256().length() >= 12 ? r.getSha256().substring(0, 12) + "…" : r.getSha256();
    }
}
