package io.quantmesh.core.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import io.quantmesh.core.Json;
import io.quantmesh.core.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses and validates a safetensors JSON header against the size of the data section that follows it.
 * Nothing in a header is trusted: each rule has its own message so a user can tell what is wrong with a file.
 */
public final class SafetensorsHeader {
    /** The reference implementation's limit; real headers are kilobytes to a few megabytes. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    static final int MAX_RANK = 16;

    private final Map<String, String> metadata;
    private final List<TensorInfo> tensors;

    private SafetensorsHeader(Map<String, String> metadata, List<TensorInfo> tensors) {
        this.metadata = metadata;
        this.tensors = tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** Entries in file (offset) order. */
    public List<TensorInfo> tensors() {
        return tensors;
    }

    /** Checks the 8-byte length prefix before anything is read or allocated. */
    static void checkHeaderLength(Path file, long headerLen, long fileSize) throws SafetensorsFormatException {
        if (headerLen < 0 || headerLen > MAX_HEADER_BYTES) {   // u64 on disk: negative means above 2^63
            throw new SafetensorsFormatException(file, "header length " + Long.toUnsignedString(headerLen)
                    + " bytes exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (headerLen < 2) {
            throw new SafetensorsFormatException(file, "header length " + headerLen + " is too small to hold a JSON object");
        }
        if (8 + headerLen > fileSize) {
            throw new SafetensorsFormatException(file, "header length " + headerLen + " runs past the end of the file ("
                    + fileSize + " bytes)");
        }
    }

    static SafetensorsHeader parse(Path file, byte[] headerBytes, long dataSize) throws SafetensorsFormatException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(headerBytes)).toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsFormatException(file, "header is not valid UTF-8");
        }
        if (text.isEmpty() || text.charAt(0) != '{') {
            throw new SafetensorsFormatException(file, "header does not start with '{' (not a safetensors file?)");
        }
        JsonNode root;
        try {
            root = Json.mapper().readTree(text);
        } catch (JacksonException e) {
            throw new SafetensorsFormatException(file, "header is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsFormatException(file, "header JSON is not an object");
        }
        Map<String, String> metadata = Map.of();
        List<TensorInfo> tensors = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                metadata = parseMetadata(file, e.getValue());
            } else {
                tensors.add(parseEntry(file, e.getKey(), e.getValue(), dataSize));
            }
        }
        checkLayout(file, tensors, dataSize);
        return new SafetensorsHeader(metadata, Collections.unmodifiableList(tensors));
    }

    private static Map<String, String> parseMetadata(Path file, JsonNode node) throws SafetensorsFormatException {
        if (!node.isObject()) throw new SafetensorsFormatException(file, "__metadata__ is not an object");
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new SafetensorsFormatException(file, "__metadata__ value of '" + e.getKey() + "' is not a string");
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return Collections.unmodifiableMap(out);
    }

    private static TensorInfo parseEntry(Path file, String name, JsonNode node, long dataSize)
            throws SafetensorsFormatException {
        String where = "tensor '" + name + "'";
        if (name.isEmpty()) throw new SafetensorsFormatException(file, "a tensor has an empty name");
        if (!node.isObject()) throw new SafetensorsFormatException(file, where + " is not a JSON object");
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals("dtype") && !k.equals("shape") && !k.equals("data_offsets")) {
                throw new SafetensorsFormatException(file, where + " has unknown field '" + k + "'");
            }
        }
        JsonNode dt = node.get("dtype");
        if (dt == null || !dt.isTextual()) throw new SafetensorsFormatException(file, where + " has no string 'dtype'");
        DType dtype = DType.fromSafetensors(dt.textValue());
        if (dtype == null || !dt.textValue().equals(dtype.safetensorsName())) {
            throw new SafetensorsFormatException(file, where + " has unknown dtype '" + dt.textValue() + "'");
        }
        long[] shape = parseShape(file, where, node.get("shape"));
        long[] offsets = parseOffsets(file, where, node.get("data_offsets"));
        long expected = byteSizeWithin(shape, dtype, dataSize);
        if (expected < 0) {
            throw new SafetensorsFormatException(file, where + " shape " + java.util.Arrays.toString(shape)
                    + " is larger than the whole data section (" + dataSize + " bytes)");
        }
        if (offsets[1] > dataSize) {
            throw new SafetensorsFormatException(file, where + " byte range [" + offsets[0] + ", " + offsets[1]
                    + ") lies outside the data section (" + dataSize + " bytes)");
        }
        if (offsets[1] - offsets[0] != expected) {
            throw new SafetensorsFormatException(file, where + " byte range holds " + (offsets[1] - offsets[0])
                    + " bytes but " + dtype + java.util.Arrays.toString(shape) + " needs " + expected);
        }
        return new TensorInfo(name, dtype, shape, offsets[0], offsets[1]);
    }

    /** shape × dtype size in bytes, or -1 when it exceeds {@code limit} (checked without overflow). */
    static long byteSizeWithin(long[] shape, DType dtype, long limit) {
        for (long d : shape) if (d == 0) return 0;
        long bytes = dtype.byteSize();
        for (long d : shape) {
            if (bytes > limit / d) return -1;
            bytes *= d;
        }
        return bytes <= limit ? bytes : -1;
    }

    private static long[] parseShape(Path file, String where, JsonNode s) throws SafetensorsFormatException {
        if (s == null || !s.isArray()) throw new SafetensorsFormatException(file, where + " has no array 'shape'");
        if (s.size() > MAX_RANK) {
            throw new SafetensorsFormatException(file, where + " has rank " + s.size() + " (limit " + MAX_RANK + ")");
        }
        long[] shape = new long[s.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = s.get(i);
            if (!d.canConvertToExactIntegral() || !d.canConvertToLong() || d.asLong() < 0) {
                throw new SafetensorsFormatException(file, where + " shape has an invalid dimension '" + d + "'");
            }
            shape[i] = d.asLong();
        }
        return shape;
    }

    private static long[] parseOffsets(Path file, String where, JsonNode o) throws SafetensorsFormatException {
        if (o == null || !o.isArray() || o.size() != 2) {
            throw new SafetensorsFormatException(file, where + " needs 'data_offsets' as [begin, end]");
        }
        long[] r = new long[2];
        for (int i = 0; i < 2; i++) {
            JsonNode d = o.get(i);
            if (!d.canConvertToExactIntegral() || !d.canConvertToLong() || d.asLong() < 0) {
                throw new SafetensorsFormatException(file, where + " has an invalid data offset '" + d + "'");
            }
            r[i] = d.asLong();
        }
        if (r[0] > r[1]) {
            throw new SafetensorsFormatException(file, where + " data_offsets begin " + r[0] + " > end " + r[1]);
        }
        return r;
    }

    /** Ranges must tile the data section exactly: no overlap (aliasing), no holes, nothing left over. */
    private static void checkLayout(Path file, List<TensorInfo> tensors, long dataSize)
            throws SafetensorsFormatException {
        tensors.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long cursor = 0;
        TensorInfo prev = null;
        for (TensorInfo t : tensors) {
            if (t.begin() < cursor) {
                throw new SafetensorsFormatException(file, "tensors '" + prev.name() + "' and '" + t.name()
                        + "' overlap in the data section");
            }
            if (t.begin() > cursor) {
                throw new SafetensorsFormatException(file, "data section has " + (t.begin() - cursor)
                        + " unused bytes before tensor '" + t.name() + "'");
            }
            cursor = t.end();
            prev = t;
        }
        if (cursor != dataSize) {
            throw new SafetensorsFormatException(file, "data section has " + (dataSize - cursor)
                    + " trailing bytes not covered by any tensor");
        }
    }
}
