package io.quantmesh.core.model.rwkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantmesh.core.tensor.DType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rwkv.cpp file reader on the real files and on hostile ones (clear errors, never an OOM). */
class RwkvCppFileTest {
    @TempDir
    Path dir;

    @Test
    void readsTheTinyModels() throws IOException {
        try (RwkvCppFile f = RwkvCppFile.open(TinyRwkv.file(TinyRwkv.V7))) {
            assertEquals(new RwkvCppFile.Header(101, 256, 64, 12, 0), f.header());
            RwkvCppFile.Entry emb = f.entries().getFirst();
            assertEquals("emb.weight", emb.name());
            assertEquals(DType.F32, emb.dtype());
            assertArrayEquals(new long[] {256, 64}, emb.shape()); // PyTorch order (ggml lists 64, 256)
            assertArrayEquals(new long[] {6, 1, 64}, f.tensor("blocks.0.att.x_rwkvag").shape());
        }
        assertEquals(RwkvVersion.V5_1, TinyRwkv.weights(TinyRwkv.V5_1).version());
        assertEquals(RwkvVersion.V5_2, TinyRwkv.weights(TinyRwkv.V5_2).version());
        RwkvConfig v7 = TinyRwkv.weights(TinyRwkv.V7).config();
        assertEquals(new RwkvConfig(RwkvVersion.V7, 256, 64, 12, 64, 256, new RwkvConfig.LowRank(0, 32, 32, 32, 32),
                1e-5, 64e-5), v7);
        assertEquals(8, TinyRwkv.weights(TinyRwkv.V5_2).config().headSize());
        assertTrue(RwkvCppFile.looksLike(TinyRwkv.file(TinyRwkv.V5_1)));
    }

    /** Undoing rwkv.cpp's exp(-exp(.)) and re-applying it gives back the stored decays. */
    @Test
    void decayInversionRoundTrips() throws IOException {
        RwkvWeights w = TinyRwkv.weights(TinyRwkv.V5_2);
        try (RwkvCppFile f = RwkvCppFile.open(TinyRwkv.file(TinyRwkv.V5_2))) {
            float[] stored = f.tensor("blocks.3.att.time_decay").toFloatArray();
            float[] raw = w.floats("blocks.3.att.time_decay");
            for (int i = 0; i < raw.length; i++) assertEquals(stored[i], RwkvMath.decay(raw[i]), Math.ulp(stored[i]));
        }
        assertEquals(-30f, RwkvCppImport.rawDecay("d", 1f));
        assertEquals(0f, RwkvMath.decay(RwkvCppImport.rawDecay("d", 0f)));
        assertEquals(1f, RwkvMath.decay(RwkvCppImport.rawDecay("d", 1f)));
        assertThrows(IllegalArgumentException.class, () -> RwkvCppImport.rawDecay("d", 1.5f));
    }

    private static byte[] header(int magic, int version, int vocab, int embed, int layers, int type) {
        return ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(magic).putInt(version).putInt(vocab).putInt(embed).putInt(layers).putInt(type).array();
    }

    private static byte[] tensor(int dims, int keyLen, int type, int[] shape, String key, int dataBytes) {
        ByteBuffer b = ByteBuffer.allocate(12 + 4 * shape.length + key.length() + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(dims).putInt(keyLen).putInt(type);
        for (int d : shape) b.putInt(d);
        b.put(key.getBytes(StandardCharsets.UTF_8));
        return b.array();
    }

    private void fails(String expected, byte[]... parts) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.write(p);
        Path f = dir.resolve("bad.bin");
        Files.write(f, out.toByteArray());
        IOException e = assertThrows(IOException.class, () -> RwkvCppImport.load(f));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    @Test
    void hostileFilesFailClearly() throws IOException {
        byte[] ok = header(RwkvCppFile.MAGIC, 101, 256, 64, 12, 0);
        fails("too short", new byte[7]);
        fails("not an rwkv.cpp model", header(0x12345678, 101, 256, 64, 12, 0));
        fails("big-endian", header(Integer.reverseBytes(RwkvCppFile.MAGIC), 101, 256, 64, 12, 0));
        fails("version 7", header(RwkvCppFile.MAGIC, 7, 256, 64, 12, 0));
        fails("n_vocab", header(RwkvCppFile.MAGIC, 101, -1, 64, 12, 0));
        fails("n_layer", header(RwkvCppFile.MAGIC, 101, 256, 64, 1 << 30, 0));
        // A tensor claiming 2^31 x 2^31 floats in a tiny file: rejected before any allocation.
        fails("exceed the file", ok, tensor(2, 1, 0, new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE}, "e", 0));
        fails("needs 40 bytes", ok, tensor(1, 10, 0, new int[] {10}, "emb.weight", 8));
        fails("exceed the file", ok, tensor(2, 10, 0, new int[] {64, 256}, "emb.weight", 100));
        fails("dim_count 9", ok, tensor(9, 1, 0, new int[] {1}, "e", 4));
        fails("key_length", ok, tensor(1, 1 << 20, 0, new int[] {1}, "e", 4));
        fails("dimension -5", ok, tensor(1, 1, 0, new int[] {-5}, "e", 4));
        fails("Q5_1 is not supported", ok, tensor(1, 1, 8, new int[] {32}, "e", 24));
        fails("unknown data type 77", ok, tensor(1, 1, 77, new int[] {1}, "e", 4));
        fails("duplicate tensor e", ok, tensor(1, 1, 0, new int[] {1}, "e", 4), tensor(1, 1, 0, new int[] {1}, "e", 4));
        fails("truncated tensor header", ok, new byte[5]);
        // Well-formed container, but not an RWKV v5+ model.
        fails("v4", ok, tensor(1, 1, 0, new int[] {1}, "e", 4));
        Files.write(dir.resolve("text.bin"), "hello".getBytes(StandardCharsets.UTF_8));
        assertFalse(RwkvCppFile.looksLike(dir.resolve("text.bin")));
        assertFalse(RwkvCppFile.looksLike(dir.resolve("missing.bin")));
    }

    /** The FP16 variant rwkv.cpp's converter writes (matrices in FP16, vectors kept FP32) loads and runs. */
    @Test
    void readsFp16Matrices() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (RwkvCppFile f = RwkvCppFile.open(TinyRwkv.file(TinyRwkv.V5_2))) {
            RwkvCppFile.Header h = f.header();
            out.write(header(RwkvCppFile.MAGIC, 101, h.vocabSize(), h.embedSize(), h.layerCount(), 1));
            for (RwkvCppFile.Entry e : f.entries()) {
                long[] shape = e.shape();
                boolean half = shape.length == 2;
                float[] v = f.tensor(e.name()).toFloatArray();
                int[] ggml = new int[shape.length];
                for (int d = 0; d < shape.length; d++) ggml[d] = (int) shape[shape.length - 1 - d];
                ByteBuffer data = ByteBuffer.allocate(v.length * (half ? 2 : 4)).order(ByteOrder.LITTLE_ENDIAN);
                for (float x : v) {
                    if (half) data.putShort(Float.floatToFloat16(x));
                    else data.putFloat(x);
                }
                byte[] t = tensor(shape.length, e.name().length(), half ? 1 : 0, ggml, e.name(), 0);
                out.write(t);
                out.write(data.array());
            }
        }
        Path fp16 = dir.resolve("tiny-fp16.bin");
        Files.write(fp16, out.toByteArray());
        try (RwkvCppFile f = RwkvCppFile.open(fp16)) {
            assertEquals(DType.F16, f.tensor("blocks.0.att.key.weight").dtype());
        }
        RwkvModel half = RwkvModels.open(fp16);
        double d = TinyRwkv.maxAbsDiff(TinyRwkv.logitsAfter(half, "\"in"), TinyRwkv.expectedLogits(TinyRwkv.V5_2));
        assertTrue(d > 0 && d < 0.05, "FP16 matrices vs FP32 reference: " + d);
    }

    @Test
    void truncatedRealFileFails() throws IOException {
        byte[] real = Files.readAllBytes(TinyRwkv.file(TinyRwkv.V5_1));
        Path cut = dir.resolve("cut.bin");
        Files.write(cut, java.util.Arrays.copyOf(real, real.length - 100));
        IOException e = assertThrows(IOException.class, () -> RwkvCppImport.load(cut));
        assertTrue(e.getMessage().contains("head.weight"), e.getMessage());
    }
}
