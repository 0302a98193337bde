package io.quantmesh.core.safetensors;

import io.quantmesh.core.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * A memory-mapped, validated safetensors file. Layout: u64 little-endian header length N, N bytes of UTF-8 JSON,
 * then the data section. Tensors are zero-copy views into the mapping, valid until {@link #close()}.
 */
public final class SafetensorsFile implements AutoCloseable {
    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final SafetensorsHeader header;
    private final Map<String, TensorInfo> byName = new LinkedHashMap<>();

    private SafetensorsFile(Path path, Arena arena, MemorySegment data, SafetensorsHeader header) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.header = header;
        for (TensorInfo t : header.tensors()) byName.put(t.name(), t);
    }

    public static SafetensorsFile open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new java.io.FileNotFoundException(file + ": no such safetensors file");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new SafetensorsFormatException(file, "file is " + size
                        + " bytes, too short for the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.getLong(0);
            SafetensorsHeader.checkHeaderLength(file, headerLen, size);   // before allocating anything sized by it
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8);
            long dataStart = 8 + headerLen;
            SafetensorsHeader header = SafetensorsHeader.parse(file, hb.array(), size - dataStart);
            Arena arena = Arena.ofShared();
            try {
                MemorySegment data = size == dataStart
                        ? MemorySegment.ofArray(new byte[0])
                        : ch.map(FileChannel.MapMode.READ_ONLY, dataStart, size - dataStart, arena);
                return new SafetensorsFile(file, arena, data, header);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) throw new IOException("unexpected end of file");
        }
    }

    public Path path() {
        return path;
    }

    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** Header entries in file order. */
    public List<TensorInfo> tensors() {
        return header.tensors();
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    public TensorInfo info(String name) {
        TensorInfo t = byName.get(name);
        if (t == null) throw new NoSuchElementException(path + ": no tensor named '" + name + "'");
        return t;
    }

    /** Zero-copy view of a tensor; valid until this file is closed. */
    public Tensor tensor(String name) {
        TensorInfo t = info(name);
        return new Tensor(t.dtype(), t.shape(), data.asSlice(t.begin(), t.byteSize()));
    }

    /** Raw bytes of one tensor (for hashing and copying). */
    public MemorySegment bytes(String name) {
        TensorInfo t = info(name);
        return data.asSlice(t.begin(), t.byteSize());
    }

    static byte[] readBytes(MemorySegment seg) {
        return seg.toArray(ValueLayout.JAVA_BYTE);
    }

    @Override
    public void close() {
        arena.close();
    }
}
