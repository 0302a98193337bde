package io.quantmesh.core.safetensors;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantmesh.core.Json;
import io.quantmesh.core.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import io.quantmesh.core.io.Durable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Streams a safetensors file: the header (all names, dtypes, shapes) is written first, then each tensor's bytes in
 * declared order, so multi-GB checkpoints never sit in the heap. The file appears at its final path only on
 * {@link #commit()} (temp file in the same directory, fsync, atomic rename, directory fsync); a writer closed
 * without commit leaves nothing behind.
 */
public final class SafetensorsWriter implements AutoCloseable {
    private static final int CHUNK = 8 << 20;

    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private final List<TensorSpec> specs;
    private int next;
    private boolean committed;

    private SafetensorsWriter(Path target, Path temp, FileChannel channel, List<TensorSpec> specs) {
        this.target = target;
        this.temp = temp;
        this.channel = channel;
        this.specs = specs;
    }

    /** Writes all tensors (in the map's iteration order) and commits. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        List<TensorSpec> specs = new ArrayList<>();
        tensors.forEach((name, t) -> specs.add(TensorSpec.of(name, t)));
        try (SafetensorsWriter w = open(file, specs, metadata)) {
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) w.write(e.getKey(), e.getValue());
            w.commit();
        }
    }

    public static SafetensorsWriter open(Path file, List<TensorSpec> specs, Map<String, String> metadata)
            throws IOException {
        byte[] header = header(specs, metadata);
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp");
        FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        try {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            writeFully(ch, len);
            writeFully(ch, ByteBuffer.wrap(header));
        } catch (IOException e) {
            ch.close();
            Files.deleteIfExists(temp);
            throw e;
        }
        return new SafetensorsWriter(file, temp, ch, List.copyOf(specs));
    }

    /** Header JSON: {@code __metadata__} first, then entries in spec order, padded with spaces to 8 bytes. */
    static byte[] header(List<TensorSpec> specs, Map<String, String> metadata) throws IOException {
        ObjectNode root = Json.mapper().createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode md = root.putObject("__metadata__");
            metadata.forEach(md::put);
        }
        Set<String> seen = new HashSet<>();
        long offset = 0;
        for (TensorSpec s : specs) {
            if (s.name().equals("__metadata__") || s.name().isEmpty() || !seen.add(s.name())) {
                throw new IllegalArgumentException("invalid or duplicate tensor name '" + s.name() + "'");
            }
            ObjectNode e = root.putObject(s.name());
            e.put("dtype", s.dtype().safetensorsName());
            ArrayNode shape = e.putArray("shape");
            for (long d : s.shape()) shape.add(d);
            long end = offset + s.byteSize();
            e.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = Json.mapper().writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                .writeValueAsBytes(root);
        int padded = (json.length + 7) & ~7;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    public void write(String name, Tensor t) throws IOException {
        TensorSpec s = expect(name);
        if (t.dtype() != s.dtype() || !Arrays.equals(t.shape(), s.shape())) {
            throw new IllegalArgumentException("tensor '" + name + "' is " + t + " but was declared "
                    + s.dtype() + Arrays.toString(s.shape()));
        }
        writeSegment(t.segment());
        next++;
    }

    /** Writes the raw little-endian bytes of the next declared tensor. */
    public void write(String name, MemorySegment bytes) throws IOException {
        TensorSpec s = expect(name);
        if (bytes.byteSize() != s.byteSize()) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + bytes.byteSize() + " bytes, declared "
                    + s.byteSize());
        }
        writeSegment(bytes);
        next++;
    }

    private TensorSpec expect(String name) {
        if (committed) throw new IllegalStateException("writer already committed");
        if (next >= specs.size()) throw new IllegalStateException("all declared tensors were already written");
        TensorSpec s = specs.get(next);
        if (!s.name().equals(name)) {
            throw new IllegalStateException("expected tensor '" + s.name() + "' next, got '" + name + "'");
        }
        return s;
    }

    private void writeSegment(MemorySegment seg) throws IOException {
        for (long off = 0; off < seg.byteSize(); off += CHUNK) {
            long n = Math.min(CHUNK, seg.byteSize() - off);
            writeFully(channel, seg.asSlice(off, n).asByteBuffer());
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }

    /** Makes the file durable and visible at its final path. */
    public void commit() throws IOException {
        if (next != specs.size()) {
            throw new IllegalStateException("only " + next + " of " + specs.size() + " declared tensors were written");
        }
        channel.force(true);
        channel.close();
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        committed = true;
        Durable.fsyncDirectory(target.toAbsolutePath().getParent());
    }

    @Override
    public void close() throws IOException {
        if (!committed) {
            channel.close();
            Files.deleteIfExists(temp);
        }
    }
}
