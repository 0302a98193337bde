package io.quantmesh.core.quantized;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.checkpoint.TensorSource;
import io.quantmesh.core.safetensors.SafetensorsFile;
import io.quantmesh.core.safetensors.TensorSpec;
import io.quantmesh.core.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * Reads a quantized checkpoint (docs/FORMAT.md) and presents it as the dense checkpoint it stands for: each
 * quantized module's tensors are hidden and {@code P.weight} appears in their place, dequantized to F32 on first
 * use (and kept, since the runtime's matrices view it). On open, the block and the tensor names are checked —
 * format version in config and in every shard's metadata, no module both dense and quantized, no tensor under a
 * module that its representation does not define; each layer's tensors are checked when it is read.
 */
public final class QuantizedCheckpointReader implements TensorSource {
    /** The {@code __metadata__} key holding the format version in every shard. */
    public static final String FORMAT_METADATA = "quantmesh.format";

    private final HfCheckpoint checkpoint;
    private final QuantizationConfig quantization;
    /** Dense name -> module, for the {@code P.weight} each module stands for. */
    private final Map<String, String> weightOf = new HashMap<>();
    /** Every stored tensor that belongs to a module (hidden from the dense view). */
    private final Set<String> owned = new LinkedHashSet<>();
    private final Set<String> denseNames = new LinkedHashSet<>();
    private final Map<String, Tensor> dequantized = new HashMap<>();

    private QuantizedCheckpointReader(HfCheckpoint checkpoint) {
        this.checkpoint = checkpoint;
        this.quantization = QuantizationConfig.parse(checkpoint.config());
        checkMetadata();
        Map<String, LayerConfig> modules = quantization.modules();
        for (String name : checkpoint.tensorNames()) {
            int dot = name.lastIndexOf('.');
            String module = dot < 0 ? null : name.substring(0, dot), role = name.substring(dot + 1);
            LayerConfig layer = module == null ? null : modules.get(module);
            if (layer == null || role.equals("bias")) {
                denseNames.add(name);
                continue;
            }
            if (role.equals("weight")) {
                throw new IllegalArgumentException("module '" + module + "' is quantized but '" + name + "' is also stored");
            }
            if (!Representation.of(layer).roles().contains(role)) {
                throw new IllegalArgumentException("unexpected tensor '" + name + "': a " + layer.representation()
                        + " layer stores " + Representation.of(layer).roles());
            }
            owned.add(name);
            denseNames.add(module + ".weight");   // at the place of the module's first tensor
        }
        for (String module : modules.keySet()) {
            weightOf.put(module + ".weight", module);
            denseNames.add(module + ".weight");   // a module all of whose tensors are shared still stands for a weight
        }
    }

    public static boolean isQuantized(JsonNode config) {
        return QuantizationConfig.isQuantmesh(config);
    }

    public static QuantizedCheckpointReader open(Path dir) throws IOException {
        HfCheckpoint ck = HfCheckpoint.open(dir);
        try {
            return open(ck);
        } catch (RuntimeException e) {
            ck.close();
            throw e;
        }
    }

    /** The dense view of any checkpoint directory: a reader for a quantized one, else the checkpoint itself. */
    public static TensorSource openDense(Path dir) throws IOException {
        HfCheckpoint ck = HfCheckpoint.open(dir);
        if (!isQuantized(ck.config())) return ck;
        try {
            return open(ck);
        } catch (RuntimeException e) {
            ck.close();
            throw new IOException(dir + ": " + e.getMessage(), e);
        }
    }

    /** Takes over {@code checkpoint}: closing the reader closes it. On an error, the caller still owns it. */
    public static QuantizedCheckpointReader open(HfCheckpoint checkpoint) {
        return new QuantizedCheckpointReader(checkpoint);
    }

    private void checkMetadata() {
        String expected = Integer.toString(quantization.formatVersion());
        for (SafetensorsFile f : checkpoint.shards()) {
            String v = f.metadata().get(FORMAT_METADATA);
            if (!expected.equals(v)) {
                throw new IllegalArgumentException(f.path().getFileName() + ": __metadata__ " + FORMAT_METADATA + " is "
                        + (v == null ? "missing" : "'" + v + "'") + ", config.json says format " + expected);
            }
        }
    }

    public QuantizationConfig quantization() {
        return quantization;
    }

    public HfCheckpoint checkpoint() {
        return checkpoint;
    }

    /** The stored tensors of the quantized modules (shared ones once), as they are in the files. */
    public Set<String> quantizedTensorNames() {
        return Collections.unmodifiableSet(owned);
    }

    /** Reads and validates one quantized module. */
    public QuantizedTensor layer(String module) {
        LayerConfig config = quantization.modules().get(module);
        if (config == null) throw new NoSuchElementException("no quantized module '" + module + "'");
        return QuantizedTensor.fromTensors(module, n -> checkpoint.contains(n) ? checkpoint.tensor(n) : null, config);
    }

    /**
     * Checks the modules' shapes against what the model expects before anything is dequantized (a hostile config
     * cannot make the loader allocate more than the model's own weights).
     */
    public void checkShapes(List<TensorSpec> expected) {
        for (TensorSpec s : expected) {
            String module = weightOf.get(s.name());
            if (module == null) continue;
            LayerConfig c = quantization.modules().get(module);
            if (!Arrays.equals(s.shape(), new long[] {c.rows(), c.cols()})) {
                throw new IllegalArgumentException("module '" + module + "' has shape [" + c.rows() + ", " + c.cols()
                        + "], the model expects " + Arrays.toString(s.shape()));
            }
        }
    }

    public QuantizationSummary summary() {
        return QuantizationSummary.of(this);
    }

    // ---- the dense view ----

    @Override
    public Path dir() {
        return checkpoint.dir();
    }

    @Override
    public JsonNode config() {
        return checkpoint.config();
    }

    @Override
    public Set<String> tensorNames() {
        return Collections.unmodifiableSet(denseNames);
    }

    @Override
    public boolean contains(String name) {
        return denseNames.contains(name);
    }

    @Override
    public long[] shape(String name) {
        String module = weightOf.get(name);
        if (module == null) return checkpoint.shape(checkDense(name));
        LayerConfig c = quantization.modules().get(module);
        return new long[] {c.rows(), c.cols()};
    }

    @Override
    public synchronized Tensor tensor(String name) {
        String module = weightOf.get(name);
        if (module == null) return checkpoint.tensor(checkDense(name));
        Tensor t = dequantized.get(name);
        if (t == null) {
            checkFits(module);
            QuantizedTensor q = layer(module);
            t = Tensor.ofFloats(q.dequantize(), q.rows(), q.cols());
            dequantized.put(name, t);
        }
        return t;
    }

    /**
     * A config shape is bounded by the model's own when the family checks it ({@link #checkShapes}); for the others
     * this keeps a hostile shape from ending in an OutOfMemoryError: the f32 copy must fit half the heap.
     */
    private void checkFits(String module) {
        LayerConfig c = quantization.modules().get(module);
        long bytes = 4L * c.rows() * c.cols(), heap = Runtime.getRuntime().maxMemory();
        if (bytes > heap / 2) {
            throw new IllegalArgumentException("module '" + module + "' [" + c.rows() + ", " + c.cols() + "] dequantizes to "
                    + (bytes >> 20) + " MiB, more than half the heap (" + (heap >> 20) + " MiB; raise -Xmx)");
        }
    }

    private String checkDense(String name) {
        if (!denseNames.contains(name)) throw new NoSuchElementException(dir() + ": no tensor named '" + name + "'");
        return name;
    }

    @Override
    public void close() {
        checkpoint.close();
    }

    /** Modules by name with their configs (for listing without reading tensors). */
    Map<String, LayerConfig> modules() {
        return new LinkedHashMap<>(quantization.modules());
    }
}
