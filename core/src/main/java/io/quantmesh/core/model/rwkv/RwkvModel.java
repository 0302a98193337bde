package io.quantmesh.core.model.rwkv;

import io.quantmesh.core.model.InferenceState;
import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.tokenizer.Tokenizer;
import java.util.Objects;

/**
 * An RWKV v5.1 / v5.2 / v6 / v7 language model run as a recurrent state machine: {@link #next} is one step,
 * memory is O(1) in the sequence length, and {@link #step} advances a batch of independent sequences together.
 * <pre>
 *   x = ln0(emb[token])
 *   for each layer: x += timeMix(ln1(x), state);  x += channelMix(ln2(x), state)
 *   logits = head ln_out(x)
 * </pre>
 */
public final class RwkvModel implements LanguageModel {
    private final RwkvWeights weights;
    private final RwkvConfig config;
    private final Tokenizer tokenizer;
    private final RwkvKernels kernels;
    private final float[] emb;              // [V][C]
    private final float[] ln0W, ln0B;       // [C]
    private final TimeMix[] timeMix;        // per layer
    private final ChannelMix[] channelMix;  // per layer
    private final float[] lnOutW, lnOutB;   // [C]
    private final float[] headT;            // head.weight [V][C], transposed to [C][V]
    private final ThreadLocal<RwkvBatch> single;

    public RwkvModel(RwkvWeights weights, Tokenizer tokenizer) {
        this(weights, tokenizer, RwkvKernels.vector());
    }

    public RwkvModel(RwkvWeights weights, Tokenizer tokenizer, RwkvKernels kernels) {
        this.weights = Objects.requireNonNull(weights);
        this.config = weights.config();
        this.tokenizer = Objects.requireNonNull(tokenizer);
        this.kernels = Objects.requireNonNull(kernels);
        if (tokenizer.vocabSize() > config.vocabSize()) {
            throw new IllegalArgumentException("tokenizer has " + tokenizer.vocabSize() + " tokens, model only "
                    + config.vocabSize());
        }
        emb = weights.floats("emb.weight");
        ln0W = weights.floats("blocks.0.ln0.weight");
        ln0B = weights.floats("blocks.0.ln0.bias");
        timeMix = new TimeMix[config.numLayers()];
        channelMix = new ChannelMix[config.numLayers()];
        for (int i = 0; i < config.numLayers(); i++) {
            timeMix[i] = TimeMix.of(weights, i);
            channelMix[i] = new ChannelMix(weights, i);
        }
        lnOutW = weights.floats("ln_out.weight");
        lnOutB = weights.floats("ln_out.bias");
        headT = TimeMix.transposed(weights, "head.weight");
        single = ThreadLocal.withInitial(() -> new RwkvBatch(config, 1));
    }

    public RwkvWeights weights() {
        return weights;
    }

    public RwkvConfig config() {
        return config;
    }

    public RwkvVersion version() {
        return config.version();
    }

    @Override
    public String family() {
        return config.version().family();
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    @Override
    public int contextLength() {
        return Integer.MAX_VALUE;
    }

    @Override
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public RwkvState newState() {
        return new RwkvState(config);
    }

    /** Scratch space for {@link #step} with up to {@code capacity} sequences. */
    public RwkvBatch newBatch(int capacity) {
        return new RwkvBatch(config, capacity);
    }

    @Override
    public float[] next(InferenceState state, int token) {
        RwkvState s = own(state);
        RwkvBatch b = single.get();
        step(b, new RwkvState[] {s}, new int[] {token}, 1);
        return b.logits;
    }

    /**
     * Feeds {@code tokens[r]} to {@code states[r]} for each {@code r < rows} and returns the logits (rows x V,
     * in {@code batch}'s buffer, overwritten by the next call). Rows are independent: the result of a row does not
     * depend on the others or on {@code rows}.
     */
    public float[] step(RwkvBatch batch, RwkvState[] states, int[] tokens, int rows) {
        if (rows <= 0 || rows > batch.capacity() || rows > states.length || rows > tokens.length) {
            throw new IllegalArgumentException("bad batch: " + rows + " rows for capacity " + batch.capacity());
        }
        int c = config.hiddenSize();
        for (int r = 0; r < rows; r++) {
            own(states[r]);
            int t = tokens[r];
            if (t < 0 || t >= config.vocabSize()) {
                throw new IllegalArgumentException("token " + t + " outside vocabulary of " + config.vocabSize());
            }
            System.arraycopy(emb, t * c, batch.x, r * c, c);
        }
        RwkvMath.layerNorm(batch.x, batch.x, rows, c, ln0W, ln0B, config.layerNormEps());
        for (int i = 0; i < timeMix.length; i++) {
            timeMix[i].forward(kernels, batch, states, rows);
            channelMix[i].forward(kernels, batch, states, rows);
        }
        RwkvMath.layerNorm(batch.x, batch.xn, rows, c, lnOutW, lnOutB, config.layerNormEps());
        kernels.matmul(batch.xn, rows, c, headT, config.vocabSize(), batch.logits);
        for (int r = 0; r < rows; r++) states[r].advance();
        return batch.logits;
    }

    private RwkvState own(InferenceState state) {
        if (!(state instanceof RwkvState s) || !s.compatible(config)) {
            throw new IllegalArgumentException("not a state of this RWKV model: " + state);
        }
        return s;
    }
}
