package io.quantmesh.core.model.rwkv;

/** The RWKV architectures quantmesh runs. v4 (no multi-head state) is not supported. */
public enum RwkvVersion {
    /** v5.1: multi-head matrix state, one decay and one bonus per head, group norm on the output. */
    V5_1("rwkv5", "5.1"),
    /** v5.2 ("Eagle"): per-channel decay and bonus (time_faaaa), a SiLU output gate. */
    V5_2("rwkv5", "5.2"),
    /** v6 ("Finch"): data-dependent token shift and decay through low-rank projections. */
    V6("rwkv6", "6.0"),
    /** v7 ("Goose"): generalized delta rule state update, low-rank w/a/v/g, value residual to layer 0. */
    V7("rwkv7", "7.0");

    private final String family;
    private final String label;

    RwkvVersion(String family, String label) {
        this.family = family;
        this.label = label;
    }

    /** The {@link io.quantmesh.core.model.LanguageModel#family()} name. */
    public String family() {
        return family;
    }

    /** "5.1", "5.2", "6.0", "7.0". */
    public String label() {
        return label;
    }

    /** Default group-norm epsilon of the wkv output: RWKV-LM uses 1e-5 for v5 and 64e-5 (= 1e-5 * 8^2) after. */
    public double defaultGroupNormEps() {
        return this == V5_1 || this == V5_2 ? 1e-5 : 64e-5;
    }
}
