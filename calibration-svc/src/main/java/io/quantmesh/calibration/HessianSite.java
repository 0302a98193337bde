package io.quantmesh.calibration;

import io.quantmesh.core.model.llama.LinearInputListener;

import java.util.List;

/**
 * Where one Hessian belongs: a module and the linear layers in it that read the same input, e.g.
 * {@code model.layers.3.self_attn} + [q_proj, k_proj, v_proj]. Its key,
 * {@code model.layers.3.self_attn.q_proj|k_proj|v_proj}, names the artifact's tensors ({@code <key>.hessian}, {@code <key>.tokens}). Routed experts fit the same scheme:
 * {@code model.layers.3.mlp.experts.5} + [down_proj].
 */
public record HessianSite(String module, List<String> linears) {
    public static final String HESSIAN_SUFFIX = ".hessian";
    public static final String TOKENS_SUFFIX = ".tokens";

    public HessianSite {
        linears = List.copyOf(linears);
        if (module.isEmpty() || linears.isEmpty()) throw new IllegalArgumentException("empty module or linear list");
    }

    /** The site of a dense decoder layer's linear input. */
    public static HessianSite of(int layer, LinearInputListener.Site site) {
        return new HessianSite("model.layers." + layer + "." + site.module(), site.linears());
    }

    public String key() {
        return module + "." + String.join("|", linears);
    }

    public String hessianTensor() {
        return key() + HESSIAN_SUFFIX;
    }

    public String tokensTensor() {
        return key() + TOKENS_SUFFIX;
    }

    /** The checkpoint weights this Hessian serves, e.g. model.layers.3.self_attn.k_proj.weight. */
    public List<String> weights() {
        return linears.stream().map(l -> module + "." + l + ".weight").toList();
    }
}
