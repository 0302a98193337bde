package io.quantmesh.calibration;

import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.model.llama.DecoderModel;
import io.quantmesh.core.model.llama.LinearInputListener;
import io.quantmesh.core.model.llama.LlamaModel;
import io.quantmesh.core.ops.KernelPool;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a decoder over a calibration set, each sequence from an empty state through the batched prefill, and
 * accumulates {@code H = (2/n) Σ x xᵀ} in float64 for the input of every linear layer: per layer
 * {@code self_attn.q_proj|k_proj|v_proj} (one shared input), {@code self_attn.o_proj},
 * {@code mlp.gate_proj|up_proj} (shared) and {@code mlp.down_proj}. Sites come in the order the forward pass
 * reports them (layer by layer), which fixes the artifact's tensor order.
 *
 * <p>Accumulators are allocated when a site is first seen, each checked against a memory budget first.
 */
public final class HessianCollector {
    private final KernelPool pool;
    private final long budgetBytes;

    /** @param budgetBytes the most float64 accumulator memory all sites together may take */
    public HessianCollector(KernelPool pool, long budgetBytes) {
        this.pool = pool;
        this.budgetBytes = budgetBytes;
    }

    /** A budget of half the JVM's heap. */
    public static HessianCollector withDefaultBudget() {
        return new HessianCollector(KernelPool.shared(), Runtime.getRuntime().maxMemory() / 2);
    }

    /** Accumulator bytes a dense Llama model of this shape needs (4 sites per layer). */
    public static long bytesNeeded(LlamaConfig c) {
        long perLayer = HessianAccumulator.bytes(c.hiddenSize()) * 2
                + HessianAccumulator.bytes(c.numAttentionHeads() * c.headDim())
                + HessianAccumulator.bytes(c.intermediateSize());
        return perLayer * c.numHiddenLayers();
    }

    /**
     * The model as a dense Llama decoder, the family whose every linear input the runtime reports today (routed
     * experts come with MoEQuant's affinity-weighted Hessians).
     */
    public static LlamaModel supported(LanguageModel model) {
        if (model instanceof LlamaModel m) return m;
        throw new IllegalArgumentException("Hessian collection supports dense llama models; family '" + model.family()
                + "' is not supported yet");
    }

    public List<CollectedHessian> collect(LanguageModel languageModel, CalibrationSet set, Progress progress,
                                          Cancellation cancel) {
        LlamaModel model = supported(languageModel);
        long needed = bytesNeeded(model.config());
        if (needed > budgetBytes) throw new IllegalArgumentException(tooLarge(needed));
        if (set.seqLen() > model.contextLength()) {
            throw new IllegalArgumentException("seq_len " + set.seqLen() + " exceeds the model's context "
                    + model.contextLength());
        }
        Map<HessianSite, HessianAccumulator> sites = new LinkedHashMap<>();
        long[] allocated = {0};
        LinearInputListener listener = (layer, site, x, n, width) -> {
            if (site == LinearInputListener.Site.ATTN_IN) cancel.check(); // once per layer per block
            HessianAccumulator acc = sites.computeIfAbsent(HessianSite.of(layer, site), s -> {
                allocated[0] += HessianAccumulator.bytes(width);
                if (allocated[0] > budgetBytes) throw new IllegalArgumentException(tooLarge(allocated[0]));
                return new HessianAccumulator(width, pool);
            });
            acc.add(x, n, width);
        };
        long tokens = 0;
        for (int i = 0; i < set.size(); i++) {
            cancel.check();
            DecoderModel.State state = model.newState().linearInputListener(listener);
            model.forwardAll(state, set.sequences()[i]);
            tokens += set.sequences()[i].length;
            progress.sequenceDone(i + 1, set.size(), tokens);
        }
        List<CollectedHessian> out = new ArrayList<>(sites.size());
        sites.forEach((site, acc) -> out.add(new CollectedHessian(site, acc.dim(), acc.tokens(), acc.finish())));
        return out;
    }

    private String tooLarge(long bytes) {
        return String.format("the Hessians need %.1f MiB of float64 accumulators, more than the budget of %.1f MiB "
                + "(raise -Xmx)", bytes / 1048576.0, budgetBytes / 1048576.0);
    }
}
