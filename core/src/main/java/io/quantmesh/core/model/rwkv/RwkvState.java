package io.quantmesh.core.model.rwkv;

import io.quantmesh.core.model.InferenceState;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The recurrent state of one RWKV sequence: O(1) in the sequence length. Per layer, in one float array:
 * the channel-mix token-shift vector (C), the time-mix token-shift vector (C) and the wkv state (H matrices of
 * N x N, key-major: {@code s[h][key][value]}, for every version).
 * A fresh state is all zeros, as in rwkv.cpp and RWKV-LM.
 */
public final class RwkvState implements InferenceState {
    private static final int MAGIC = 0x52574b53; // "RWKS"
    private static final int HEADER = 24;

    private final RwkvConfig config;
    final float[] data;
    private int position;

    RwkvState(RwkvConfig config) {
        this.config = config;
        this.data = new float[Math.multiplyExact(config.numLayers(), config.stateFloatsPerLayer())];
    }

    @Override
    public int position() {
        return position;
    }

    void advance() {
        position++;
    }

    RwkvConfig config() {
        return config;
    }

    int ffnShift(int layer) {
        return layer * config.stateFloatsPerLayer();
    }

    int attShift(int layer) {
        return ffnShift(layer) + config.hiddenSize();
    }

    int wkv(int layer) {
        return ffnShift(layer) + 2 * config.hiddenSize();
    }

    /** An independent copy (fork a sequence, e.g. to score several continuations of one prefix). */
    public RwkvState copy() {
        RwkvState c = new RwkvState(config);
        System.arraycopy(data, 0, c.data, 0, data.length);
        c.position = position;
        return c;
    }

    /** Overwrites this state with {@code other} (same model shape). */
    public void restore(RwkvState other) {
        if (!compatible(other.config)) throw new IllegalArgumentException("state of a differently shaped RWKV model");
        System.arraycopy(other.data, 0, data, 0, data.length);
        position = other.position;
    }

    /** Back to the zero state. */
    public void reset() {
        Arrays.fill(data, 0);
        position = 0;
    }

    /** Serialized form: magic, version, layer count, width, head size, position, then the floats (little-endian). */
    public byte[] save() {
        ByteBuffer b = ByteBuffer.allocate(HEADER + data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).putInt(config.version().ordinal()).putInt(config.numLayers()).putInt(config.hiddenSize())
                .putInt(config.headSize()).putInt(position);
        b.asFloatBuffer().put(data);
        return b.array();
    }

    /** Loads a {@link #save()}d state of a model with this state's shape. */
    public void restore(byte[] saved) {
        ByteBuffer b = ByteBuffer.wrap(saved).order(ByteOrder.LITTLE_ENDIAN);
        if (saved.length != HEADER + data.length * 4 || b.getInt() != MAGIC) {
            throw new IllegalArgumentException("not a saved state of this RWKV model (" + saved.length + " bytes)");
        }
        int version = b.getInt(), layers = b.getInt(), width = b.getInt(), head = b.getInt(), pos = b.getInt();
        if (version != config.version().ordinal() || layers != config.numLayers() || width != config.hiddenSize()
                || head != config.headSize() || pos < 0) {
            throw new IllegalArgumentException("saved state is for another model (version #" + version + ", L=" + layers
                    + ", C=" + width + ", N=" + head + "); this is RWKV " + config.version().label() + " L="
                    + config.numLayers() + " C=" + config.hiddenSize() + " N=" + config.headSize());
        }
        b.asFloatBuffer().get(data);
        position = pos;
    }

    boolean compatible(RwkvConfig other) {
        return other.version() == config.version() && other.numLayers() == config.numLayers() && other.hiddenSize() == config.hiddenSize()
                && other.headSize() == config.headSize();
    }
}
