package io.quantmesh.mesh;

import com.google.protobuf.Message;

/** One event a stage's handler asks the runner to produce before the input's offset is committed. */
public record Emit(Topic topic, String key, Message value) {
    public Emit {
        if (topic == null || key == null || key.isEmpty() || value == null) {
            throw new IllegalArgumentException("an emit needs a topic, a key and a value");
        }
    }
}
