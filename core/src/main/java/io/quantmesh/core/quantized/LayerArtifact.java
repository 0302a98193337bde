package io.quantmesh.core.quantized;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantmesh.core.Json;
import io.quantmesh.core.safetensors.SafetensorsFile;
import io.quantmesh.core.safetensors.SafetensorsWriter;
import io.quantmesh.core.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One quantized layer as a standalone safetensors file: the quantized tensors of {@link QuantizedTensor#toTensors}
 * under {@value #PREFIX}{@code .}, its {@link LayerConfig} as JSON in {@code __metadata__}. This is what a quant
 * worker hands the assembler through the artifact store (docs/FORMAT.md §6a); reading it back gives an
 * equal record, so an assembled checkpoint is byte-identical to one written in a single process.
 */
public final class LayerArtifact {
    public static final String PREFIX = "layer";
    public static final String FORMAT = "quantmesh.layer.v1";
    static final String CONFIG_KEY = "layer_config";
    static final String FORMAT_KEY = "format";

    private LayerArtifact() {}

    /** Writes atomically (temp + fsync + rename); {@code extra} metadata (e.g. module, proxy loss) is kept as given. */
    public static void write(Path file, QuantizedTensor layer, Map<String, String> extra) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(extra);
        meta.put(FORMAT_KEY, FORMAT);
        meta.put(CONFIG_KEY, Json.mapper().writeValueAsString(layer.layerConfig().json()));
        SafetensorsWriter.write(file, layer.toTensors(PREFIX), meta);
    }

    /** The layer and its metadata; every tensor is copied out of the mapping before the file is closed. */
    public record Read(QuantizedTensor layer, Map<String, String> metadata) {}

    public static Read read(Path file, String module) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, String> meta = f.metadata();
            if (!FORMAT.equals(meta.get(FORMAT_KEY)) || !meta.containsKey(CONFIG_KEY)) {
                throw new IllegalArgumentException(file + " is not a " + FORMAT + " layer artifact");
            }
            ObjectNode config;
            try {
                config = (ObjectNode) Json.mapper().readTree(meta.get(CONFIG_KEY));
            } catch (IOException | ClassCastException e) {
                throw new IllegalArgumentException(file + ": layer_config is not a JSON object");
            }
            Map<String, Tensor> copies = new LinkedHashMap<>();
            for (var info : f.tensors()) {
                Tensor mapped = f.tensor(info.name());
                Tensor copy = Tensor.zeros(mapped.dtype(), mapped.shape());
                copy.segment().copyFrom(mapped.segment());
                copies.put(info.name(), copy);
            }
            QuantizedTensor layer = QuantizedTensor.fromTensors(PREFIX, copies::get, LayerConfig.of(module, config));
            return new Read(layer, Map.copyOf(meta));
        }
    }
}
