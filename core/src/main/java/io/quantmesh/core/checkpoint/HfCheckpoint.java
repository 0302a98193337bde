package io.quantmesh.core.checkpoint;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import io.quantmesh.core.Json;
import io.quantmesh.core.safetensors.SafetensorsFile;
import io.quantmesh.core.safetensors.TensorInfo;
import io.quantmesh.core.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * A Hugging Face-layout checkpoint directory: {@code config.json} plus either {@code model.safetensors} or the
 * shards named by {@code model.safetensors.index.json}. Every shard is memory-mapped and validated on open.
 */
public final class HfCheckpoint implements TensorSource {
    public static final String CONFIG = "config.json";
    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";
    private static final long MAX_JSON_BYTES = 64L << 20;

    private final Path dir;
    private final JsonNode config;
    private final List<SafetensorsFile> shards;
    private final Map<String, SafetensorsFile> owner;

    private HfCheckpoint(Path dir, JsonNode config, List<SafetensorsFile> shards, Map<String, SafetensorsFile> owner) {
        this.dir = dir;
        this.config = config;
        this.shards = shards;
        this.owner = owner;
    }

    public static HfCheckpoint open(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new IOException(dir + ": not a checkpoint directory");
        JsonNode config = readJson(dir.resolve(CONFIG));
        List<SafetensorsFile> shards = new ArrayList<>();
        Map<String, SafetensorsFile> owner = new LinkedHashMap<>();
        try {
            if (Files.isRegularFile(dir.resolve(INDEX))) {
                openSharded(dir, shards, owner);
            } else if (Files.isRegularFile(dir.resolve(SINGLE))) {
                SafetensorsFile f = SafetensorsFile.open(dir.resolve(SINGLE));
                shards.add(f);
                for (TensorInfo t : f.tensors()) owner.put(t.name(), f);
            } else {
                throw new IOException(dir + ": neither " + SINGLE + " nor " + INDEX + " found");
            }
        } catch (IOException | RuntimeException e) {
            shards.forEach(SafetensorsFile::close);
            throw e;
        }
        return new HfCheckpoint(dir, config, Collections.unmodifiableList(shards), owner);
    }

    private static void openSharded(Path dir, List<SafetensorsFile> shards, Map<String, SafetensorsFile> owner)
            throws IOException {
        JsonNode index = readJson(dir.resolve(INDEX));
        JsonNode map = index.get("weight_map");
        if (map == null || !map.isObject()) throw new IOException(dir.resolve(INDEX) + ": no 'weight_map' object");
        Map<String, SafetensorsFile> byFile = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String file = e.getValue().asText("");
            // Shard names come from an untrusted index: they must be plain file names inside the directory.
            if (!file.endsWith(".safetensors") || file.contains("/") || file.contains("\\") || file.startsWith(".")) {
                throw new IOException(dir.resolve(INDEX) + ": tensor '" + e.getKey() + "' maps to invalid shard '"
                        + file + "'");
            }
            SafetensorsFile shard = byFile.get(file);
            if (shard == null) {
                shard = SafetensorsFile.open(dir.resolve(file));
                byFile.put(file, shard);
                shards.add(shard);
            }
            if (!shard.contains(e.getKey())) {
                throw new IOException(dir.resolve(INDEX) + ": tensor '" + e.getKey() + "' is not in shard " + file);
            }
            owner.put(e.getKey(), shard);
        }
    }

    static JsonNode readJson(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException(file + ": missing");
        if (Files.size(file) > MAX_JSON_BYTES) throw new IOException(file + ": larger than " + MAX_JSON_BYTES + " bytes");
        try {
            JsonNode n = Json.mapper().readTree(Files.readAllBytes(file));
            if (n == null || !n.isObject()) throw new IOException(file + ": not a JSON object");
            return n;
        } catch (JacksonException e) {
            throw new IOException(file + ": invalid JSON: " + e.getOriginalMessage());
        }
    }

    @Override
    public Path dir() {
        return dir;
    }

    @Override
    public JsonNode config() {
        return config;
    }

    @Override
    public boolean contains(String name) {
        return owner.containsKey(name);
    }

    /** Tensor names in shard/file order. */
    @Override
    public Set<String> tensorNames() {
        return Collections.unmodifiableSet(new LinkedHashSet<>(owner.keySet()));
    }

    public TensorInfo info(String name) {
        return shard(name).info(name);
    }

    @Override
    public long[] shape(String name) {
        return info(name).shape();
    }

    @Override
    public Tensor tensor(String name) {
        return shard(name).tensor(name);
    }

    /** {@code __metadata__} of the first shard (quantmesh writes the same block into every shard). */
    public Map<String, String> metadata() {
        return shards.getFirst().metadata();
    }

    public List<SafetensorsFile> shards() {
        return shards;
    }

    private SafetensorsFile shard(String name) {
        SafetensorsFile f = owner.get(name);
        if (f == null) throw new NoSuchElementException(dir + ": no tensor named '" + name + "'");
        return f;
    }

    @Override
    public void close() {
        shards.forEach(SafetensorsFile::close);
    }
}
