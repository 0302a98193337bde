package io.quantmesh.core.quantized;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantmesh.core.Json;
import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.io.Durable;
import io.quantmesh.core.safetensors.SafetensorsWriter;
import io.quantmesh.core.safetensors.TensorInfo;
import io.quantmesh.core.safetensors.TensorSpec;
import io.quantmesh.core.tensor.Tensor;
import io.quantmesh.core.tokenizer.RwkvWorldTokenizer;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Writes a quantized checkpoint directory (docs/FORMAT.md) from a source Hugging Face checkpoint and its quantized
 * linears: config.json with the {@code quantization_config} block, the tokenizer files copied, and the tensors —
 * each quantized {@code P.weight} replaced in place by the layer's tensors under {@code P.}, every other tensor
 * copied byte for byte, in the source's order — in {@code model.safetensors} or, above the shard size, in
 * {@code model-0000i-of-0000n.safetensors} shards with {@code model.safetensors.index.json}. A shareable tensor
 * (codebook, grid) identical to one already written is stored once and named in the later layers'
 * {@code shared_tensors}. The directory is published atomically; the same inputs give byte-identical files.
 */
public final class QuantizedCheckpointWriter {
    /** HF-style shard size: tensors are split across files once they pass it. */
    public static final long DEFAULT_SHARD_BYTES = 4L << 30;
    private static final Set<String> EXTRA_FILES = Set.of("special_tokens_map.json", "added_tokens.json",
            "generation_config.json", "vocab.json", "merges.txt", RwkvWorldTokenizer.VOCAB_FILE);

    /**
     * @param method   the producing algorithm ("rtn", "gptq", "pcdvq", ...), stored as {@code quantization_config.method}
     * @param seed     the producer's seed, or null
     * @param producer free-form facts stored under {@code quantization_config.producer}, or null
     */
    public record Options(String method, Long seed, ObjectNode producer, long maxShardBytes, boolean replaceExisting) {
        public Options {
            if (method == null || method.isBlank()) throw new IllegalArgumentException("method is required");
            if (maxShardBytes < 1) throw new IllegalArgumentException("shard size must be positive");
        }

        public static Options of(String method) {
            return new Options(method, null, null, DEFAULT_SHARD_BYTES, false);
        }

        public Options withSeed(Long s) {
            return new Options(method, s, producer, maxShardBytes, replaceExisting);
        }

        public Options withProducer(ObjectNode p) {
            return new Options(method, seed, p, maxShardBytes, replaceExisting);
        }

        public Options withMaxShardBytes(long b) {
            return new Options(method, seed, producer, b, replaceExisting);
        }

        public Options withReplaceExisting(boolean r) {
            return new Options(method, seed, producer, maxShardBytes, r);
        }
    }

    /** What was written: the safetensors files (in order) and the tensor bytes they hold. */
    public record Written(Path dir, List<String> files, long tensorBytes) {}

    private QuantizedCheckpointWriter() {}

    /** @param layers quantized linears by module name (the tensor {@code NAME.weight} of the source is replaced) */
    public static Written write(Path source, Map<String, ? extends QuantizedTensor> layers, Path target, Options options)
            throws IOException {
        try (HfCheckpoint ck = HfCheckpoint.open(source)) {
            if (ck.config().has(QuantizationConfig.KEY)) {
                throw new IOException(source + ": already has a " + QuantizationConfig.KEY + " (re-quantizing is not supported)");
            }
            Plan plan = Plan.of(ck, layers);
            ObjectNode config = ((ObjectNode) ck.config()).deepCopy();
            config.set(QuantizationConfig.KEY, QuantizationConfig.build(options.method(), options.seed(),
                    options.producer(), plan.configs));
            List<List<Entry>> shards = plan.shards(options.maxShardBytes());
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("format", "pt");
            metadata.put(QuantizedCheckpointReader.FORMAT_METADATA, Integer.toString(QuantizationConfig.FORMAT_VERSION));
            metadata.put("quantmesh.method", options.method());
            List<String> files = new ArrayList<>();
            try (AtomicDirectory dir = AtomicDirectory.create(target)) {
                for (int s = 0; s < shards.size(); s++) {
                    String file = shards.size() == 1 ? HfCheckpoint.SINGLE
                            : String.format("model-%05d-of-%05d.safetensors", s + 1, shards.size());
                    writeShard(dir.dir().resolve(file), shards.get(s), ck, layers, metadata);
                    files.add(file);
                }
                if (shards.size() > 1) Durable.writeAtomically(dir.dir().resolve(HfCheckpoint.INDEX), index(shards, files, metadata));
                copyTokenizerFiles(source, dir.dir());
                Durable.writeAtomically(dir.dir().resolve(HfCheckpoint.CONFIG), json(config));
                dir.publish(options.replaceExisting());
            }
            return new Written(target, files, plan.bytes());
        }
    }

    /** One tensor of the output: copied from the source ({@code module} null) or taken from a quantized layer. */
    private record Entry(String name, TensorSpec spec, String module) {}

    /** The output tensors in order, the layer configs, and the sharing of identical shareable tensors. */
    private static final class Plan {
        final List<Entry> entries = new ArrayList<>();
        final Map<String, LayerConfig> configs = new LinkedHashMap<>();

        static Plan of(HfCheckpoint ck, Map<String, ? extends QuantizedTensor> layers) {
            for (String module : layers.keySet()) {
                TensorInfo info = ck.contains(module + ".weight") ? ck.info(module + ".weight") : null;
                QuantizedTensor q = layers.get(module);
                if (info == null) throw new IllegalArgumentException("source has no tensor '" + module + ".weight' to replace");
                if (!Arrays.equals(info.shape(), new long[] {q.rows(), q.cols()})) {
                    throw new IllegalArgumentException("'" + module + ".weight' is " + Arrays.toString(info.shape())
                            + " but its quantized layer is [" + q.rows() + ", " + q.cols() + "]");
                }
            }
            Plan p = new Plan();
            Map<String, String> firstByContent = new HashMap<>();   // content key -> name of the stored tensor
            Map<String, Tensor> stored = new HashMap<>();
            for (String name : ck.tensorNames()) {
                String module = name.endsWith(".weight") ? name.substring(0, name.length() - ".weight".length()) : null;
                QuantizedTensor q = module == null ? null : layers.get(module);
                if (q == null) {
                    TensorInfo info = ck.info(name);
                    p.entries.add(new Entry(name, new TensorSpec(name, info.dtype(), info.shape()), null));
                    continue;
                }
                LayerConfig config = q.layerConfig();
                List<String> shareable = Representation.of(config).shareableRoles();
                ObjectNode shared = null;
                for (Map.Entry<String, Tensor> e : q.toTensors(module).entrySet()) {
                    String role = e.getKey().substring(module.length() + 1);
                    if (ck.contains(e.getKey())) {
                        throw new IllegalArgumentException("source already has a tensor '" + e.getKey() + "'");
                    }
                    if (shareable.contains(role)) {
                        String key = contentKey(e.getValue());
                        String first = firstByContent.get(key);
                        if (first != null && stored.get(first).segment().mismatch(e.getValue().segment()) == -1) {
                            if (shared == null) shared = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
                            shared.put(role, first);
                            continue;
                        }
                        firstByContent.putIfAbsent(key, e.getKey());
                        stored.put(e.getKey(), e.getValue());
                    }
                    p.entries.add(new Entry(e.getKey(), TensorSpec.of(e.getKey(), e.getValue()), module));
                }
                if (shared != null) {
                    ObjectNode json = config.json();
                    json.set(LayerConfig.SHARED_TENSORS, shared);
                    config = LayerConfig.of(module, json);
                }
                p.configs.put(module, config);
            }
            return p;
        }

        long bytes() {
            long b = 0;
            for (Entry e : entries) b += e.spec.byteSize();
            return b;
        }

        /** Greedy: a shard takes tensors in order until the next would pass the size (a larger tensor goes alone). */
        List<List<Entry>> shards(long maxBytes) {
            List<List<Entry>> out = new ArrayList<>();
            List<Entry> current = new ArrayList<>();
            long size = 0;
            for (Entry e : entries) {
                long b = e.spec.byteSize();
                if (!current.isEmpty() && size + b > maxBytes) {
                    out.add(current);
                    current = new ArrayList<>();
                    size = 0;
                }
                current.add(e);
                size += b;
            }
            out.add(current);
            return out;
        }
    }

    /** dtype, shape and a digest of the bytes: equal keys are then compared byte for byte. */
    private static String contentKey(Tensor t) {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            md.update(t.segment().asByteBuffer());
            return t.dtype() + Arrays.toString(t.shape()) + java.util.HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void writeShard(Path file, List<Entry> entries, HfCheckpoint ck,
            Map<String, ? extends QuantizedTensor> layers, Map<String, String> metadata) throws IOException {
        List<TensorSpec> specs = entries.stream().map(Entry::spec).toList();
        try (SafetensorsWriter w = SafetensorsWriter.open(file, specs, metadata)) {
            String module = null;
            Map<String, Tensor> tensors = null;
            for (Entry e : entries) {
                MemorySegment bytes;
                if (e.module == null) {
                    bytes = ck.tensor(e.name).segment();
                } else {
                    if (!e.module.equals(module)) {   // a layer's tensors are consecutive: build them once
                        module = e.module;
                        tensors = layers.get(module).toTensors(module);
                    }
                    bytes = tensors.get(e.name).segment();
                }
                w.write(e.name, bytes);
            }
            w.commit();
        }
    }

    private static byte[] index(List<List<Entry>> shards, List<String> files, Map<String, String> metadata)
            throws IOException {
        ObjectNode root = Json.mapper().createObjectNode();
        ObjectNode md = root.putObject("metadata");
        long total = 0;
        for (List<Entry> s : shards) for (Entry e : s) total += e.spec.byteSize();
        md.put("total_size", total);
        metadata.forEach(md::put);
        ObjectNode map = root.putObject("weight_map");
        for (int s = 0; s < shards.size(); s++) for (Entry e : shards.get(s)) map.put(e.name, files.get(s));
        return json(root);
    }

    /** Pretty JSON with "\n" line ends on every platform, and a final newline. */
    static byte[] json(JsonNode node) throws IOException {
        DefaultPrettyPrinter pp = new DefaultPrettyPrinter().withObjectIndenter(new DefaultIndenter("  ", "\n"));
        String s = Json.mapper().writer(pp).writeValueAsString(node) + "\n";
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Tokenizer files ({@code tokenizer*}, vocabularies, special tokens, generation config), byte for byte. */
    private static void copyTokenizerFiles(Path source, Path dir) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(source)) {
            files = s.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith("tokenizer") || EXTRA_FILES.contains(n);
            }).sorted().toList();
        }
        for (Path f : files) copyDurably(f, dir.resolve(f.getFileName().toString()));
    }

    private static void copyDurably(Path from, Path to) throws IOException {
        try (FileChannel in = FileChannel.open(from, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(to, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long size = in.size();
            for (long pos = 0; pos < size; ) pos += in.transferTo(pos, size - pos, out);
            out.force(true);
        }
    }
}
