package io.quantmesh.mesh;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.quantmesh.proto.v1.CalibrationCompleted;
import io.quantmesh.proto.v1.CheckpointQuantized;
import io.quantmesh.proto.v1.CodebooksCompleted;
import io.quantmesh.proto.v1.JobFailed;
import io.quantmesh.proto.v1.JobSpec;
import io.quantmesh.proto.v1.JobSubmitted;
import io.quantmesh.proto.v1.QuantResult;
import io.quantmesh.proto.v1.QuantTask;

/** The event type of each topic, and the job spec every event carries. */
public final class Events {
    private Events() {}

    public static Message parse(Topic t, byte[] value) throws InvalidProtocolBufferException {
        return switch (t) {
            case SUBMITTED -> JobSubmitted.parseFrom(value);
            case CALIBRATED -> CalibrationCompleted.parseFrom(value);
            case CODEBOOKS -> CodebooksCompleted.parseFrom(value);
            case TASKS -> QuantTask.parseFrom(value);
            case RESULTS -> QuantResult.parseFrom(value);
            case QUANTIZED -> CheckpointQuantized.parseFrom(value);
            case FAILED -> JobFailed.parseFrom(value);
        };
    }

    public static JobSpec spec(Message event) {
        return switch (event) {
            case JobSubmitted e -> e.getSpec();
            case CalibrationCompleted e -> e.getSpec();
            case CodebooksCompleted e -> e.getSpec();
            case QuantTask e -> e.getSpec();
            case QuantResult e -> e.getSpec();
            case CheckpointQuantized e -> e.getSpec();
            case JobFailed e -> e.getSpec();
            default -> throw new IllegalArgumentException("not a pipeline event: " + event.getDescriptorForType()
                    .getFullName());
        };
    }
}
