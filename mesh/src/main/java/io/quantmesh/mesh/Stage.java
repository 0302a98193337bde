package io.quantmesh.mesh;

import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.quantmesh.proto.v1.JobSpec;

import java.util.List;

/**
 * One consume → produce step of a stage (its {@code kafka/} adapter). {@link StageRunner} polls the input topic,
 * calls {@link #handle}, produces the returned events and only then commits the input's offset.
 *
 * <p>Contract for implementations: make every artifact durable (through the artifact store) BEFORE returning; be
 * idempotent per (job, unit), i.e. a redelivered event rewrites identical bytes and returns equal events; throw
 * {@link BadInputException} or {@link IllegalArgumentException} for input that can never succeed and anything else
 * for failures worth a retry.
 */
public interface Stage<I extends Message> {
    /** "calibration", "codebook", "planner", "quant", "assembler": JobFailed's stage and the group's suffix. */
    String name();

    Topic input();

    Parser<I> parser();

    /** The job of an input event, for JobFailed. */
    JobSpec spec(I event);

    /** The unit of work inside the job, e.g. "layer 3 model.layers.0.mlp.up_proj.weight"; "" for a whole job. */
    String unit(I event);

    List<Emit> handle(I event) throws Exception;
}
