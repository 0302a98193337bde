package io.quantmesh.core.quantized;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantmesh.core.tensor.Tensor;
import java.util.Iterator;
import java.util.List;
import java.util.function.Function;

/**
 * The representations of the format, by their config name, with the tensor roles each may store under {@code P.}
 * and the roles that may instead name another layer's identical tensor ({@code shared_tensors}: PCDVQ's universal
 * codebook, say, is stored once per checkpoint).
 */
public enum Representation {
    INT("int", List.of("qweight", "scales", "qzeros", "perm"), List.of()),
    TWO_SCALE("two_scale", List.of("qweight", "scales_pos", "scales_neg", "grid", "perm"), List.of("grid")),
    VECTOR("vector", List.of("qweight", "codebook", "residual_qweight", "residual_codebook", "outlier_columns",
            "outlier_weight", "perm"), List.of("codebook", "residual_codebook")),
    POLAR("polar", List.of("qweight", "directions", "magnitudes", "scale", "hadamard_signs_out", "hadamard_signs_in",
            "perm"), List.of("directions", "magnitudes"));

    private final String configName;
    private final List<String> roles;
    private final List<String> shareable;

    Representation(String configName, List<String> roles, List<String> shareable) {
        this.configName = configName;
        this.roles = roles;
        this.shareable = shareable;
    }

    public String configName() {
        return configName;
    }

    /** Every tensor role this representation may store, in the format's order. */
    public List<String> roles() {
        return roles;
    }

    public List<String> shareableRoles() {
        return shareable;
    }

    public static Representation of(LayerConfig config) {
        String name = config.representation();
        for (Representation r : values()) if (r.configName.equals(name)) return r;
        throw config.error("unknown representation '" + name + "' (int, two_scale, vector, polar)");
    }

    /** Reads a layer; roles listed in the config's {@code shared_tensors} are looked up under the named tensor. */
    QuantizedTensor read(String prefix, Function<String, Tensor> lookup, LayerConfig config) {
        JsonNode shared = config.json().get(LayerConfig.SHARED_TENSORS);
        if (shared != null && !shared.isNull()) {
            if (!shared.isObject()) throw config.error("'" + LayerConfig.SHARED_TENSORS + "' must be an object");
            for (Iterator<String> it = shared.fieldNames(); it.hasNext(); ) {
                String role = it.next();
                if (!shareable.contains(role)) {
                    throw config.error("'" + LayerConfig.SHARED_TENSORS + "' names role '" + role + "', but a "
                            + configName + " layer can share only " + shareable);
                }
                if (lookup.apply(prefix + "." + role) != null) {
                    throw config.error("tensor '" + prefix + "." + role + "' is stored and also shared from '"
                            + config.sharedTensor(role) + "'");
                }
            }
        }
        Function<String, Tensor> resolved = name -> {
            if (name.startsWith(prefix + ".")) {
                String target = config.sharedTensor(name.substring(prefix.length() + 1));
                if (target != null) {
                    Tensor t = lookup.apply(target);
                    if (t == null) throw config.error("shared tensor '" + target + "' is not in the checkpoint");
                    return t;
                }
            }
            return lookup.apply(name);
        };
        LayerTensors tensors = new LayerTensors(prefix, resolved);
        try {
            return switch (this) {
                case INT -> IntGroupTensor.read(tensors, config);
                case TWO_SCALE -> TwoScaleGridTensor.read(tensors, config);
                case VECTOR -> VectorTensor.read(tensors, config);
                case POLAR -> PolarTensor.read(tensors, config);
            };
        } catch (IllegalArgumentException e) {
            // Content errors from the records name the part ("scales: entry 3 ..."); add the layer.
            if (e.getMessage() != null && e.getMessage().contains(prefix)) throw e;
            throw new IllegalArgumentException("layer '" + prefix + "': " + e.getMessage(), e);
        }
    }
}
