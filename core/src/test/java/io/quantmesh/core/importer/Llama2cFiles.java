package io.quantmesh.core.importer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Writes llama2.c checkpoint files for tests (header + fp32 arrays in the order given). */
final class Llama2cFiles {
    private Llama2cFiles() {}

    static void writeV0(Path file, int[] header, List<float[]> arrays) throws IOException {
        write(file, header, arrays, -1);
    }

    static void writeV1(Path file, int[] header, boolean shared, List<float[]> arrays) throws IOException {
        write(file, header, arrays, shared ? 1 : 0);
    }

    private static void write(Path file, int[] header, List<float[]> arrays, int sharedV1) throws IOException {
        long floats = arrays.stream().mapToLong(a -> a.length).sum();
        int head = sharedV1 < 0 ? 28 : 256;
        ByteBuffer b = ByteBuffer.allocate((int) (head + 4 * floats)).order(ByteOrder.LITTLE_ENDIAN);
        if (sharedV1 >= 0) b.putInt(Llama2cCheckpoint.MAGIC).putInt(1);
        for (int h : header) b.putInt(h);
        if (sharedV1 >= 0) {
            b.put((byte) sharedV1);
            b.position(256);
        }
        for (float[] a : arrays) for (float f : a) b.putFloat(f);
        Files.write(file, b.array());
    }

    /** The float arrays of a legacy v0 file, in file order (header excluded). */
    static float[] readAllFloats(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        b.position(28);
        float[] f = new float[b.remaining() / 4];
        b.asFloatBuffer().get(f);
        return f;
    }
}
