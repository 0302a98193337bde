package io.quantmesh.cli;

import io.quantmesh.mesh.JobView;
import io.quantmesh.proto.v1.JobStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code quantmesh jobs}: every job the mesh's topics know, folded into its current state. */
@Command(name = "jobs", mixinStandardHelpOptions = true, description = "List the mesh's jobs and their state.")
final class JobsCommand implements Callable<Integer> {
    @Mixin
    MeshOptions mesh;

    @Override
    public Integer call() throws Exception {
        Map<String, JobStatus> jobs = JobView.read(mesh.resolve(), Duration.ofSeconds(15)).jobs();
        if (jobs.isEmpty()) {
            System.out.println("no jobs");
            return 0;
        }
        int w = jobs.keySet().stream().mapToInt(String::length).max().orElse(6);
        String fmt = "%-" + w + "s  %-16s  %-15s  %9s  %s%n";
        System.out.printf(fmt, "JOB", "RECIPE", "STATE", "LAYERS", "CHECKPOINT / REASON");
        for (JobStatus s : jobs.values()) {
            String layers = s.getLayersTotal() > 0 ? s.getLayersDone() + "/" + s.getLayersTotal() : "-";
            String detail = switch (s.getState()) {
                case QUANTIZED -> s.getCheckpoint();
                case FAILED -> s.getFailedStage() + ": " + s.getReason();
                default -> "";
            };
            System.out.printf(fmt, s.getSpec().getJobId(), s.getSpec().getRecipe(), s.getState(), layers, detail);
        }
        return 0;
    }
}
