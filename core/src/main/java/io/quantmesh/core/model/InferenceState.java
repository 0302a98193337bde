package io.quantmesh.core.model;

/** Per-sequence mutable state of a {@link LanguageModel}: a KV cache, or a recurrent state. */
public interface InferenceState {
    /** Number of tokens fed so far. */
    int position();
}
