package io.quantmesh.core.model.rwkv;

import io.quantmesh.core.tensor.DType;
import io.quantmesh.core.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A memory-mapped rwkv.cpp model file ({@code ggmf} magic, versions 100/101). Layout, all little-endian int32:
 * <pre>
 *   magic 0x67676d66, version, n_vocab, n_embed, n_layer, data_type
 *   repeated until EOF: dim_count, key_length, data_type, dims[dim_count] (ggml order: fastest first), key, data
 * </pre>
 * Every count and size is checked against the file length before anything is allocated, so a hostile file fails
 * with a message instead of an OutOfMemoryError. Only FP32 and FP16 tensors are supported (the quantized ggml
 * block formats are rejected by name). Tensor shapes are reported in PyTorch order (the dims reversed).
 */
public final class RwkvCppFile implements AutoCloseable {
    public static final int MAGIC = 0x67676d66;
    static final int HEADER_BYTES = 24;
    private static final int MAX_DIMS = 4;
    private static final int MAX_KEY = 1024;
    private static final int MAX_TENSORS = 1 << 20;
    private static final String[] TYPE_NAMES = {"FP32", "FP16", "Q4_0", "Q4_1", "Q4_1_O", "Q4_2", "Q4_3", "Q5_0", "Q5_1", "Q8_0"};

    /** The file header; {@code dataType} is the type of most parameters (informational). */
    public record Header(int version, int vocabSize, int embedSize, int layerCount, int dataType) {}

    /** One tensor: name, element type, PyTorch-order shape, and where its bytes lie in the file. */
    public record Entry(String name, DType dtype, long[] shape, long offset, long byteSize) {
        public Entry {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }
    }

    private final Path path;
    private final Arena arena;
    private final MemorySegment map;
    private final Header header;
    private final Map<String, Entry> entries;

    private RwkvCppFile(Path path, Arena arena, MemorySegment map, Header header, Map<String, Entry> entries) {
        this.path = path;
        this.arena = arena;
        this.map = map;
        this.header = header;
        this.entries = entries;
    }

    /** Returns true when {@code file} starts with the rwkv.cpp magic (cheap sniffing for format detection). */
    public static boolean looksLike(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining() && ch.read(b) >= 0) {
                // keep reading until 4 bytes or EOF
            }
            return b.position() == 4 && b.getInt(0) == MAGIC;
        } catch (IOException e) {
            return false;
        }
    }

    public static RwkvCppFile open(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < HEADER_BYTES) throw fail(file, "too short for an rwkv.cpp header (" + size + " bytes)");
            MemorySegment map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            Header header = readHeader(file, map);
            Map<String, Entry> entries = readEntries(file, map, size);
            return new RwkvCppFile(file, arena, map, header, Collections.unmodifiableMap(entries));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Header readHeader(Path file, MemorySegment m) throws IOException {
        int magic = i32(m, 0);
        if (magic != MAGIC) {
            if (magic == Integer.reverseBytes(MAGIC)) throw fail(file, "big-endian rwkv.cpp files are not supported");
            throw fail(file, String.format("not an rwkv.cpp model (magic 0x%08x, expected 0x%08x 'ggmf')", magic, MAGIC));
        }
        int version = i32(m, 4);
        if (version != 100 && version != 101) throw fail(file, "unsupported rwkv.cpp file version " + version + " (100, 101)");
        int vocab = i32(m, 8), embed = i32(m, 12), layers = i32(m, 16), type = i32(m, 20);
        if (vocab <= 0 || vocab > (1 << 24)) throw fail(file, "n_vocab out of range: " + vocab);
        if (embed <= 0 || embed > (1 << 20)) throw fail(file, "n_embed out of range: " + embed);
        if (layers <= 0 || layers > (1 << 16)) throw fail(file, "n_layer out of range: " + layers);
        if (type < 0 || type >= TYPE_NAMES.length) throw fail(file, "unknown header data type " + type);
        return new Header(version, vocab, embed, layers, type);
    }

    private static Map<String, Entry> readEntries(Path file, MemorySegment m, long size) throws IOException {
        Map<String, Entry> out = new LinkedHashMap<>();
        long at = HEADER_BYTES;
        while (at < size) {
            if (out.size() >= MAX_TENSORS) throw fail(file, "more than " + MAX_TENSORS + " tensors");
            if (size - at < 12) throw fail(file, "truncated tensor header at offset " + at);
            int dims = i32(m, at), keyLen = i32(m, at + 4), type = i32(m, at + 8);
            at += 12;
            if (dims < 1 || dims > MAX_DIMS) throw fail(file, "tensor at offset " + (at - 12) + ": bad dim_count " + dims);
            if (keyLen < 1 || keyLen > MAX_KEY) throw fail(file, "tensor at offset " + (at - 12) + ": bad key_length " + keyLen);
            DType dtype = switch (type) {
                case 0 -> DType.F32;
                case 1 -> DType.F16;
                default -> throw fail(file, "tensor at offset " + (at - 12) + ": "
                        + (type > 1 && type < TYPE_NAMES.length
                        ? "quantized type " + TYPE_NAMES[type] + " is not supported (use an FP32 or FP16 file)"
                        : "unknown data type " + type));
            };
            if (size - at < 4L * dims) throw fail(file, "truncated dims at offset " + at);
            long[] shape = new long[dims];
            long numel = 1;
            for (int d = 0; d < dims; d++) {
                int n = i32(m, at + 4L * d);
                if (n <= 0) throw fail(file, "tensor at offset " + (at - 12) + ": dimension " + n);
                shape[dims - 1 - d] = n; // ggml lists the fastest-varying dimension first
                if (numel > size / n) throw fail(file, "tensor at offset " + (at - 12) + ": dimensions exceed the file");
                numel *= n;
            }
            at += 4L * dims;
            if (size - at < keyLen) throw fail(file, "truncated key at offset " + at);
            String name = utf8(file, m.asSlice(at, keyLen).toArray(ValueLayout.JAVA_BYTE), at);
            at += keyLen;
            long bytes = numel * dtype.byteSize(); // numel <= file size, so no overflow
            if (bytes > size - at) {
                throw fail(file, "tensor " + name + " " + Arrays.toString(shape) + " needs " + bytes + " bytes at offset "
                        + at + ", only " + (size - at) + " left");
            }
            if (out.containsKey(name)) throw fail(file, "duplicate tensor " + name);
            out.put(name, new Entry(name, dtype, shape, at, bytes));
            at += bytes;
        }
        return out;
    }

    private static String utf8(Path file, byte[] b, long at) throws IOException {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw fail(file, "tensor key at offset " + at + " is not UTF-8");
        }
    }

    private static int i32(MemorySegment m, long at) {
        return m.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), at);
    }

    private static IOException fail(Path file, String msg) {
        return new IOException(file + ": " + msg);
    }

    public Path path() {
        return path;
    }

    public Header header() {
        return header;
    }

    /** Tensors in file order. */
    public List<Entry> entries() {
        return new ArrayList<>(entries.values());
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** A zero-copy view of a tensor's data, valid until {@link #close()}. */
    public Tensor tensor(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new IllegalArgumentException(path + ": no tensor named " + name);
        return new Tensor(e.dtype(), e.shape(), map.asSlice(e.offset(), e.byteSize()));
    }

    @Override
    public void close() {
        arena.close();
    }
}
