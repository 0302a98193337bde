package io.quantmesh.mesh;

import io.quantmesh.proto.v1.CheckpointQuantized;
import io.quantmesh.proto.v1.JobFailed;
import io.quantmesh.proto.v1.JobSpec;
import io.quantmesh.proto.v1.JobStatus;
import io.quantmesh.proto.v1.JobSubmitted;
import io.quantmesh.proto.v1.QuantResult;
import io.quantmesh.proto.v1.QuantTask;
import io.quantmesh.proto.v1.Timing;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MeshConfigTest {
    @Test
    void readsTheEnvironmentWithDefaults() {
        MeshConfig c = MeshConfig.fromEnv(Map.of("QUANTMESH_KAFKA_BOOTSTRAP_SERVERS", "k:9092",
                "QUANTMESH_STORE", "/data/store", "QUANTMESH_CONCURRENCY", "4", "HOSTNAME", "pod-1"));
        assertEquals("k:9092", c.bootstrapServers());
        assertEquals(Path.of("/data/store"), c.storeRoot());
        assertEquals(4, c.concurrency());
        assertEquals(3, c.maxAttempts());
        assertTrue(c.workerId().startsWith("pod-1:"), c.workerId());
        assertEquals("quantmesh.quant.tasks", c.topic(Topic.TASKS));
        assertEquals("quantmesh-quant-worker", c.group("quant-worker"));
        assertEquals("false", c.consumerProperties("g").get("enable.auto.commit"));
        assertEquals("1", c.consumerProperties("g").get("max.poll.records"));
        assertEquals("all", c.producerProperties().get("acks"));
        assertEquals("x.", c.withTopicPrefix("x.").topicPrefix());
    }

    @Test
    void missingOrBadSettingsSayWhatToSet() {
        MeshConfig none = MeshConfig.fromEnv(Map.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, none::requireComplete);
        assertTrue(e.getMessage().contains("QUANTMESH_KAFKA_BOOTSTRAP_SERVERS"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> none.withBootstrapServers("k:1").requireComplete());
        assertTrue(e.getMessage().contains("QUANTMESH_STORE"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MeshConfig.fromEnv(Map.of("QUANTMESH_CONCURRENCY", "x")));
        assertTrue(e.getMessage().contains("QUANTMESH_CONCURRENCY"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> none.withConcurrency(0));
    }

    @Test
    void theJobViewFoldIsOrderFreeAndCountsDistinctLayers() {
        JobSpec spec = JobSpec.newBuilder().setJobId("j1").setRecipe("gptq-int2-g128").setModel("artifact:m").build();
        JobView v = new JobView();
        v.apply(QuantResult.newBuilder().setSpec(spec).setLayerIndex(1).setLayerCount(3).build());
        v.apply(QuantResult.newBuilder().setSpec(spec).setLayerIndex(1).setLayerCount(3).build()); // redelivered
        v.apply(JobSubmitted.newBuilder().setSpec(spec).build());
        v.apply(QuantTask.newBuilder().setSpec(spec).setLayerIndex(2).setLayerCount(3).build());
        JobStatus s = v.job("j1");
        assertEquals(JobStatus.State.QUANTIZING, s.getState());
        assertEquals(1, s.getLayersDone());
        assertEquals(3, s.getLayersTotal());
        v.apply(JobFailed.newBuilder().setSpec(spec).setStage("quant").setReason("later")
                .setTiming(Timing.newBuilder().setFinishedMs(20)).build());
        v.apply(JobFailed.newBuilder().setSpec(spec).setStage("planner").setReason("first")
                .setTiming(Timing.newBuilder().setFinishedMs(10)).build());
        s = v.job("j1");
        assertEquals(JobStatus.State.FAILED, s.getState());
        assertEquals("first", s.getReason());
        assertEquals("planner", s.getFailedStage());
        v.apply(CheckpointQuantized.newBuilder().setSpec(spec).setCheckpoint("artifact:jobs/j1/checkpoint")
                .setLayers(3).build());
        assertEquals(JobStatus.State.QUANTIZED, v.job("j1").getState());
        v.apply(Topic.FAILED, new byte[]{(byte) 0xff});
        assertEquals(1, v.jobs().size());
    }

    @Test
    void jobIdsAreUniqueAndNameTheModel() {
        String a = Submitter.newJobId("Stories 260K!");
        assertTrue(a.matches("j-\\d{8}-\\d{6}-[0-9a-f]{4}-stories-260k"), a);
        assertEquals("j-1", StageRunner.jobId("j-1/00003"));
        assertEquals("one line", StageRunner.oneLine(new RuntimeException("one\n  line")));
    }
}
